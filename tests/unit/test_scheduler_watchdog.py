"""The stuck-job watchdog: a job whose handler keeps raising ends failed, visibly (issue #17).

A real Scheduler on the real in-memory store; the handlers are test handlers of the
scheduler's job-kind seam (what "invoke" and "deliver" plug into).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from sendoff.delivery import Deliveries
from sendoff.scheduler import Scheduler
from sendoff.scheduler.watchdog import INTERNAL_ERROR_CONDITION, MAX_HANDLER_FAILURES
from sendoff.store import EventRecord
from sendoff.store.base import TERMINAL_STATES, EventState
from sendoff.store.memory import MemoryStore


class Raising:
    def __init__(self, failures: int = 1_000) -> None:
        self.failures = failures
        self.runs = 0
        self.store: MemoryStore | None = None

    async def run(self, job: EventRecord) -> None:
        self.runs += 1
        if self.runs <= self.failures:
            raise RecursionError("maximum recursion depth exceeded")
        assert self.store is not None
        await self.store.finish(
            job.id, token=job.lease_token, state=EventState.SUCCEEDED, body=job.body
        )


class RaisingWithAbandon(Raising):
    def __init__(self) -> None:
        super().__init__()
        self.abandoned: list[tuple[str, str]] = []

    async def abandon(self, job: EventRecord, reason: str) -> None:
        self.abandoned.append((job.id, reason))
        assert self.store is not None
        body = {**job.body, "outcome": {"condition": "Custom"}}
        await self.store.finish(job.id, token=job.lease_token, state=EventState.FAILED, body=body)


async def run_one(handler: Raising, kind: str = "test") -> EventRecord:
    store = MemoryStore()
    await store.open()
    handler.store = store
    scheduler = Scheduler(store, poll_s=0.05)
    scheduler.register(kind, handler)
    now = time.time()
    job = EventRecord(
        id="job-1", function_key="a/r/f", state=EventState.QUEUED, due_at=now, enqueued_at=now,
        body={"kind": kind, "payload": "{}", "nested": {"x": 1}},
    )  # fmt: skip
    await store.enqueue([job])
    scheduler.start()
    try:
        async with asyncio.timeout(20):
            while True:
                current = await store.get_event("job-1")
                assert current is not None
                if current.state in TERMINAL_STATES:
                    return current
                await asyncio.sleep(0.02)
    finally:
        await scheduler.stop()


async def test_a_job_that_always_fails_inside_sendoff_ends_failed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="sendoff.scheduler")
    handler = Raising()
    job = await run_one(handler)
    assert handler.runs == MAX_HANDLER_FAILURES
    assert job.state is EventState.FAILED
    assert job.body["outcome"]["condition"] == INTERNAL_ERROR_CONDITION
    assert "RecursionError" in job.body["outcome"]["error"]
    assert job.body["payload"] == "{}"  # what could be kept is kept
    tracebacks = [r for r in caplog.records if r.exc_info and "job-1" in r.getMessage()]
    assert len(tracebacks) == 1  # logged once, with the job's id


async def test_the_handler_settles_what_it_abandons() -> None:
    handler = RaisingWithAbandon()
    job = await run_one(handler)
    assert handler.abandoned == [("job-1", "RecursionError: maximum recursion depth exceeded")]
    assert job.body["outcome"] == {"condition": "Custom"}
    assert job.body["handler_failures"] == MAX_HANDLER_FAILURES - 1


async def test_a_job_that_recovers_is_not_abandoned() -> None:
    handler = Raising(failures=MAX_HANDLER_FAILURES - 1)
    job = await run_one(handler)
    assert job.state is EventState.SUCCEEDED
    assert job.body["handler_failures"] == MAX_HANDLER_FAILURES - 1


async def test_store_outages_are_not_counted() -> None:
    """A store that is away says nothing about the job: never abandoned for it."""
    from sendoff.errors import StoreError
    from sendoff.scheduler.watchdog import is_transient

    class RedisDown(Exception):
        __module__ = "redis.exceptions"

    assert is_transient(StoreError("down"))
    assert is_transient(ConnectionRefusedError())
    assert is_transient(RedisDown())
    assert not is_transient(RecursionError())
    assert not is_transient(KeyError("payload"))


async def test_an_abandoned_delivery_fails_for_good_and_is_counted() -> None:
    store = MemoryStore()
    await store.open()
    deliveries = Deliveries(store, wake=lambda: None)
    failed: list[str] = []

    async def hook(job: Any) -> None:
        failed.append(job.id)

    deliveries.on_failed(hook)
    job = await deliveries.send(
        scheme="nowhere", target="t", payload={}, scope_key="a/r", lease_owner="me"
    )
    assert isinstance(job, EventRecord)
    await deliveries.abandon(job, "RecursionError: too deep")
    settled = await store.get_event(job.id)
    assert settled is not None and settled.state is EventState.FAILED
    assert settled.body["error"] == "SendoffInternalError: RecursionError: too deep"
    assert failed == [job.id]
