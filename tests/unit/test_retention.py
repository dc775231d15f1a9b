"""The pruning task on the memory store: its policy, wall clock, state document and stats."""

from __future__ import annotations

import time

import pytest

from sendoff.config.settings import Settings
from sendoff.metrics import Metrics
from sendoff.store import EventRecord, LogEvent
from sendoff.store.base import EventState
from sendoff.store.memory import MemoryStore
from sendoff.store.retention import (
    Pruner,
    RetentionPolicy,
    describe_duration,
    read_state,
)
from sendoff.wiring.retention import install


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(86_400, "24h"), (7 * 86_400, "7d"), (30, "30s"), (60, "1m"), (90, "90s"), (3600, "1h"),
     (172_800, "48h"), (2.5, "2.5s")],
)  # fmt: skip
def test_durations_read_as_the_flags_take_them(seconds: float, text: str) -> None:
    assert describe_duration(seconds) == text


def test_a_pass_every_tenth_of_the_window_within_1_s_and_1_min() -> None:
    assert RetentionPolicy(event_retention_s=60).interval_s == 6
    assert RetentionPolicy(event_retention_s=3).interval_s == 1
    assert RetentionPolicy().interval_s == 60


async def finished(store: MemoryStore, name: str) -> None:
    await store.enqueue([EventRecord(id=name, function_key="a/r/f", state=EventState.QUEUED,
                                     due_at=0, enqueued_at=0, body={})])  # fmt: skip
    (job,) = await store.lease(owner="w", now=1, limit=1, lease_s=5)
    assert await store.finish(job.id, token=job.lease_token, state=EventState.FAILED, body={})


async def test_pruner_uses_the_wall_clock_and_keeps_live_events() -> None:
    store = MemoryStore()
    await finished(store, "done")
    await store.enqueue([EventRecord(id="live", function_key="a/r/f", state=EventState.QUEUED,
                                     due_at=1e12, enqueued_at=0, body={})])  # fmt: skip
    await store.append_logs("g", "s", [LogEvent(timestamp_ms=int(time.time() * 1000),
                                                message="x" * 10)])  # fmt: skip
    now = [time.time()]
    metrics = Metrics()
    pruner = Pruner(store, RetentionPolicy(event_retention_s=60, log_retention_s=120),
                    clock=lambda: now[0], pause_s=0, metrics=metrics)  # fmt: skip
    report = await pruner.prune_once()
    assert (report.events, report.log_lines) == (0, 0)
    assert (await read_state(store)).get("pruned_before") is None
    now[0] += 61
    report = await pruner.prune_once()
    assert (report.events, report.log_lines) == (1, 0)
    assert await store.get_event("done") is None and await store.get_event("live") is not None
    state = await read_state(store)
    assert state["pruned_before"] == pytest.approx(now[0] - 60)
    assert state["event_retention_s"] == 60
    now[0] += 60
    assert (await pruner.prune_once()).log_lines == 1
    stats = await pruner.refresh_stats()
    assert stats.events == 1 and stats.log_bytes == 0
    assert pruner.health["stored_events"] == 1
    assert pruner.health["pruned_before"] == pytest.approx(now[0] - 120)
    assert metrics.events_pruned._value.get() == 1


async def test_count_cap_and_zero_meaning_no_cap() -> None:
    store = MemoryStore()
    for i in range(5):
        await finished(store, f"e{i}")
    pruner = Pruner(store, RetentionPolicy(event_retention_max=0), pause_s=0, batch=2)
    assert (await pruner.prune_once()).events == 0
    pruner = Pruner(store, RetentionPolicy(event_retention_max=3), pause_s=0, batch=2)
    assert (await pruner.prune_once()).events == 2
    assert await store.count_events() == 3


def test_install_takes_the_settings_and_ignores_the_time_scale() -> None:
    from sendoff.server import build_services

    settings = Settings(store_url="memory://", time_scale=0.001, event_retention_s=60,
                        event_retention_max=7, log_retention_s=90,
                        log_group_max_bytes=1000)  # fmt: skip
    services = build_services(settings)  # installs one pruner
    assert services.extra_health["retention"]["event_retention"] == "1m"
    pruner = install(services)
    assert pruner.policy == RetentionPolicy(
        event_retention_s=60, event_retention_max=7, log_retention_s=90, log_group_max_bytes=1000
    )
    assert pruner.stop in services.shutdown_hooks


def test_the_console_index_forgets_finished_rows_the_store_pruned() -> None:
    from sendoff.console.activity import EventIndex, Query

    key = "000000000000/us-east-1/fn"

    def row(n: int, state: EventState) -> EventRecord:
        body: dict[str, object] = {"kind": "invoke", "payload": "{}",
                                   "attempts": [{"started_at": 1000.0 + n}]}  # fmt: skip
        if state is EventState.SUCCEEDED:
            body["outcome"] = {"condition": "Success", "at": 1000.5 + n}
        return EventRecord(id=f"id-{n}", function_key=key, state=state, due_at=0,
                           enqueued_at=1000.0 + n, body=body)  # fmt: skip

    index = EventIndex(MemoryStore(), clock=lambda: 2000.0)
    for n in range(6):
        index.upsert_event(row(n, EventState.SUCCEEDED if n != 1 else EventState.RETRYING))
    index.upsert_event(EventRecord(id="d-1", function_key=key, state=EventState.SUCCEEDED,
                                   due_at=0, enqueued_at=0, body={"kind": "deliver"}))  # fmt: skip
    assert index.forget_finished_before(1003.0) == 2  # id-0 and id-2; id-1 is live
    listed = index.query(key, Query(limit=10))
    assert [r.id for r in listed.rows] == ["id-5", "id-4", "id-3", "id-1"]
    assert listed.matching == 4
    assert index.deliveries == {"d-1": 2000.0}  # seen after the cut-off: still counted
    assert index.forget_finished_before(3000.0) == 3 and index.deliveries == {}
