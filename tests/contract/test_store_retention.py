"""Retention: terminal events and old log lines are pruned in batches; live events never are.

Finish times are the store's wall clock at ``finish``, so the tests take ``time.time()``
cut-offs between finishes (waiting, with a deadline, until the clock has moved past one).
"""

from __future__ import annotations

import time

from sendoff.store import EventRecord, LogEvent, Store
from sendoff.store.base import EventState


def event(name: str, *, kind: str = "invoke", due: float = 0.0) -> EventRecord:
    return EventRecord(
        id=name,
        function_key="acct/r/f",
        state=EventState.QUEUED,
        due_at=due,
        enqueued_at=0.0,  # enqueued in 1970: age alone never makes an event prunable
        body={"kind": kind, "name": name},
    )


def after_now() -> float:
    """A cut-off later than every finish so far, and earlier than every later one (waits
    the 2 ms it takes the wall clock to pass it)."""
    cut = time.time() + 0.002
    while time.time() <= cut:
        time.sleep(0.0005)
    return cut


async def run_to(store: Store, name: str, state: EventState) -> None:
    """Lease ``name`` (due now, unlike the live ones kept in the future) and settle it."""
    leased = await store.lease(owner="w", now=1.0, limit=10, lease_s=30)
    job = next(e for e in leased if e.id == name)
    others = [e for e in leased if e.id != name]
    assert not others, "only one event is due at a time in these tests"
    if state in (EventState.SUCCEEDED, EventState.FAILED):
        assert await store.finish(job.id, token=job.lease_token, state=state, body={"ok": 1})
    else:
        assert await store.reschedule(
            job.id, token=job.lease_token, due_at=1e12, body={"again": 1}, state=state
        )


async def add_due(store: Store, name: str, **kw: str) -> None:
    await store.enqueue([event(name, **kw)])


async def test_terminal_events_older_than_the_window_go_and_live_ones_stay(store: Store) -> None:
    # live: queued (due far ahead), retrying, running with a long lease
    await store.enqueue([event("live-queued", due=1e12)])
    await add_due(store, "live-retrying")
    await run_to(store, "live-retrying", EventState.RETRYING)
    await add_due(store, "live-running")
    (running,) = await store.lease(owner="w", now=1.0, limit=10, lease_s=1e12)
    assert running.id == "live-running"
    # terminal: an invocation that succeeded, one that failed, a delivery job
    for name, state in (("old-ok", EventState.SUCCEEDED), ("old-failed", EventState.FAILED)):
        await add_due(store, name)
        await run_to(store, name, state)
    await add_due(store, "d-old", kind="deliver")
    await run_to(store, "d-old", EventState.SUCCEEDED)
    cut = after_now()
    await add_due(store, "new-ok")
    await run_to(store, "new-ok", EventState.SUCCEEDED)

    assert await store.prune_events(finished_before=cut, limit=100) == 3
    for gone in ("old-ok", "old-failed", "d-old"):
        assert await store.get_event(gone) is None
    kept = {e.id: e.state for e in await store.list_events(limit=100)}
    assert kept == {
        "live-queued": EventState.QUEUED,
        "live-retrying": EventState.RETRYING,
        "live-running": EventState.RUNNING,
        "new-ok": EventState.SUCCEEDED,
    }
    assert await store.count_events() == 4
    assert await store.count_events(states=[EventState.FAILED]) == 0
    # nothing older is left; a window that ends in the future takes only terminal events
    assert await store.prune_events(finished_before=cut, limit=100) == 0
    assert await store.prune_events(finished_before=time.time() + 3600, limit=100) == 1
    assert sorted(e.id for e in await store.list_events(limit=100)) == [
        "live-queued", "live-retrying", "live-running",
    ]  # fmt: skip
    # the live ones are still leasable
    leased = await store.lease(owner="x", now=2e12, limit=10, lease_s=5)
    assert {e.id for e in leased} == {"live-queued", "live-retrying", "live-running"}


async def test_pruning_goes_in_batches_of_at_most_limit(store: Store) -> None:
    for i in range(7):
        await add_due(store, f"e{i}")
        await run_to(store, f"e{i}", EventState.SUCCEEDED)
    cut = after_now()
    got = [await store.prune_events(finished_before=cut, limit=3) for _ in range(4)]
    assert got == [3, 3, 1, 0]
    assert await store.count_events() == 0


