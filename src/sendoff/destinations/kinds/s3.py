"""S3 buckets as OnFailure destinations (AWS added them in late 2024; facts §5.6).

The execution record is written as one JSON object under
``aws/lambda/async/<function-name>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>`` (AWS's key
layout: the function name, not the qualifier; dots in the time), the time being the
record's ``timestamp``. The whole record goes in, however large: unlike an SQS message or
an SNS Message, an object has no size limit that would make Lambda drop the payloads.

* OnSuccess with an S3 ARN is refused (``on_failure_only``) with Lambda's "The provided
  destination config DestinationConfig(...) is invalid." message.
* The execution role must allow ``s3:PutObject`` on the record's object
  (``arn:aws:s3:::bucket/aws/lambda/async/<function>/...``; ``bucket/*`` covers it).
* The bucket must belong to the function's account: sendoff does not evaluate bucket
  policies, so another account's bucket is refused at delivery (AccessDenied), as the
  account boundary refuses other cross-account deliveries.

The key and its uuid are chosen when the delivery job is made, so a retried delivery
overwrites the same object instead of writing a second one.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sendoff.delivery.outbox import DeliveryError
from sendoff.destinations.kind import DestinationKind, Origin, RecordSend, SamType
from sendoff.model.arn import Arn, parse_function_name
from sendoff.services.s3.errors import S3Error

if TYPE_CHECKING:
    from sendoff.delivery.outbox import Transport
    from sendoff.destinations.kind import BuiltServices
    from sendoff.model.scope import Scope
    from sendoff.services.s3.service import S3Service

KEY_PREFIX = "aws/lambda/async"
LAMBDA_PRINCIPAL = "AWS:lambda.amazonaws.com"  # who the record's PutObject is made as


def record_key(function_name: str, timestamp: str | None, *, token: str | None = None) -> str:
    """``aws/lambda/async/<fn>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>``."""
    try:
        when = datetime.fromisoformat(str(timestamp).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        when = datetime.now(UTC)
    day = when.strftime("%Y/%m/%d")
    stamp = when.strftime("%Y-%m-%dT%H.%M.%S")
    return f"{KEY_PREFIX}/{function_name}/{day}/{stamp}-{token or uuid.uuid4()}"


def function_name_of(function_arn: str) -> str:
    ref = parse_function_name(function_arn)
    return ref.name if ref is not None else function_arn


def account_of(function_arn: str) -> str:
    ref = parse_function_name(function_arn)
    return (ref.account_id or "") if ref is not None else ""


class BucketTransport:
    """The ``s3`` delivery transport: PutObject of ``{"key", "body", "account"}`` into the
    bucket named by the target ARN (``arn:aws:s3:::bucket``)."""

    def __init__(self, service: S3Service) -> None:
        self.service = service

    async def deliver(self, target: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        service = self.service
        name = target.split(":::", 1)[-1].split("/", 1)[0]
        info = await service.bucket(name)
        if info is None:
            raise DeliveryError(f"NoSuchBucket: bucket {name} does not exist", retryable=False)
        owner = str(payload.get("account") or "")
        if owner and info.account != owner:
            raise DeliveryError(
                f"AccessDenied: account {owner} may not write to bucket {name} of account"
                f" {info.account}: sendoff keeps accounts apart and does not evaluate bucket"
                " policies",
                retryable=False,
            )
        from sendoff.services.s3.model import Caller

        trace = payload.get("trace_header")
        caller = Caller(account=info.account, region=info.region, principal_id=LAMBDA_PRINCIPAL,
                        trace_header=str(trace) if trace else None)  # fmt: skip
        try:
            stored = await service.put_object(
                info.account, name, str(payload["key"]), str(payload["body"]).encode(),
                content_type="application/json", caller=caller,
            )  # fmt: skip
        except S3Error as exc:
            raise DeliveryError(f"{exc.code}: {exc}", retryable=exc.status >= 500) from exc
        return {"key": payload["key"], "etag": stored.etag}


class S3Kind(DestinationKind):
    service = "s3"
    label = "S3 bucket"
    with_article = "an S3 bucket"
    rank = 50
    iam_action = "s3:PutObject"
    operation = "PutObject"
    sam = SamType(name="S3", action="s3:PutObject")
    on_failure_only = True

    async def validate_arn(self, arn: str, origin: Origin) -> str | None:
        name = arn.split(":::", 1)[-1] if arn.count(":") == 5 else ""
        if not name or "/" in name or arn.split(":")[3:5] != ["", ""]:
            return f"The destination ARN {arn} is invalid."
        return None

    def build_payload(self, send: RecordSend) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "key": record_key(function_name_of(send.function_arn), send.record.get("timestamp")),
            "body": send.body,
            "account": account_of(send.function_arn),
        }
        if send.trace_header:
            payload["trace_header"] = send.trace_header
        return payload

    def console_link(self, arn: str, parsed: Arn) -> tuple[str, str | None]:
        name = parsed.resource
        return name, f"/console/buckets/{quote(name, safe='')}"

    def iam_resource(self, arn: str, function_name: str) -> str:
        """Lambda puts an object (``bucket/aws/lambda/async/<function>/...``, which
        ``bucket/*`` covers), so the role is checked against one of the records' keys."""
        if "/" in arn:
            return arn
        return f"{arn}/{KEY_PREFIX}/{function_name}/record"

    async def console_choices(self, services: BuiltServices, scope: Scope) -> list[str]:
        if services.objects is None:
            return []
        buckets = await services.objects.list_buckets(scope.account_id)
        return [f"arn:aws:s3:::{bucket.name}" for bucket in buckets]

    async def console_exists(
        self, services: BuiltServices, scope: Scope, arn: str, parsed: Arn
    ) -> bool | None:
        if services.objects is None:
            return None
        info = await services.objects.bucket(parsed.resource.split("/", 1)[0])
        return info is not None and info.account == scope.account_id

    def transport(self, services: BuiltServices) -> Transport | None:
        return None if services.objects is None else BucketTransport(services.objects)


KIND = S3Kind()
