"""SQS queues as destinations: the record is the message body, the trace header the
message's ``AWSTraceHeader`` system attribute (facts §5, §7.2); also a dead-letter target."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sendoff.destinations.kind import (
    DestinationKind,
    Origin,
    RecordSend,
    SamAutoCreate,
    SamType,
)
from sendoff.model.arn import Arn

if TYPE_CHECKING:
    from sendoff.delivery.outbox import Transport
    from sendoff.destinations.kind import BuiltServices
    from sendoff.model.scope import Scope


class SqsKind(DestinationKind):
    service = "sqs"
    label = "SQS queue"
    with_article = "an SQS queue"
    rank = 10
    iam_action = "sqs:SendMessage"
    operation = "SendMessage"
    sam = SamType(
        name="SQS",
        action="sqs:SendMessage",
        auto_create=SamAutoCreate(
            resource_type="AWS::SQS::Queue", suffix="Queue", referable="DestinationQueue",
            arn_by="GetAtt",
        ),
    )  # fmt: skip
    dead_letter = True

    async def validate_arn(self, arn: str, origin: Origin) -> str | None:
        return None

    def build_payload(self, send: RecordSend) -> dict[str, Any]:
        payload: dict[str, Any] = {"body": send.body}
        if send.trace_header:
            payload["system_attributes"] = {
                "AWSTraceHeader": {"DataType": "String", "StringValue": send.trace_header}
            }
        return payload

    def dead_letter_payload(
        self, event_payload: str, attributes: dict[str, dict[str, str]]
    ) -> dict[str, Any]:
        return {"body": event_payload, "attributes": attributes}

    def console_link(self, arn: str, parsed: Arn) -> tuple[str, str | None]:
        return parsed.resource, f"/console/queues/{quote(parsed.resource, safe='')}"

    async def console_choices(self, services: BuiltServices, scope: Scope) -> list[str]:
        if services.queues is None:
            return []
        return [queue.arn for queue in await services.queues.list_queues(scope)]

    async def console_exists(
        self, services: BuiltServices, scope: Scope, arn: str, parsed: Arn
    ) -> bool | None:
        if services.queues is None:
            return None
        return await services.queues.get_queue(arn) is not None

    def transport(self, services: BuiltServices) -> Transport | None:
        from sendoff.services.sqs.transport import SqsTransport

        return None if services.queues is None else SqsTransport(services.queues)


KIND = SqsKind()
