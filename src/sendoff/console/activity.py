"""The console's read model of asynchronous events: one small row per event, in memory.

The store keeps every event, but its contract lists them by id (request ids are random),
so "the newest 50 events of this function whose payload mentions X" would read the whole
history. The console instead keeps an :class:`EventIndex` of summary rows, ordered by
arrival per function, and answers its pages from memory in a few milliseconds.

How it stays current (see docs/console.md):

* **Load**: on the console's first request, every event is read once, page by page
  (``store.list_events``), in the background.
* **Settle hook**: the console observes the scheduler (``Scheduler.add_observer``); when a
  job of this process starts or settles, its row is rebuilt from the job's body at once
  (no store read). Jobs a worker process of this server starts or settles are named to
  it by that process (``Scheduler.changed_elsewhere``), and their rows read again from the
  store a moment later, so pages follow them just as closely.
* **Sweep**: every tick, one page of pending events (queued, running, retrying) is read
  by state (an indexed query), so events accepted by this or another process appear, and
  events that left the pending set are re-read.
* **Reconcile**: if the store holds more events than the index knows (another process
  ran and finished them between sweeps), the history is read again (at most once a
  minute).
* **Retention**: once a minute the index reads what the store's pruning task last pruned
  (``sendoff.store.retention``) and forgets the finished rows it deleted.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sendoff.model.job import InvokeJob, decode_job, is_invoke
from sendoff.model.json_types import JSON
from sendoff.store import EventRecord, Store
from sendoff.store.base import TERMINAL_STATES, EventState

log = logging.getLogger("sendoff.console")

PENDING_STATES = (EventState.QUEUED, EventState.RUNNING, EventState.RETRYING)
LOAD_PAGE = 1000
SWEEP_PAGE = 500
MAX_ROWS_PER_FUNCTION = 50_000
RESCAN_EVERY_S = 60.0
TEXT_LIMIT = 2048
_RANK = {EventState.QUEUED: 0, EventState.RETRYING: 0, EventState.RUNNING: 1}


@dataclass(frozen=True, kw_only=True, slots=True)
class EventRow:
    """What the console lists about one asynchronous event."""

    id: str
    function_key: str  # account/region/function
    qualifier: str
    state: EventState
    enqueued_at: float
    updated_at: float
    attempts: int
    condition: str | None
    error: str
    preview: str
    text: str  # lower-cased payload and errors, for search
    next_attempt_at: float | None
    redriven_from: str | None

    @property
    def function(self) -> str:
        return self.function_key.rsplit("/", 1)[-1]

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def progress(self) -> tuple[int, int, int]:
        """Orders snapshots of one event: later snapshots never compare lower."""
        return (1 if self.terminal else 0, self.attempts, _RANK.get(self.state, 2))


def row_of(
    *, event_id: str, function_key: str, state: EventState, enqueued_at: float, job: InvokeJob
) -> EventRow:
    errors = [a.error_message or a.error_type or "" for a in job.attempts]
    errors = [e for e in errors if e]
    outcome = job.outcome
    if outcome is not None and outcome.error:
        errors.append(outcome.error)
    payload = job.payload
    updated = max(
        [enqueued_at, (outcome.at if outcome else None) or 0.0,
         *(a.started_at or 0.0 for a in job.attempts)]
    )  # fmt: skip
    return EventRow(
        id=event_id,
        function_key=function_key,
        qualifier=job.qualifier,
        state=state,
        enqueued_at=enqueued_at,
        updated_at=updated,
        attempts=len(job.attempts),
        condition=outcome.condition if outcome else None,
        error=errors[-1][:300] if errors else "",
        preview=payload[:160],
        text=(payload[:TEXT_LIMIT] + "\n" + "\n".join(errors)[:TEXT_LIMIT]).lower(),
        next_attempt_at=job.next_attempt_at if state is EventState.RETRYING else None,
        redriven_from=job.redriven_from,
    )


def settled_state(body: JSON) -> EventState | None:
    """The state a handler left a job in, read from the body it settled with."""
    job = decode_job(body)
    if job is None:
        return None
    if isinstance(job, InvokeJob):
        if job.outcome is not None:
            return EventState.SUCCEEDED if job.outcome.succeeded else EventState.FAILED
        return EventState.RETRYING if job.next_attempt_at else None
    if job.delivered_at:
        return EventState.SUCCEEDED
    if job.error:
        return EventState.FAILED
    return EventState.RETRYING if job.failures else None


@dataclass(frozen=True, kw_only=True)
class Query:
    states: tuple[EventState, ...] = ()
    since: float | None = None
    text: str = ""
    before: tuple[float, str] | None = None  # (enqueued_at, id) of the last row shown
    limit: int = 50


@dataclass(frozen=True, kw_only=True)
class QueryResult:
    rows: list[EventRow]
    matching: int
    failed_matching: int
    more: bool


class EventIndex:
    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self.rows: dict[str, EventRow] = {}
        self.order: dict[str, list[tuple[float, str]]] = {}
        self.pending: dict[str, EventRow] = {}
        self.deliveries: dict[str, float] = {}  # delivery job id -> when first seen
        self.versions: dict[str, int] = {}
        self.counts: dict[str, dict[EventState, int]] = {}
        self.version = 0
        self.evicted = 0
        self.started = False
        self.loaded = asyncio.Event()
        self.history_hook: Callable[[EventRecord], None] | None = None
        self._sweep_after: str | None = None
        self._sweep_seen: set[str] = set()
        self._sweep_started = 0.0
        self._mismatch = 0
        self._last_rescan = 0.0
        self._reread: set[str] = set()
        self._reread_task: asyncio.Task[None] | None = None
        self._last_forget = 0.0

    # ---- writing ----
    def upsert(self, row: EventRow) -> bool:
        current = self.rows.get(row.id)
        if current is not None and row.progress < current.progress:
            return False
        if current is not None and current == row:
            return False
        self.rows[row.id] = row
        counts = self.counts.setdefault(row.function_key, {})
        if current is not None:
            counts[current.state] -= 1
        counts[row.state] = counts.get(row.state, 0) + 1
        if current is None:
            keys = self.order.setdefault(row.function_key, [])
            entry = (row.enqueued_at, row.id)
            if not keys or keys[-1] <= entry:
                keys.append(entry)
            else:
                bisect.insort(keys, entry)
            if len(keys) > MAX_ROWS_PER_FUNCTION:
                self._evict(keys)
        if row.terminal:
            self.pending.pop(row.id, None)
        else:
            self.pending[row.id] = row
        self.versions[row.function_key] = self.versions.get(row.function_key, 0) + 1
        self.version += 1
        return True

    def _evict(self, keys: list[tuple[float, str]]) -> None:
        drop = len(keys) - MAX_ROWS_PER_FUNCTION
        for _, old in keys[:drop]:
            row = self.rows.pop(old, None)
            self.pending.pop(old, None)
            if row is not None:
                self.counts[row.function_key][row.state] -= 1
            self.evicted += 1
        del keys[:drop]

    def upsert_event(self, event: EventRecord) -> None:
        self.note(event, event.state)

    def note(self, job: EventRecord, state: EventState) -> None:
        if not is_invoke(job.body):
            self.deliveries.setdefault(job.id, self.clock())
            return
        self.upsert(
            row_of(event_id=job.id, function_key=job.function_key, state=state,
                   enqueued_at=job.enqueued_at, job=InvokeJob.decode(job.body))
        )  # fmt: skip

    def observer(self) -> IndexObserver:
        """What to give ``Scheduler.add_observer`` so this index hears jobs start and settle."""
        return IndexObserver(self)

    def reread_soon(self, event_ids: Iterable[str]) -> None:
        """Read these events again in the background (each once however often named)."""
        self._reread.update(event_ids)
        if self._reread_task is None or self._reread_task.done():
            self._reread_task = asyncio.create_task(self._reread_all(), name="sendoff-reread")

    async def _reread_all(self) -> None:
        while self._reread:
            batch = list(self._reread)[:SWEEP_PAGE]
            self._reread.difference_update(batch)
            try:
                await self.refresh(batch)
            except Exception:
                log.exception("console: could not read %d event(s) again", len(batch))
                return

    async def close(self) -> None:
        if self._reread_task is not None:
            self._reread_task.cancel()
            await asyncio.gather(self._reread_task, return_exceptions=True)

    async def refresh(self, event_ids: Iterable[str]) -> None:
        for event_id in event_ids:
            event = await self.store.get_event(event_id)
            if event is not None:
                self.upsert_event(event)

    # ---- reading ----
    def query(self, function_key: str, q: Query) -> QueryResult:
        """Newest first. Counts come from per-state totals when only states filter; a time
        filter narrows by binary search; only text search reads every row in range."""
        keys = self.order.get(function_key, [])
        wanted = frozenset(q.states)
        text = q.text.strip().lower()
        first = bisect.bisect_left(keys, (q.since, "")) if q.since is not None else 0
        last = bisect.bisect_left(keys, q.before) if q.before is not None else len(keys)
        get = self.rows.get
        if text or first:
            found = [get(event_id) for _, event_id in keys[first:]]
            hits = [
                r for r in found
                if r is not None and (not wanted or r.state in wanted)
                and (not text or text in r.text or text in r.id)
            ]  # fmt: skip
            failed = sum(1 for r in hits if r.state is EventState.FAILED)
            before = [r for r in hits if (r.enqueued_at, r.id) < q.before] if q.before else hits
            page = before[::-1][: q.limit + 1]
            return QueryResult(rows=page[: q.limit], matching=len(hits), failed_matching=failed,
                               more=len(page) > q.limit)  # fmt: skip
        counts = self.counts.get(function_key, {})
        matching = sum(n for state, n in counts.items() if not wanted or state in wanted)
        failed = (
            counts.get(EventState.FAILED, 0) if not wanted or EventState.FAILED in wanted else 0
        )
        rows: list[EventRow] = []
        for index in range(last - 1, -1, -1):
            row = get(keys[index][1])
            if row is None or (wanted and row.state not in wanted):
                continue
            if len(rows) == q.limit:
                return QueryResult(rows=rows, matching=matching, failed_matching=failed, more=True)
            rows.append(row)
        return QueryResult(rows=rows, matching=matching, failed_matching=failed, more=False)

    def matching_ids(self, function_key: str, q: Query) -> list[str]:
        result = self.query(function_key, Query(states=q.states, since=q.since, text=q.text,
                                                limit=len(self.rows) + 1))  # fmt: skip
        return [r.id for r in result.rows]

    def pending_by_function(self) -> dict[str, tuple[int, float]]:
        """function key -> (events waiting or running, enqueue time of the oldest)."""
        out: dict[str, tuple[int, float]] = {}
        for row in self.pending.values():
            count, oldest = out.get(row.function_key, (0, row.enqueued_at))
            out[row.function_key] = (count + 1, min(oldest, row.enqueued_at))
        return out

    def function_version(self, function_key: str) -> int:
        return self.versions.get(function_key, 0)

    # ---- keeping current ----
    async def load(self) -> None:
        """Read the whole history once (page by page, yielding between pages)."""
        after: str | None = None
        count = 0
        while True:
            page = await self.store.list_events(after_id=after, limit=LOAD_PAGE)
            for event in page:
                self.upsert_event(event)
                if self.history_hook is not None:
                    self.history_hook(event)
            count += len(page)
            if len(page) < LOAD_PAGE:
                break
            after = page[-1].id
            await asyncio.sleep(0)
        self._last_rescan = self.clock()
        self.loaded.set()
        log.info("console: %d events in the history", count)

    async def tick(self) -> None:
        """One step of the sweep over pending events, and a reconcile when it completes."""
        if self._sweep_after is None and not self._sweep_seen:
            self._sweep_started = self.clock()
        page = await self.store.list_events(
            states=PENDING_STATES, after_id=self._sweep_after, limit=SWEEP_PAGE
        )
        for event in page:
            self.upsert_event(event)
            self._sweep_seen.add(event.id)
        if len(page) == SWEEP_PAGE:
            self._sweep_after = page[-1].id
            return
        gone = [
            row.id for row in self.pending.values()
            if row.id not in self._sweep_seen and row.updated_at < self._sweep_started
        ]  # fmt: skip
        self._sweep_after = None
        self._sweep_seen = set()
        await self.refresh(gone[:200])
        await self._forget_pruned()
        await self._reconcile()

    async def _forget_pruned(self) -> None:
        if self.clock() - self._last_forget < RESCAN_EVERY_S:
            return
        self._last_forget = self.clock()
        from sendoff.store.retention import read_state

        before = (await read_state(self.store)).get("pruned_before")
        if before:
            self.forget_finished_before(before)

    def forget_finished_before(self, before: float) -> int:
        """Drop the finished rows that last changed before ``before`` (pruned from the store),
        and the delivery jobs and evictions counted before it, so the reconcile's count of
        known events stays below the store's (if that forgets a job still stored, the
        reconcile reads the history again once)."""
        gone = [r for r in self.rows.values() if r.terminal and r.updated_at < before]
        for row in gone:
            del self.rows[row.id]
            self.counts[row.function_key][row.state] -= 1
            self.versions[row.function_key] = self.versions.get(row.function_key, 0) + 1
        dropped = {row.id for row in gone}
        for key in {row.function_key for row in gone}:
            self.order[key] = [entry for entry in self.order[key] if entry[1] not in dropped]
        self.deliveries = {k: t for k, t in self.deliveries.items() if t >= before}
        if gone:
            self.evicted = 0
            self.version += 1
        return len(gone)

    async def _reconcile(self) -> None:
        known = len(self.rows) + len(self.deliveries) + self.evicted
        total = await self.store.count_events()
        self._mismatch = self._mismatch + 1 if total > known else 0
        if self._mismatch >= 2 and self.clock() - self._last_rescan > RESCAN_EVERY_S:
            self._mismatch = 0
            hook, self.history_hook = self.history_hook, None
            try:
                await self.load()
            finally:
                self.history_hook = hook


class IndexObserver:
    """The scheduler observer that tells the index when each job starts and settles."""

    def __init__(self, index: EventIndex) -> None:
        self.index = index

    def job_started(self, job: EventRecord) -> None:
        if self.index.started:
            self.index.note(job, EventState.RUNNING)

    def job_finished(self, job: EventRecord) -> None:
        if self.index.started:
            state = settled_state(job.body)
            if state is not None:
                self.index.note(job, state)

    def jobs_changed_elsewhere(self, ids: list[str]) -> None:
        if self.index.started:
            self.index.reread_soon(ids)
