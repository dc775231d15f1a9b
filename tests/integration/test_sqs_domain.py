"""The queue service's domain API and ``sqs`` delivery transport, in process on both stores.

These are what SNS fan-out, Lambda destinations and dead-letter queues call; no HTTP here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sendoff.delivery import Deliveries, DeliveryError
from sendoff.errors import SendoffError
from sendoff.model.scope import Scope
from sendoff.services.sqs import QueueError, QueueNotFound, QueueService
from sendoff.services.sqs.model import QueueRef
from sendoff.services.sqs.transport import SqsTransport
from sendoff.store import Store, open_store
from sendoff.store.base import EventState

SCOPE = Scope(account_id="000000000000", region="us-east-1")
ARN = "arn:aws:sqs:us-east-1:000000000000:"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path}/domain.db"
    s = open_store(url)
    await s.open()
    yield s
    await s.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queues(store: Store, clock: FakeClock) -> QueueService:
    return QueueService(store, account_id=SCOPE.account_id, region=SCOPE.region, clock=clock)


def ref(name: str) -> QueueRef:
    return QueueRef(account_id=SCOPE.account_id, region=SCOPE.region, name=name)


async def test_send_message_and_get_queue(queues: QueueService) -> None:
    await queues.create_queue(SCOPE, "plain")
    attrs = {"kind": {"DataType": "String", "StringValue": "record"}}
    message_id = await queues.send_message(ARN + "plain", '{"x":1}', attributes=attrs)
    (got,) = await queues.receive(ref("plain"))
    assert got.message_id == message_id and got.body == '{"x":1}'
    assert got.attributes == attrs
    assert got.system_attributes["SenderId"] == SCOPE.account_id
    queue = await queues.get_queue(ARN + "plain")
    assert queue is not None and queue.name == "plain" and queue.arn == ARN + "plain"
    assert not queue.is_fifo
    assert await queues.get_queue(ARN + "missing") is None
    assert await queues.get_queue("not an arn") is None


async def test_send_message_errors(queues: QueueService) -> None:
    with pytest.raises(QueueNotFound) as exc:
        await queues.send_message(ARN + "missing", "x")
    assert isinstance(exc.value, SendoffError)
    with pytest.raises(QueueNotFound):
        await queues.send_message("arn:aws:sns:us-east-1:000000000000:topic", "x")
    await queues.create_queue(SCOPE, "f.fifo", {"FifoQueue": "true"})
    queue = await queues.get_queue(ARN + "f.fifo")
    assert queue is not None and queue.is_fifo
    with pytest.raises(QueueError):
        await queues.send_message(ARN + "f.fifo", "x")  # no group id
    with pytest.raises(QueueError):
        await queues.send_message(ARN + "f.fifo", "x", group_id="g")  # no dedup id
    trace = {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}}
    first = await queues.send_message(
        ARN + "f.fifo", "x", group_id="g", dedup_id="d", system_attributes=trace
    )
    assert await queues.send_message(ARN + "f.fifo", "y", group_id="g", dedup_id="d") == first
    (got,) = await queues.receive(ref("f.fifo"), max_messages=10)
    assert got.system_attributes["AWSTraceHeader"] == "Root=1-abc"
    assert got.system_attributes["MessageGroupId"] == "g"


async def test_transport(queues: QueueService) -> None:
    transport = SqsTransport(queues)
    await queues.create_queue(SCOPE, "target")
    await queues.create_queue(SCOPE, "t.fifo", {"FifoQueue": "true"})
    result = await transport.deliver(
        ARN + "target",
        {"body": "b", "attributes": {"a": {"DataType": "Number", "StringValue": "1"}}},
    )
    assert result is not None and result["message_id"]
    fifo = await transport.deliver(ARN + "t.fifo", {"body": "b", "group_id": "g", "dedup_id": "1"})
    assert fifo is not None
    for target, payload in (
        (ARN + "missing", {"body": "b"}),
        (ARN + "t.fifo", {"body": "b"}),
        (
            ARN + "target",
            {"body": "b", "attributes": {"AWS.bad": {"DataType": "String", "StringValue": "x"}}},
        ),
        (ARN + "target", {}),
    ):
        with pytest.raises(DeliveryError) as exc:
            await transport.deliver(target, payload)
        assert exc.value.retryable is False
    (got,) = await queues.receive(ref("target"))
    assert got.body == "b" and got.attributes["a"]["StringValue"] == "1"


async def test_outbox_delivers_through_the_transport(store: Store, queues: QueueService) -> None:
    deliveries = Deliveries(store, wake=lambda: None)
    deliveries.register("sqs", SqsTransport(queues))
    await queues.create_queue(SCOPE, "outbox-target")
    good = await deliveries.submit(
        scheme="sqs", target=ARN + "outbox-target", payload={"body": "delivered"}, scope_key="a/r"
    )
    bad = await deliveries.submit(
        scheme="sqs", target=ARN + "missing", payload={"body": "lost"}, scope_key="a/r"
    )
    for job in await store.lease(owner="t", now=time.time() + 1, limit=10, lease_s=60):
        await deliveries.run(job)
    done, failed = await store.get_event(good), await store.get_event(bad)
    assert done is not None and done.state is EventState.SUCCEEDED
    assert failed is not None and failed.state is EventState.FAILED
    (got,) = await queues.receive(ref("outbox-target"))
    assert got.body == "delivered"
    assert done.body["result"]["message_id"] == got.message_id


async def test_retention_expiry(queues: QueueService, clock: FakeClock) -> None:
    await queues.create_queue(SCOPE, "short", {"MessageRetentionPeriod": "60"})
    await queues.send_message(ARN + "short", "old")
    clock.now += 30
    await queues.send_message(ARN + "short", "young")
    clock.now += 31  # "old" is 61 s old
    counts = await queues.queue_attributes(ref("short"), ["ApproximateNumberOfMessages"])
    assert counts == {"ApproximateNumberOfMessages": "1"}
    assert [m.body for m in await queues.receive(ref("short"), max_messages=10)] == ["young"]
    assert await queues.sweep() == 1
    clock.now += 1000
    assert await queues.sweep() == 1


async def test_long_poll_in_process(queues: QueueService) -> None:
    await queues.create_queue(SCOPE, "lp")
    poll = asyncio.ensure_future(queues.receive(ref("lp"), wait_s=20))
    done, _ = await asyncio.wait({poll}, timeout=0.2)
    assert not done, "the receive waits for a message"
    started = time.monotonic()
    await queues.send_message(ARN + "lp", "arrived")
    (got,) = await asyncio.wait_for(poll, timeout=5)
    assert got.body == "arrived" and time.monotonic() - started < 0.1


async def test_stop_ends_long_polls_and_the_sweeper(queues: QueueService) -> None:
    await queues.create_queue(SCOPE, "stopping")
    queues.start()
    poll = asyncio.ensure_future(queues.receive(ref("stopping"), wait_s=20))
    await asyncio.wait({poll}, timeout=0.1)
    await queues.stop()
    assert await asyncio.wait_for(poll, timeout=2) == []
