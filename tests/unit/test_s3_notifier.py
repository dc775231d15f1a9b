"""The notifier's target checks and what it sends, with the other services faked."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from sendoff.services.s3.errors import S3Error
from sendoff.services.s3.notifier import BucketRef, S3Notifier, TargetChecks

ACCOUNT = "000000000000"
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"
FN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f"
BUCKET = BucketRef(name="b", account=ACCOUNT, region="us-east-1")


@dataclass
class FakeDeliveries:
    sent: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, **kwargs: Any) -> None:
        self.sent.append(kwargs)


def notifier(
    existing: set[str], allowed: set[str]
) -> tuple[S3Notifier, FakeDeliveries, dict[str, Any]]:
    stored: dict[str, Any] = {}

    async def exists(arn: str) -> bool:
        return arn in existing

    async def allows(arn: str, bucket: str, account: str) -> bool:
        return arn in allowed

    async def load(account: str, bucket: str) -> Any:
        return stored.get(bucket)

    async def save(account: str, bucket: str, doc: Any) -> None:
        stored[bucket] = doc

    deliveries = FakeDeliveries()
    checks = TargetChecks(queue_exists=exists, topic_exists=exists, function_allows=allows)
    return S3Notifier(deliveries, load=load, save=save, checks=checks), deliveries, stored  # type: ignore[arg-type]


def body(*items: str) -> bytes:
    return f"<NotificationConfiguration>{''.join(items)}</NotificationConfiguration>".encode()


def queue(arn: str) -> str:
    return (
        f"<QueueConfiguration><Queue>{arn}</Queue><Event>s3:ObjectCreated:*</Event>"
        "</QueueConfiguration>"
    )


def function(arn: str) -> str:
    return (
        f"<CloudFunctionConfiguration><CloudFunction>{arn}</CloudFunction>"
        "<Event>s3:ObjectRemoved:*</Event></CloudFunctionConfiguration>"
    )


def test_failing_targets_are_reported_together_and_nothing_is_stored() -> None:
    n, deliveries, stored = notifier(existing=set(), allowed=set())
    other = "arn:aws:sqs:us-east-1:111111111111:q"
    with pytest.raises(S3Error) as info:
        asyncio.run(
            n.put(BUCKET, body(queue(QUEUE), function(FN)), skip_validation=False, request_id="R")
        )
    assert info.value.extra == {
        "ArgumentName1": QUEUE,
        "ArgumentValue1": "The destination queue does not exist",
        "ArgumentName2": f"{FN}, null",
        "ArgumentValue2": f"Not authorized to invoke function [{FN}]",
    }
    assert stored == {} and deliveries.sent == []
    n, _, _ = notifier(existing={other}, allowed=set())
    with pytest.raises(S3Error) as info:
        asyncio.run(n.put(BUCKET, body(queue(other)), skip_validation=False, request_id="R"))
    assert "do not allow S3 to publish" in info.value.extra["ArgumentValue1"]


def test_put_stores_and_sends_one_test_event_per_queue() -> None:
    n, deliveries, stored = notifier(existing={QUEUE}, allowed={FN})
    asyncio.run(
        n.put(BUCKET, body(queue(QUEUE), function(FN)), skip_validation=False, request_id="R")
    )
    assert "b" in stored
    (sent,) = deliveries.sent
    assert sent["scheme"] == "sqs" and sent["target"] == QUEUE
    assert json.loads(sent["payload"]["body"])["Event"] == "s3:TestEvent"
    assert sent["source"] == {
        "kind": "s3-notification",
        "bucket_arn": "arn:aws:s3:::b",
        "source_account": ACCOUNT,
    }


def test_skip_validation_sends_no_test_event_and_empty_removes() -> None:
    n, deliveries, stored = notifier(existing=set(), allowed=set())
    asyncio.run(n.put(BUCKET, body(queue(QUEUE)), skip_validation=True, request_id="R"))
    assert stored["b"] is not None and deliveries.sent == []
    asyncio.run(n.put(BUCKET, body(), skip_validation=False, request_id="R"))
    assert stored["b"] is None


def test_a_target_in_another_region_is_refused() -> None:
    n, _, _ = notifier(existing=set(), allowed=set())
    other = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q"
    with pytest.raises(S3Error) as info:
        asyncio.run(n.put(BUCKET, body(queue(other)), skip_validation=True, request_id="R"))
    assert info.value.message == (
        "The notification destination service region is not valid for the bucket location"
        " constraint"
    )
    assert info.value.extra == {"ArgumentName": "Queue", "ArgumentValue": other}
