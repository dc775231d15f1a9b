"""S3 event notifications: a bucket's configuration, its checks, and durable delivery.

Putting a configuration (``put``) parses it (``notification_config``), refuses a target in
another region than the bucket ("The notification destination service region is not valid
for the bucket location constraint"), and checks each target unless
``x-amz-skip-destination-validation: true``:

* a queue or topic must exist ("The destination queue does not exist" / "The destination
  topic does not exist"), be in the bucket's account (sendoff does not evaluate queue
  and topic policies: another account's is refused as AWS refuses one whose policy does
  not let S3 publish) and not be FIFO (AWS: "Amazon SQS FIFO queues aren't supported as an
  Amazon S3 event notification destination");
* a function must exist and, under ``--iam enforce``, its resource policy must allow
  ``s3.amazonaws.com`` to invoke it for this bucket (``aws lambda add-permission
  --principal s3.amazonaws.com --source-arn arn:aws:s3:::bucket``); AWS answers both with
  "Not authorized to invoke function [arn]" (recorded);

failures come together as ``InvalidArgument`` "Unable to validate the following destination
configurations" with ``ArgumentName1``/``ArgumentValue1``... Then the configuration is
stored, and each queue and topic gets an ``s3:TestEvent`` message.

Every committed object change (``on_object_event``, an ``S3Service`` listener) is matched
against the configuration and each delivery is made before the S3 request answers,
through the outbox (``Deliveries.send``): handed at once to its target's transport (an
SQS message stored, an Event invoke queued), or, if that fails, stored as a delivery job
retried with backoff by the scheduler:

========== ============= ================================================================
target     scheme        payload
========== ============= ================================================================
function   ``s3-lambda`` the ``{"Records": [...]}`` event: an asynchronous (Event) invoke,
                         so retries, MaximumEventAgeInSeconds, destinations and DLQ apply
queue      ``sqs``       the same event as the message body (``AWSTraceHeader`` kept)
topic      ``sns``       the same event as the Message, subject "Amazon S3 Notification"
EventBridge ``events``   ``aws.s3`` "Object Created"/"Object Deleted" on the default bus
========== ============= ================================================================

The request's ``X-Amzn-Trace-Id`` (the recursion lineage a function's SDK call carries)
goes with the delivery, so S3 → Lambda → PutObject loops are counted and stopped as AWS
does since 2024: the invoke stamps the lineage once, in ``AsyncInvocations.accept``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sendoff.delivery import Deliveries
from sendoff.model.clock import Clock, system_clock
from sendoff.model.json_types import JSON
from sendoff.services.s3 import event_records
from sendoff.services.s3.errors import InvalidArgument
from sendoff.services.s3.event_records import ObjectEventLike
from sendoff.services.s3.notification_config import NotificationConfig, TargetConfig, parse_xml

log = logging.getLogger("sendoff.s3.notifications")

SCHEME_LAMBDA = "s3-lambda"
SUBRESOURCE = "notification"
SOURCE_KIND = "s3-notification"
UNABLE_TO_VALIDATE = "Unable to validate the following destination configurations"


@dataclass(frozen=True, kw_only=True)
class TargetChecks:
    """What the notifier asks the other services when a configuration is put."""

    queue_exists: Callable[[str], Awaitable[bool]]
    topic_exists: Callable[[str], Awaitable[bool]]
    # (function ARN, bucket ARN, bucket account) -> may S3 invoke it for this bucket?
    function_allows: Callable[[str, str, str], Awaitable[bool]]


@dataclass(frozen=True, kw_only=True)
class BucketRef:
    name: str
    account: str
    region: str

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:::{self.name}"


ConfigLoad = Callable[[str, str], Awaitable[JSON | None]]  # (owner, bucket) -> stored doc
ConfigSave = Callable[[str, str, JSON | None], Awaitable[None]]  # owner, bucket, doc/None


class S3Notifier:
    def __init__(
        self,
        deliveries: Deliveries,
        *,
        load: ConfigLoad,
        save: ConfigSave,
        checks: TargetChecks,
        clock: Clock = system_clock,
    ) -> None:
        self.deliveries = deliveries
        self.load = load
        self.save = save
        self.checks = checks
        self.clock = clock

    # ---- configuration ----
    async def get(self, bucket: BucketRef) -> NotificationConfig:
        doc = await self.load(bucket.account, bucket.name)
        return NotificationConfig() if doc is None else NotificationConfig.from_json(doc)

    async def put(
        self, bucket: BucketRef, body: bytes, *, skip_validation: bool, request_id: str
    ) -> NotificationConfig:
        config = parse_xml(body)
        _check_regions(bucket, config)
        if not skip_validation:
            await self._validate(bucket, config)
        await self.save(bucket.account, bucket.name, None if config.empty else config.to_json())
        if not skip_validation:
            await self._send_test_events(bucket, config, request_id)
        return config

    async def _validate(self, bucket: BucketRef, config: NotificationConfig) -> None:
        problems: list[tuple[str, str]] = []
        for target in config.targets:
            problem = await self._check(bucket, target)
            if problem is not None and problem not in problems:
                problems.append(problem)
        if problems:
            extra: dict[str, str] = {}
            for i, (name, value) in enumerate(problems, start=1):
                extra[f"ArgumentName{i}"] = name
                extra[f"ArgumentValue{i}"] = value
            raise InvalidArgument(UNABLE_TO_VALIDATE, **extra)

    async def _check(self, bucket: BucketRef, target: TargetConfig) -> tuple[str, str] | None:
        account = target.arn.split(":")[4] if target.arn.count(":") >= 5 else ""
        if target.kind == "lambda":
            if await self.checks.function_allows(target.arn, bucket.arn, bucket.account):
                return None
            return f"{target.arn}, null", f"Not authorized to invoke function [{target.arn}]"
        what = "queue" if target.kind == "sqs" else "topic"
        exists = self.checks.queue_exists if target.kind == "sqs" else self.checks.topic_exists
        if not await exists(target.arn):
            return target.arn, f"The destination {what} does not exist"
        # S3 cannot send to a FIFO queue or topic (no message group): its test event fails
        # like one the target's policy refuses (inferred: AWS's answer is not recorded)
        if account != bucket.account or target.arn.endswith(".fifo"):
            return target.arn, (
                f"Permissions on the destination {what} do not allow S3 to publish"
                " notifications from this bucket"
            )
        return None

    async def _send_test_events(
        self, bucket: BucketRef, config: NotificationConfig, request_id: str
    ) -> None:
        sent: set[str] = set()
        body = json.dumps(event_records.test_event(bucket.name, request_id, self.clock()))
        for target in config.targets:
            if target.kind == "lambda" or target.arn in sent:
                continue
            sent.add(target.arn)
            await self._submit(bucket, target.kind, target.arn, body, trace_header=None)

    # ---- events ----
    async def on_object_event(self, event: ObjectEventLike) -> None:
        """An S3Service listener: queue a delivery for each configuration the event matches."""
        doc = await self.load(event.account, event.bucket)
        if doc is None:
            return
        config = NotificationConfig.from_json(doc)
        bucket = BucketRef(name=event.bucket, account=event.account, region=event.region)
        trace_header = getattr(event, "trace_header", None)
        for target in config.matching(f"s3:{event.event_name}", event.key):
            body = json.dumps(event_records.records_body(event, target.id))
            await self._submit(bucket, target.kind, target.arn, body, trace_header=trace_header)
        if config.eventbridge:
            entry = event_records.eventbridge_entry(event)
            if entry is not None:
                await self._submit_eventbridge(bucket, entry, trace_header)

    async def _submit(
        self, bucket: BucketRef, kind: str, arn: str, body: str, *, trace_header: str | None
    ) -> None:
        payload: dict[str, Any]
        if kind == "lambda":
            scheme = SCHEME_LAMBDA
            payload = {"event": body, "trace_header": trace_header}
        elif kind == "sqs":
            scheme = "sqs"
            payload = {"body": body}
            if trace_header:
                payload["system_attributes"] = {
                    "AWSTraceHeader": {"DataType": "String", "StringValue": trace_header}
                }
        else:
            scheme = "sns"
            payload = {"message": body, "subject": event_records.SNS_SUBJECT,
                       "trace_header": trace_header}  # fmt: skip
        await self.deliveries.send(
            scheme=scheme,
            target=arn,
            payload=payload,
            scope_key=f"{bucket.account}/{bucket.region}",
            source=_source(bucket),
        )

    async def _submit_eventbridge(
        self, bucket: BucketRef, entry: dict[str, Any], trace_header: str | None
    ) -> None:
        bus = f"arn:aws:events:{bucket.region}:{bucket.account}:event-bus/default"
        payload = {"source": "aws.s3", **entry}
        if trace_header:
            payload["trace_header"] = trace_header
        await self.deliveries.send(
            scheme="events",
            target=bus,
            payload=payload,
            scope_key=f"{bucket.account}/{bucket.region}",
            source=_source(bucket),
        )


def _check_regions(bucket: BucketRef, config: NotificationConfig) -> None:
    """Every target must be in the bucket's region (AWS's words, quoted by users:
    cloud-custodian/cloud-custodian#1720)."""
    names = {"sqs": "Queue", "sns": "Topic", "lambda": "CloudFunction"}
    for target in config.targets:
        region = target.arn.split(":")[3] if target.arn.count(":") >= 3 else ""
        if region and region != bucket.region:
            raise InvalidArgument(
                "The notification destination service region is not valid for the bucket"
                " location constraint",
                ArgumentName=names[target.kind], ArgumentValue=target.arn,
            )  # fmt: skip


def _source(bucket: BucketRef) -> dict[str, Any]:
    """The delivery's source: the IAM guards read ``bucket_arn`` and ``source_account``."""
    return {"kind": SOURCE_KIND, "bucket_arn": bucket.arn, "source_account": bucket.account}
