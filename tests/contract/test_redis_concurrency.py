"""Redis only: several stores (processes) on one prefix never hand out the same work, and a
caller cancelled while its lease or receive is in flight never keeps what it did not get."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from sendoff.store.base import EventRecord, EventState
from sendoff.store.messages import MessageCounts, QueuedMessage
from sendoff.store.redis import RedisStore
from sendoff.store.redis.connection import RedisConnection, despite_cancel
from tests.contract.conftest import unavailable
from tests.support.backend_redis import fresh_prefix

T0 = 1_795_815_796.816656  # a real epoch time: 17 significant digits must survive


@pytest.fixture
async def stores() -> AsyncIterator[list[RedisStore]]:
    async with fresh_prefix(unavailable) as url:
        opened = [RedisStore(url) for _ in range(3)]
        for store in opened:
            await store.open()
        yield opened
        for store in opened:
            await store.close()


def job(i: int) -> EventRecord:
    return EventRecord(
        id=f"e{i:04d}", function_key="a/r/f", state=EventState.QUEUED, due_at=T0,
        enqueued_at=T0 + i, body={"i": i},
    )  # fmt: skip


def message(i: int, group: str | None = None) -> QueuedMessage:
    return QueuedMessage(
        id=f"m{i}", body=str(i), meta={}, sent_at=T0, visible_at=T0, group_id=group
    )


async def test_concurrent_leases_never_hand_out_an_event_twice(stores: list[RedisStore]) -> None:
    await stores[0].enqueue([job(i) for i in range(300)])
    batches = await asyncio.gather(
        *(
            store.lease(owner=f"w{n}-{i}", now=T0 + 1, limit=7, lease_s=60)
            for i in range(20)
            for n, store in enumerate(stores)
        )
    )
    leased = [e for batch in batches for e in batch]
    assert sorted(e.id for e in leased) == [f"e{i:04d}" for i in range(300)]
    assert all(e.lease_token == 1 and e.lease_expires_at == T0 + 61 for e in leased)
    assert await stores[1].lease(owner="late", now=T0 + 1, limit=10, lease_s=60) == []
    assert await stores[2].count_events(states=[EventState.RUNNING]) == 300


async def test_concurrent_receives_never_hand_out_a_message_twice(
    stores: list[RedisStore],
) -> None:
    await stores[0].put_messages("q", [message(i) for i in range(200)], now=T0, dedup_window_s=1)
    results = await asyncio.gather(
        *(
            store.receive_messages("q", now=T0, limit=3, visibility_s=30, sent_after=0)
            for _ in range(30)
            for store in stores
        )
    )
    got = [m.id for r in results for m in r.messages]
    assert sorted(got) == sorted(f"m{i}" for i in range(200))
    counts = await stores[1].count_messages("q", now=T0, sent_after=0)
    assert counts == MessageCounts(in_flight=200)


async def test_concurrent_fifo_receives_hold_one_batch_per_group(
    stores: list[RedisStore],
) -> None:
    sends = [message(i, group=f"g{i % 5}") for i in range(50)]
    await stores[0].put_messages("f", sends, now=T0, dedup_window_s=1)
    results = await asyncio.gather(
        *(
            store.receive_messages(
                "f", now=T0, limit=4, visibility_s=30, sent_after=0, ordered=True
            )
            for _ in range(10)
            for store in stores
        )
    )
    batches = [r.messages for r in results if r.messages]
    groups = [g for batch in batches for g in {m.group_id for m in batch}]
    assert sorted(groups) == [f"g{i}" for i in range(5)]  # each group went to one receive
    for batch in batches:
        ids = [int(m.id[1:]) for m in batch]
        assert ids == sorted(ids)


async def test_despite_cancel_undoes_what_a_cancelled_caller_took() -> None:
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    undone: list[str] = []

    async def work() -> str:
        await gate
        return "taken"

    async def undo(result: str) -> None:
        undone.append(result)

    caller = asyncio.create_task(despite_cancel(work(), undo))
    await asyncio.sleep(0)  # let the caller start waiting on the work
    caller.cancel()
    await asyncio.sleep(0)
    gate.set_result(None)
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert undone == ["taken"]


class Gated:
    """Wraps a store's script runner: one named script runs, then waits for the test."""

    def __init__(self, conn: RedisConnection, script: str) -> None:
        self.real = conn.run
        self.script = script
        self.ran = asyncio.Event()
        self.release = asyncio.Event()
        conn.run = self.run  # type: ignore[method-assign]

    async def run(self, name: str, keys: Any, args: Any) -> Any:
        result = await self.real(name, keys, args)
        if name == self.script:
            self.ran.set()
            await self.release.wait()
        return result


async def cancel_in_flight(gated: Gated, call: Any) -> None:
    caller = asyncio.create_task(call)
    await gated.ran.wait()  # the script ran on the server; its reply is not delivered yet
    caller.cancel()
    await asyncio.sleep(0)
    gated.release.set()
    with pytest.raises(asyncio.CancelledError):
        await caller


async def test_cancelled_receive_hands_its_messages_back(stores: list[RedisStore]) -> None:
    store = stores[0]
    await store.put_messages("q", [message(1), message(2)], now=T0, dedup_window_s=1)
    gated = Gated(store.conn, "message_receive")
    await cancel_in_flight(
        gated, store.receive_messages("q", now=T0, limit=10, visibility_s=30, sent_after=0)
    )
    assert await store.count_messages("q", now=T0, sent_after=0) == MessageCounts(visible=2)
    got = await stores[1].receive_messages("q", now=T0 + 1, limit=10, visibility_s=30, sent_after=0)
    assert [(m.id, m.receive_count, m.first_received_at) for m in got.messages] == [
        ("m1", 1, T0 + 1),
        ("m2", 1, T0 + 1),
    ]


async def test_cancelled_lease_hands_its_events_back(stores: list[RedisStore]) -> None:
    store = stores[0]
    await store.enqueue([job(1)])
    gated = Gated(store.conn, "event_lease")
    await cancel_in_flight(gated, store.lease(owner="gone", now=T0, limit=5, lease_s=60))
    (again,) = await stores[1].lease(owner="w", now=T0, limit=5, lease_s=60)
    assert again.id == "e0001" and again.lease_owner == "w"
    assert await stores[1].lease_owners() == ["w"]