async def test_count_cap_keeps_the_newest_terminal_events(store: Store) -> None:
    await store.enqueue([event("live", due=1e12)])
    for i in range(5):
        await add_due(store, f"e{i}")
        await run_to(store, f"e{i}", EventState.FAILED if i % 2 else EventState.SUCCEEDED)
        after_now()  # finish times strictly increase
    assert await store.prune_events(finished_before=0.0, keep_max=2, limit=2) == 2
    assert await store.prune_events(finished_before=0.0, keep_max=2, limit=2) == 1
    assert await store.prune_events(finished_before=0.0, keep_max=2, limit=2) == 0
    assert sorted(e.id for e in await store.list_events(limit=100)) == ["e3", "e4", "live"]
    assert await store.prune_events(finished_before=0.0, keep_max=0, limit=10) == 2
    assert [e.id for e in await store.list_events(limit=100)] == ["live"]


async def test_stats_count_events_log_bytes_and_the_oldest_kept(store: Store) -> None:
    empty = await store.retention_stats()
    assert (empty.events, empty.oldest_finished_at, empty.log_bytes) == (0, None, 0)
    before = time.time()
    await add_due(store, "a")
    await run_to(store, "a", EventState.SUCCEEDED)
    first_done = after_now()
    await add_due(store, "b")
    await run_to(store, "b", EventState.FAILED)
    await store.enqueue([event("live", due=1e12)])
    await store.append_logs("g1", "s", [LogEvent(timestamp_ms=1, message="héllo")])  # 6 bytes
    await store.append_logs("g2", "s", [LogEvent(timestamp_ms=1, message="abcd")])
    stats = await store.retention_stats()
    assert stats.events == 3
    assert stats.oldest_finished_at is not None
    assert before <= stats.oldest_finished_at < first_done
    assert stats.log_bytes == 10
    await store.prune_events(finished_before=first_done, limit=10)
    later = await store.retention_stats()
    assert later.events == 2
    assert later.oldest_finished_at is not None and later.oldest_finished_at >= first_done


def lines(start_ms: int, count: int, message: str = "x" * 100) -> list[LogEvent]:
    return [LogEvent(timestamp_ms=start_ms + i, message=message) for i in range(count)]


async def test_logs_expire_by_time(store: Store) -> None:
    await store.append_logs("g1", "s1", lines(1000, 5))
    await store.append_logs("g2", "s1", lines(5000, 2))
    assert await store.prune_logs(before_ms=1003, limit=100) == 3
    assert [e.timestamp_ms for _, e in await store.read_logs("g1")] == [1003, 1004]
    assert len(await store.read_logs("g2")) == 2
    assert await store.prune_logs(before_ms=1003, limit=100) == 0
    stats = await store.retention_stats()
    assert stats.log_bytes == 4 * 100
    # appending after a prune goes on with fresh sequence numbers
    await store.append_logs("g1", "s2", lines(6000, 1))
    assert [s for s, _ in await store.read_logs("g1")] == ["s1", "s1", "s2"]


async def test_each_log_group_is_capped_in_bytes_keeping_the_newest(store: Store) -> None:
    await store.append_logs("chatty", "s", lines(1, 10))
    await store.append_logs("chatty", "s", lines(11, 10))
    await store.append_logs("quiet", "s", lines(1, 3))
    # 2,000 bytes in chatty, 300 in quiet; cap 1,000, in batches of 4
    got = [await store.prune_logs(before_ms=0, group_max_bytes=1000, limit=4) for _ in range(4)]
    assert got == [4, 4, 2, 0]
    kept = [e.timestamp_ms for _, e in await store.read_logs("chatty")]
    assert kept == list(range(11, 21))
    assert len(await store.read_logs("quiet")) == 3
    assert (await store.retention_stats()).log_bytes == 1300
    # bytes are UTF-8 bytes: 40 two-byte characters are 80 bytes, 15 lines 1,200 bytes
    await store.append_logs("wide", "s", lines(1, 15, "é" * 40))
    assert await store.prune_logs(before_ms=0, group_max_bytes=1000, limit=100) == 3
    assert len(await store.read_logs("wide")) == 12
