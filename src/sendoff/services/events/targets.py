"""Which targets sendoff can deliver to, how a target is checked, and how a matched event
becomes a delivery job for the outbox.

Supported target ARNs and the delivery each becomes (scheme, payload):

* ``arn:aws:sqs:...``                 ``sqs``           ``{"body", "group_id"?}``
* ``arn:aws:sns:...``                 ``sns``           ``{"message"}``
* ``arn:aws:lambda:...:function:..``  ``lambda-event``  ``{"payload", "trace_header"?}``
* ``arn:aws:events:...:event-bus/..`` ``events``        ``{"source", "detail_type",
  "detail", "resources", "time", "hops"}`` (the event is put on that bus)

Any other service is refused per target in PutTargets' ``FailedEntries``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any, Final

from sendoff.model.arn import arn_service, parse_arn
from sendoff.services.events.errors import ValidationFailed
from sendoff.services.events.model import Target
from sendoff.services.events.transform import validate_target_input

LAMBDA_SCHEME: Final = "lambda-event"
BUS_SCHEME: Final = "events"
MAX_BUS_HOPS: Final = 5
"""Bus-to-bus forwards an event may take before it is refused (stops routing loops)."""

_ARN: Final = re.compile(r"arn:[\w-]+:[\w-]+:[\w-]*:\d*:.+")


class TargetKind(enum.StrEnum):
    SQS = "sqs"
    SNS = "sns"
    LAMBDA = "lambda"
    BUS = "events"


def target_kind(arn: str) -> TargetKind | None:
    parsed = parse_arn(arn)
    if parsed is None:
        return None
    service, resource = parsed.service, parsed.resource
    if service == "sqs":
        return TargetKind.SQS
    if service == "sns":
        return TargetKind.SNS
    if service == "lambda" and resource.startswith("function:"):
        return TargetKind.LAMBDA
    if service == "events" and resource.startswith("event-bus/"):
        return TargetKind.BUS
    return None


def check_target(target: Target) -> str | None:
    """Raise :class:`ValidationFailed` for a malformed target (the whole request fails);
    answer a message if the target is well formed but cannot be used (that entry fails)."""
    if not _ARN.fullmatch(target.arn):
        raise ValidationFailed(
            f"Parameter {target.arn} is not valid. Reason: Provided Arn is not in correct format."
        )
    kind = target_kind(target.arn)
    if kind is TargetKind.SQS and target.arn.endswith(".fifo") and not target.sqs_message_group_id:
        raise ValidationFailed(
            f"Parameter(s) SqsParameters must be specified for target: {target.id}."
        )
    if (
        target.dead_letter_arn is not None
        and target_kind(target.dead_letter_arn) is not TargetKind.SQS
    ):
        raise ValidationFailed(
            f"Parameter DeadLetterConfig.Arn of target {target.id} is not valid. "
            "Reason: it must be an SQS queue ARN."
        )
    validate_target_input(target)
    if kind is None:
        service = arn_service(target.arn)
        return (
            f"Target {target.id}: {service} targets are not supported by sendoff "
            "(supported: sqs, sns, lambda functions and event buses)."
        )
    if kind is TargetKind.BUS and (
        target.input is not None
        or target.input_path is not None
        or target.input_transformer is not None
    ):
        return (
            f"Target {target.id}: Input, InputPath and InputTransformer are not supported for "
            "event bus targets; the event is forwarded as it is."
        )
    return None


@dataclass(frozen=True, kw_only=True)
class Delivery:
    scheme: str
    target: str
    payload: dict[str, Any]


def delivery_for(
    target: Target,
    *,
    text: str,
    event: dict[str, Any],
    trace_header: str | None,
    hops: int,
) -> Delivery:
    """The outbox job that hands ``text`` (the rendered input) or ``event`` to ``target``."""
    kind = target_kind(target.arn)
    if kind is TargetKind.SQS:
        payload: dict[str, Any] = {"body": text}
        if target.sqs_message_group_id:
            payload["group_id"] = target.sqs_message_group_id
        return Delivery(scheme="sqs", target=target.arn, payload=payload)
    if kind is TargetKind.SNS:
        return Delivery(scheme="sns", target=target.arn, payload={"message": text})
    if kind is TargetKind.LAMBDA:
        payload = {"payload": text}
        if trace_header:
            payload["trace_header"] = trace_header
        return Delivery(scheme=LAMBDA_SCHEME, target=target.arn, payload=payload)
    if kind is TargetKind.BUS:
        payload = {
            "source": event["source"],
            "detail_type": event["detail-type"],
            "detail": event["detail"],
            "resources": list(event["resources"]),
            "time": event["time"],
            "hops": hops + 1,
        }
        if trace_header:
            payload["trace_header"] = trace_header
        return Delivery(scheme=BUS_SCHEME, target=target.arn, payload=payload)
    raise ValidationFailed(f"Target {target.id} has an unsupported ARN {target.arn}.")
