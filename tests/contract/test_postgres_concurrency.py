"""Several processes on one database: SKIP LOCKED hands each job and message to exactly
one of them, FIFO groups stay in order, slots never over-commit, group commit isolates
a failing write."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from sendoff.store import EventRecord
from sendoff.store.base import EventState
from sendoff.store.messages import QueuedMessage
from sendoff.store.postgres import PostgresStore
from tests.contract.conftest import unavailable
from tests.support.backend_postgres import shared_stores

T0 = 1_000_000.0


def message(mid: str, *, group: str | None = None, dedup: str | None = None) -> QueuedMessage:
    return QueuedMessage(
        id=mid, body="b", meta={}, sent_at=T0, visible_at=T0, group_id=group, dedup_id=dedup
    )


def job(i: int) -> EventRecord:
    return EventRecord(
        id=f"e{i:04d}",
        function_key="a/r/f",
        state=EventState.QUEUED,
        due_at=float(i % 7),
        enqueued_at=float(i),
        body={"n": i},
    )


async def test_two_stores_leasing_concurrently_never_double_lease() -> None:
    async with shared_stores(unavailable, 2) as stores:
        await stores[0].enqueue([job(i) for i in range(300)])
        taken: list[str] = []

        async def worker(store: PostgresStore, name: str) -> None:
            while batch := await store.lease(owner=name, now=10, limit=7, lease_s=60):
                taken.extend(e.id for e in batch)

        await asyncio.gather(*(worker(stores[i % 2], f"w{i}") for i in range(16)))
        assert sorted(taken) == [f"e{i:04d}" for i in range(300)]
        assert await stores[1].count_events(states=[EventState.RUNNING]) == 300


async def test_concurrent_receives_take_each_message_once() -> None:
    async with shared_stores(unavailable, 2) as stores:
        messages = [message(f"m{i}") for i in range(200)]
        sends = [
            stores[i % 2].put_messages("q", messages[i::4], now=T0, dedup_window_s=0)
            for i in range(4)
        ]
        await asyncio.gather(*sends)
        seen: list[str] = []

        async def consumer(store: PostgresStore) -> None:
            while True:
                got = await store.receive_messages(
                    "q", now=T0, limit=10, visibility_s=300, sent_after=0
                )
                if not got.messages:
                    return
                seen.extend(m.id for m in got.messages)

        await asyncio.gather(*(consumer(stores[i % 2]) for i in range(8)))
        assert sorted(seen) == sorted(m.id for m in messages)


async def test_concurrent_fifo_receives_keep_one_message_per_group_in_flight() -> None:
    async with shared_stores(unavailable, 2) as stores:
        groups = [f"g{g}" for g in range(5)]
        for n in range(4):
            batch = [message(f"{g}-{n}", group=g) for g in groups]
            await stores[0].put_messages("f", batch, now=T0, dedup_window_s=0)
        got = await asyncio.gather(
            *(
                stores[i % 2].receive_messages(
                    "f", now=T0, limit=1, visibility_s=300, sent_after=0, ordered=True
                )
                for i in range(12)
            )
        )
        received = [m for r in got for m in r.messages]
        assert sorted(m.group_id or "" for m in received) == groups  # one per group
        assert all(m.id.endswith("-0") for m in received)  # and the first of each


async def test_concurrent_deduplicated_sends_store_one_message() -> None:
    async with shared_stores(unavailable, 2) as stores:
        sends = [
            stores[i % 2].put_messages(
                "q", [message(f"m{i}", dedup="same")], now=T0, dedup_window_s=300
            )
            for i in range(10)
        ]
        results = [r for batch in await asyncio.gather(*sends) for r in batch]
        assert sum(not r.duplicate for r in results) == 1
        assert len({r.id for r in results}) == 1


async def test_slots_never_over_commit_across_processes() -> None:
    async with shared_stores(unavailable, 2) as stores:
        won = await asyncio.gather(
            *(
                stores[i % 2].acquire_slot("f", holder=f"h{i}", limit=3, now=0, expires_at=60)
                for i in range(20)
            )
        )
        assert sum(won) == 3


async def test_group_commit_fails_only_the_failing_write() -> None:
    async with shared_stores(unavailable, 1) as (store,):
        await store.enqueue([job(1)])
        outcomes = await asyncio.gather(
            store.enqueue([job(2)]),
            store.enqueue([job(1)]),  # duplicate id
            store.enqueue([job(3)]),
            return_exceptions=True,
        )
        assert outcomes[0] is None and outcomes[2] is None
        assert isinstance(outcomes[1], psycopg.errors.UniqueViolation)
        assert await store.count_events() == 3


async def test_log_appends_from_two_processes_read_in_seq_order() -> None:
    from sendoff.store import LogEvent

    async with shared_stores(unavailable, 2) as stores:
        await asyncio.gather(
            *(
                stores[i % 2].append_logs("g", f"s{i}", [LogEvent(timestamp_ms=i, message=str(i))])
                for i in range(20)
            )
        )
        rows = await stores[0].read_logs("g")
        seqs = [e.seq for _, e in rows]
        assert len(rows) == 20 and seqs == sorted(seqs)


@pytest.mark.parametrize("limit", [1, 50])
async def test_lease_returns_due_order(limit: int) -> None:
    async with shared_stores(unavailable, 1) as (store,):
        await store.enqueue([job(i) for i in range(20)])
        leased = await store.lease(owner="w", now=100, limit=limit, lease_s=5)
        keys = [(e.due_at, e.enqueued_at) for e in leased]
        assert keys == sorted(keys) and len(leased) == min(limit, 20)
        assert keys[0] == (0.0, 0.0)
