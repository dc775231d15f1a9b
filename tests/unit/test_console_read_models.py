"""The console's read models and pure helpers, on the memory store (no server)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sendoff.console.activity import EventIndex, Query, settled_state
from sendoff.console.charts import build_chart
from sendoff.console.forms import build_zip, editable, place_error, read_zip
from sendoff.console.history import METRICS, MinuteSeries, nice_ceiling
from sendoff.console.pages.logs import LogTail
from sendoff.console.web import Form, ago, span
from sendoff.metrics import Metrics
from sendoff.scheduler.redrive import redrive_events, redriven
from sendoff.store import EventRecord, LogEvent, open_store
from sendoff.store.base import EventState

KEY = "000000000000/us-east-1/fn"


def event(
    n: int, state: EventState = EventState.SUCCEEDED, *, payload: str = "{}", **body: Any
) -> EventRecord:
    base: dict[str, Any] = {
        "kind": "invoke", "function_name": "fn", "qualifier": "$LATEST", "payload": payload,
        "attempts": [{"started_at": 1000.0 + n, "outcome": "success", "duration_ms": 2.0}],
    }  # fmt: skip
    if state in (EventState.SUCCEEDED, EventState.FAILED):
        condition = "Success" if state is EventState.SUCCEEDED else "RetriesExhausted"
        base["outcome"] = {"condition": condition, "at": 1000.5 + n, "deliveries": []}
    base.update(body)
    return EventRecord(id=f"id-{n:05d}", function_key=KEY, state=state, due_at=1000.0 + n,
                       enqueued_at=1000.0 + n, body=base)  # fmt: skip


def index_of(events: list[EventRecord]) -> EventIndex:
    index = EventIndex(open_store("memory://"), clock=lambda: 2000.0)
    for e in events:
        index.upsert_event(e)
    return index


def test_query_is_newest_first_with_counts_and_paging() -> None:
    index = index_of([event(n, EventState.FAILED if n % 3 == 0 else EventState.SUCCEEDED)
                      for n in range(10)])  # fmt: skip
    first = index.query(KEY, Query(limit=4))
    assert [r.id for r in first.rows] == ["id-00009", "id-00008", "id-00007", "id-00006"]
    assert (first.matching, first.failed_matching, first.more) == (10, 4, True)
    last = first.rows[-1]
    second = index.query(KEY, Query(limit=4, before=(last.enqueued_at, last.id)))
    assert [r.id for r in second.rows] == ["id-00005", "id-00004", "id-00003", "id-00002"]
    failed = index.query(KEY, Query(states=(EventState.FAILED,)))
    assert [r.id for r in failed.rows] == ["id-00009", "id-00006", "id-00003", "id-00000"]
    recent = index.query(KEY, Query(since=1007.0))
    assert recent.matching == 3


def test_text_search_reads_payloads_and_errors() -> None:
    failing = event(1, EventState.FAILED, payload='{"order": 7}')
    failing.body["attempts"][0].update(outcome="error", error_message="Card Declined")
    index = index_of([event(0, payload='{"order": 42}'), failing])
    assert [r.id for r in index.query(KEY, Query(text='"order": 42')).rows] == ["id-00000"]
    assert [r.id for r in index.query(KEY, Query(text="card declined")).rows] == ["id-00001"]
    assert index.matching_ids(KEY, Query(states=(EventState.FAILED,), text="declined")) == [
        "id-00001"
    ]


def test_a_stale_snapshot_never_replaces_a_newer_one() -> None:
    index = index_of([event(1)])
    stale = event(1, EventState.RUNNING)
    stale.body["attempts"] = []
    index.upsert_event(stale)
    assert index.rows["id-00001"].state is EventState.SUCCEEDED
    assert index.pending == {}
    assert index.counts[KEY] == {EventState.SUCCEEDED: 1}


@pytest.mark.parametrize(
    ("body", "state"),
    [
        ({"outcome": {"condition": "Success"}}, EventState.SUCCEEDED),
        ({"outcome": {"condition": "EventAgeExceeded"}}, EventState.FAILED),
        ({"next_attempt_at": 5.0}, EventState.RETRYING),
        ({}, None),
        ({"kind": "deliver", "delivered_at": 1.0}, EventState.SUCCEEDED),
        ({"kind": "deliver", "error": "gone", "failures": [{}]}, EventState.FAILED),
        ({"kind": "deliver", "failures": [{}]}, EventState.RETRYING),
    ],
)
def test_settled_state_from_the_body(body: dict[str, Any], state: EventState | None) -> None:
    assert settled_state(body) is state


def test_the_sweep_finds_pending_events_and_notices_when_they_finish() -> None:
    async def scenario() -> None:
        store = open_store("memory://")
        await store.open()
        index = EventIndex(store, clock=lambda: 5000.0)
        queued = event(1, EventState.QUEUED)
        await store.enqueue([queued])
        await index.tick()
        assert list(index.pending) == ["id-00001"]
        (job,) = await store.lease(owner="w", now=5000.0, limit=1, lease_s=30)
        done = event(1)
        await store.finish(job.id, token=job.lease_token, state=EventState.SUCCEEDED,
                           body=done.body)  # fmt: skip
        await index.tick()
        assert index.pending == {}
        assert index.rows["id-00001"].state is EventState.SUCCEEDED

    asyncio.run(scenario())


def test_minute_series_backfills_history_and_samples_metrics() -> None:
    metrics = Metrics()
    now = [10_000.0]
    series = MinuteSeries(metrics, clock=lambda: now[0])
    series.start()
    failed = event(0, EventState.FAILED)
    failed = EventRecord(**{**failed.__dict__, "enqueued_at": 9_900.0})
    failed.body["attempts"] = [
        {"started_at": 9_901.0, "outcome": "error", "duration_ms": 4.0},
        {"started_at": 9_962.0, "outcome": "error", "duration_ms": 6.0},
    ]
    failed.body["outcome"] = {"condition": "RetriesExhausted", "at": 9_963.0}
    series.backfill(failed)
    metrics.invocations.labels("fn", "fn").inc(3)
    metrics.duration.labels("fn", "fn").observe(10.0)
    series.sample()
    points = series.points("fn", "Invocations", end=now[0], minutes=3, step=1)
    assert points == [0.0, 1.0, 4.0]  # one attempt a minute from history, three sampled now
    assert series.total("fn", "Errors", since=9_800.0) == 2
    assert series.total("fn", "AsyncEventsDropped", since=9_800.0) == 1
    assert series.average("fn", "Duration", since=9_800.0) == pytest.approx(20.0 / 3)
    assert series.points("fn", "Duration", end=now[0], minutes=1, step=1) == [8.0]
    # what history shows after start() is never counted twice
    late = event(5)
    late.body["attempts"] = [{"started_at": 10_001.0, "outcome": "success"}]
    series.backfill(late)
    assert series.total("fn", "Invocations", since=9_800.0) == 5


def test_charts_describe_themselves() -> None:
    spec = next(m for m in METRICS if m.name == "Errors")
    chart = build_chart(spec, [0.0, 2.0, None, 5.0], start=0.0, step_s=60, chart_id="c")
    assert chart.headline == "7 total"
    assert "highest 5 at 00:03 UTC" in chart.summary
    assert str(chart.svg).count("<rect") == 2
    assert chart.rows == [("00:01", "2"), ("00:03", "5")]
    assert nice_ceiling(7) == 10 and nice_ceiling(0) == 1 and nice_ceiling(120) == 200


def test_errors_land_next_to_the_field_they_name() -> None:
    form = Form()
    place_error(form, "Value '5' at 'maximumRetryAttempts' failed", {"maximumRetryAttempts":
                "retries", "maximumEventAgeInSeconds": "age"}, default="_form")  # fmt: skip
    place_error(form, "Something else", {"x": "y"}, default="_form")
    assert form.errors == {"retries": "Value '5' at 'maximumRetryAttempts' failed",
                           "_form": "Something else"}  # fmt: skip


def test_inline_code_round_trips_through_zips() -> None:
    data = build_zip({"index.js": "exports.handler = 1;\n", "bootstrap": "#!/bin/sh\n"},
                     executable=frozenset({"bootstrap"}))  # fmt: skip
    files = read_zip(data)
    assert [(f.name, f.text, f.executable) for f in files] == [
        ("index.js", "exports.handler = 1;\n", False), ("bootstrap", "#!/bin/sh\n", True)
    ]  # fmt: skip
    assert editable(files)
    assert not editable(read_zip(build_zip({"big.bin": "\x00" * 10})))


def test_redrive_makes_a_fresh_event_from_a_failed_one() -> None:
    failed = event(1, EventState.FAILED, next_attempt_at=3.0, last_response={"x": 1})
    again = redriven(failed, new_id="new", now=50.0)
    assert again is not None
    assert (again.id, again.state, again.enqueued_at) == ("new", EventState.QUEUED, 50.0)
    assert again.body["attempts"] == [] and again.body["redriven_from"] == "id-00001"
    assert "outcome" not in again.body and "last_response" not in again.body
    assert redriven(event(2), new_id="x", now=1.0) is None

    async def scenario() -> None:
        store = open_store("memory://")
        await store.open()
        await store.enqueue([failed, event(2)])
        pairs = await redrive_events(store, ["id-00001", "id-00002", "nope"], now=9.0)
        assert [old for old, _ in pairs] == ["id-00001"]
        assert (await store.get_event(pairs[0][1])) is not None

    asyncio.run(scenario())


def test_log_tail_finds_the_last_lines_without_reading_everything() -> None:
    async def scenario() -> None:
        store = open_store("memory://")
        await store.open()
        for i in range(50):
            for group in ("a", "b"):
                line = LogEvent(timestamp_ms=i, message=f"{group}{i}")
                await store.append_logs(f"/aws/lambda/{group}", "s", [line])
        tail = LogTail(store)
        rows = await tail.last("/aws/lambda/a", 5)
        assert [e.message for _, e in rows] == ["a45", "a46", "a47", "a48", "a49"]
        await store.append_logs("/aws/lambda/a", "s", [LogEvent(timestamp_ms=0, message="a50")])
        rows = await tail.last("/aws/lambda/a", 2)
        assert [e.message for _, e in rows] == ["a49", "a50"]
        assert await tail.last("/aws/lambda/none", 5) == []

    asyncio.run(scenario())


def test_human_times() -> None:
    assert span(0.25) == "250 ms" and span(65) == "1 min 5 s" and span(7200) == "2 h"
    assert ago(95.0, now=100.0) == "5.0 s ago" and ago(None) == "—"
