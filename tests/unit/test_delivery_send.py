"""Deliveries.send: deliver at once when the transport takes it, else store a job."""

from __future__ import annotations

from typing import Any

from sendoff.delivery import Deliveries
from sendoff.delivery.outbox import Delivered, DeliveryError
from sendoff.store import EventRecord
from sendoff.store.base import EventState
from sendoff.store.memory import MemoryStore


class Transport:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def deliver(self, target: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if self.fail:
            raise DeliveryError("no such queue", retryable=False)
        self.sent.append((target, payload))
        return {"message_id": f"m-{len(self.sent)}"}


async def make(transport: Transport) -> tuple[MemoryStore, Deliveries]:
    store = MemoryStore()
    await store.open()
    deliveries = Deliveries(store, wake=lambda: None, clock=lambda: 100.0)
    deliveries.register("sqs", transport)
    return store, deliveries


async def stored(store: MemoryStore) -> list[EventRecord]:
    return await store.list_events(limit=100)


async def test_a_transport_that_takes_it_delivers_at_once_and_stores_nothing() -> None:
    transport = Transport()
    store, deliveries = await make(transport)
    sent = await deliveries.send(
        scheme="sqs", target="arn:q", payload={"body": "x"}, scope_key="a/r", lease_owner="me"
    )
    assert sent == Delivered(result={"message_id": "m-1"}, at=100.0)
    assert transport.sent == [("arn:q", {"body": "x"})]
    assert await stored(store) == []


async def test_a_failed_direct_delivery_becomes_a_job_leased_to_the_caller() -> None:
    store, deliveries = await make(Transport(fail=True))
    sent = await deliveries.send(
        scheme="sqs", target="arn:q", payload={"body": "x"}, scope_key="a/r", lease_owner="me"
    )
    assert isinstance(sent, EventRecord)
    (job,) = await stored(store)
    assert job.id == sent.id and job.state is EventState.RUNNING and job.lease_owner == "me"
    assert job.body["kind"] == "deliver" and job.body["failures"] == []


async def test_fifo_group_deliveries_always_go_through_a_job() -> None:
    transport = Transport()
    store, deliveries = await make(transport)
    sent = await deliveries.send(
        scheme="sqs", target="arn:q.fifo", payload={"body": "x", "group_id": "g"},
        scope_key="a/r", lease_owner="me",
    )  # fmt: skip
    assert isinstance(sent, EventRecord) and transport.sent == []
    assert len(await stored(store)) == 1


async def test_an_unknown_scheme_becomes_a_job() -> None:
    _, deliveries = await make(Transport())
    sent = await deliveries.send(scheme="carrier-pigeon", target="t", payload={}, scope_key="a/r")
    assert isinstance(sent, EventRecord) and sent.state is EventState.QUEUED


async def test_a_guard_refusal_is_a_failure_for_good_that_hooks_hear_of() -> None:
    transport = Transport()
    store, deliveries = await make(transport)
    failed: list[EventRecord] = []

    async def hook(job: EventRecord) -> None:
        failed.append(job)

    async def guard(scheme: str, target: str, source: dict[str, Any]) -> str | None:
        return "AccessDenied: not allowed" if source.get("role") == "weak" else None

    deliveries.on_failed(hook)
    deliveries.add_guard(guard)
    sent = await deliveries.send(
        scheme="sqs", target="arn:q", payload={"body": "x"}, scope_key="a/r",
        source={"kind": "destination", "role": "weak"}, lease_owner="me",
    )  # fmt: skip
    assert isinstance(sent, EventRecord) and transport.sent == []  # not sent directly
    await deliveries.run(sent)
    (job,) = await stored(store)
    assert job.state is EventState.FAILED  # at once: no retry
    assert [f["error"] for f in job.body["failures"]] == ["AccessDenied: not allowed"]
    assert [j.id for j in failed] == [job.id] and transport.sent == []
    allowed = await deliveries.send(
        scheme="sqs", target="arn:q", payload={"body": "y"}, scope_key="a/r",
        source={"kind": "destination", "role": "strong"},
    )  # fmt: skip
    assert isinstance(allowed, Delivered) and transport.sent == [("arn:q", {"body": "y"})]
