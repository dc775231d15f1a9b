"""LISTEN/NOTIFY: work made through one store wakes the listeners of another store on the
same schema (another process), never those of another schema, and survives reconnects."""

from __future__ import annotations

from sendoff.store import EventRecord
from sendoff.store.base import EventState
from sendoff.store.messages import QueuedMessage, VisibilityChange
from sendoff.store.postgres import PostgresStore
from tests.contract.conftest import unavailable
from tests.support.backend_postgres import admin, eventually, shared_stores

T0 = 1_000_000.0


def job(i: int) -> EventRecord:
    return EventRecord(
        id=f"e{i}",
        function_key="a/r/f",
        state=EventState.QUEUED,
        due_at=0.0,
        enqueued_at=0.0,
        body={},
    )


def message(mid: str) -> QueuedMessage:
    return QueuedMessage(id=mid, body="b", meta={}, sent_at=T0, visible_at=T0)


def listen(store: PostgresStore) -> list[str]:
    heard: list[str] = []
    store.add_wakeup_listener(heard.append)
    return heard


async def listening(store: PostgresStore) -> None:
    assert store.listener is not None
    await eventually(store.listener.listening.is_set)


async def test_enqueue_and_sends_wake_the_other_process() -> None:
    async with shared_stores(unavailable, 2) as (sender, worker):
        heard = listen(worker)
        await listening(worker)
        await sender.enqueue([job(1)])
        await eventually(lambda: "jobs" in heard)
        await sender.put_messages("q1", [message("m")], now=T0, dedup_window_s=0)
        await eventually(lambda: "messages/q1" in heard)
        received = await worker.receive_messages(
            "q1", now=T0, limit=1, visibility_s=30, sent_after=0
        )
        (got,) = received.messages
        heard.clear()
        change = VisibilityChange(seq=got.seq, receipt=got.receipt or "", visible_at=T0)
        await sender.change_visibility("q1", [change], now=T0)  # visible again at once
        await eventually(lambda: "messages/q1" in heard)


async def test_reschedule_and_released_leases_wake_workers() -> None:
    async with shared_stores(unavailable, 2) as (one, two):
        heard = listen(two)
        await listening(two)
        await one.enqueue([job(1), job(2)])
        leased = await one.lease(owner="dead", now=0, limit=2, lease_s=100)
        await eventually(lambda: "jobs" in heard)
        heard.clear()
        await one.reschedule(
            leased[0].id, token=leased[0].lease_token, due_at=0, body={}, state=EventState.RETRYING
        )
        await eventually(lambda: "jobs" in heard)
        heard.clear()
        assert await one.release_leases("dead", now=1) == 1
        await eventually(lambda: "jobs" in heard)


async def test_other_schemas_are_not_woken() -> None:
    async with shared_stores(unavailable, 1) as (other,), shared_stores(unavailable, 2) as pair:
        mine, sender = pair
        heard = listen(mine)
        await listening(mine)
        await other.put_messages("elsewhere", [message("x")], now=T0, dedup_window_s=0)
        await sender.put_messages("here", [message("y")], now=T0, dedup_window_s=0)
        # notifications arrive in commit order: had "elsewhere" reached us, it would be first
        await eventually(lambda: "messages/here" in heard)
        assert "messages/elsewhere" not in heard


async def test_listener_reconnects_and_wakes_everyone_once_back() -> None:
    async with shared_stores(unavailable, 2) as (sender, worker):
        heard = listen(worker)
        await listening(worker)
        assert worker.listener is not None and worker.listener.backend_pid is not None
        conn = await admin(unavailable)
        async with conn:
            await conn.execute("SELECT pg_terminate_backend(%s)", (worker.listener.backend_pid,))
        listener = worker.listener
        await eventually(lambda: listener.connects >= 2 and listener.listening.is_set())
        await eventually(lambda: "jobs" in heard)  # may have missed some: look again
        heard.clear()
        await sender.put_messages("q", [message("m")], now=T0, dedup_window_s=0)
        await eventually(lambda: "messages/q" in heard)


async def test_a_failing_listener_does_not_stop_the_others() -> None:
    async with shared_stores(unavailable, 2) as (sender, worker):

        def broken(topic: str) -> None:
            raise RuntimeError("subscriber bug")

        worker.add_wakeup_listener(broken)
        heard = listen(worker)
        await listening(worker)
        await sender.enqueue([job(1)])
        await eventually(lambda: "jobs" in heard)
