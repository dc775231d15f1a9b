"""The persistence contract, in domain terms.

A backend stores four kinds of things:

* documents: every configured resource (functions, versions, aliases, queues, topics, rules...)
  as a JSON object under ``(kind, key)``, with an integer revision for compare-and-swap.
  Keys start with the scope (``account/region/...``) so a prefix scan lists one scope.
* blobs: bytes by name: content-addressed function code zips, S3's object chunks.
* the asynchronous invocation queue: events with a state, a due time, and a lease.
  ``lease`` hands out due events to one worker for a while; ``reschedule`` (retry at a time)
  and ``finish`` (terminal outcome) settle a lease; an expired lease makes the event due again.
* concurrency slots: reserved concurrency enforced across every process that shares a store.
* logs: per log group and stream, appended to; the oldest lines leave by retention.
  ``query_logs``, ``log_streams`` and ``log_bytes`` serve the CloudWatch Logs API; their
  defaults here are built on ``read_logs`` (correct everywhere), a backend overrides them
  to be fast (SQLite pushes the filters, a filter pattern's :data:`Prefilter` included,
  into SQL and seeks its indexes).
  ``delete_logs`` drops a group's lines.
* retention: ``prune_events`` and ``prune_logs`` delete finished history in small batches
  (the pruning task, :mod:`sendoff.store.retention`, calls them); ``retention_stats``
  says how much is kept. A terminal event's finish time is the store's wall clock at
  ``finish`` (never the scaled clock of ``--time-scale``): retention is wall-clock time.

Message queues for the SQS service live in :mod:`sendoff.store.messages`.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sendoff.model.json_types import JSON
from sendoff.store.messages import MessageStore


@dataclass(frozen=True, kw_only=True)
class Doc:
    kind: str
    key: str
    value: JSON
    revision: int


class EventState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


TERMINAL_STATES = frozenset({EventState.SUCCEEDED, EventState.FAILED})


@dataclass(frozen=True, kw_only=True)
class EventRecord:
    """One accepted asynchronous invocation and everything known about it so far."""

    id: str
    function_key: str  # account/region/function-name: the scope used for listing
    state: EventState
    due_at: float  # epoch seconds when it may next be leased
    enqueued_at: float
    body: JSON  # the domain payload: request, attempts, outcome...
    lease_owner: str | None = None
    lease_expires_at: float | None = None
    lease_token: int = 0

    def settled(self, state: EventState, body: JSON, *, due_at: float | None = None) -> EventRecord:
        """This record as a settle leaves it: ``state``, ``body`` and, if given, ``due_at``
        (``dataclasses.replace`` without its per-field ``getattr`` and ``__init__``: every
        event settles at least once)."""
        new = object.__new__(type(self))
        values = new.__dict__
        values.update(self.__dict__)
        values["state"] = state
        values["body"] = body
        if due_at is not None:
            values["due_at"] = due_at
        return new


@dataclass(frozen=True, kw_only=True)
class RetentionStats:
    """How much history a store keeps (``/_sendoff/health``, ``/metrics``)."""

    events: int  # every stored event or delivery job, live and terminal
    oldest_finished_at: float | None  # finish time of the oldest kept terminal event
    log_bytes: int  # UTF-8 bytes of the kept log messages, every group


@dataclass(frozen=True, kw_only=True)
class LogEvent:
    timestamp_ms: int
    message: str
    seq: int = 0


@dataclass(frozen=True)
class Contains:
    """The message holds this substring (case-sensitive)."""

    text: str


@dataclass(frozen=True)
class JsonTest:
    """The message, a JSON object, has at ``path`` a value that may satisfy ``op value``:
    a number compared with ``< > <= >=`` (the value read as a number), or a string equal
    (``=``) to ``value``. A backend that cannot test it treats it as true."""

    path: tuple[str | int, ...]
    op: str
    value: float | str


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Prefilter, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Prefilter, ...]


Prefilter = Contains | JsonTest | AllOf | AnyOf
"""What a line must satisfy to be worth matching against a filter pattern. A backend
returns every line that satisfies it, and may return more (never fewer): the caller
matches each returned line against the whole pattern anyway."""


def may_match(where: Prefilter, message: str) -> bool:
    """A prefilter evaluated in Python: substrings exactly, JSON tests as true."""
    if isinstance(where, Contains):
        return where.text in message
    if isinstance(where, AllOf):
        return all(may_match(part, message) for part in where.parts)
    if isinstance(where, AnyOf):
        return any(may_match(part, message) for part in where.parts)
    return True


@dataclass(frozen=True, kw_only=True)
class LogQuery:
    """Which lines of one group ``query_logs`` returns; every member narrows.

    ``where``: a filter pattern's :data:`Prefilter`, pushed down (substrings exact, JSON
    tests possibly ignored). ``after_seq``/``before_seq`` bound the append order
    (exclusive); ``newest_first`` walks it backwards from ``before_seq``."""

    streams: tuple[str, ...] | None = None
    stream_prefix: str | None = None
    start_ms: int | None = None  # timestamp >= start_ms
    end_ms: int | None = None  # timestamp <= end_ms (inclusive)
    where: Prefilter | None = None
    after_seq: int = 0
    before_seq: int | None = None
    newest_first: bool = False
    limit: int = 1000

    def matches(self, stream: str, event: LogEvent) -> bool:
        if self.streams is not None and stream not in self.streams:
            return False
        if self.stream_prefix is not None and not stream.startswith(self.stream_prefix):
            return False
        if self.start_ms is not None and event.timestamp_ms < self.start_ms:
            return False
        if self.end_ms is not None and event.timestamp_ms > self.end_ms:
            return False
        if event.seq <= self.after_seq:
            return False
        if self.before_seq is not None and event.seq >= self.before_seq:
            return False
        return self.where is None or may_match(self.where, event.message)


@dataclass(frozen=True, kw_only=True)
class LogStreamStats:
    """What a group's stored lines say about one of its streams: its first and last line
    in append order (for a function's lines, also time order)."""

    name: str
    first_event_ms: int
    last_event_ms: int
    first_seq: int
    last_seq: int


class Store(MessageStore, ABC):
    """Everything sendoff persists. Implementations must be safe for concurrent tasks."""

    # ---- lifecycle ----
    async def open(self) -> None:
        """Prepare the backend (migrations, connections)."""

    async def close(self) -> None:
        """Release resources."""

    def write_counts(self) -> dict[str, int]:
        """What this process has written so far, for benchmarks: SQLite counts
        ``transactions`` and ``rows_written``; other backends count nothing (empty)."""
        return {}

    def add_wakeup_listener(self, callback: Callable[[str], None]) -> None:
        """Hear about work made by *other processes*: ``"jobs"`` when jobs were enqueued
        (or made due), ``"messages/<queue id>"`` when messages arrived in a queue.

        Backends that can notify across processes (PostgreSQL LISTEN/NOTIFY, Redis pub/sub)
        call every listener from the event loop. SQLite only knows that another process
        committed something (``sqlite/wakeups.py``): it calls ``"jobs"`` and ``"messages/*"``
        (some queue). Memory never calls; callers fall back to their poll interval."""
        self.wakeup_listeners().append(callback)

    def wakeup_listeners(self) -> list[Callable[[str], None]]:
        listeners: list[Callable[[str], None]] | None = self.__dict__.get("_wakeup_listeners")
        if listeners is None:
            listeners = self.__dict__["_wakeup_listeners"] = []
        return listeners

    # ---- documents ----
    @abstractmethod
    async def get(self, kind: str, key: str) -> Doc | None: ...

    @abstractmethod
    async def put(self, kind: str, key: str, value: JSON, *, expect: int | None = None) -> Doc:
        """Write a document. ``expect=None`` writes unconditionally, ``expect=0`` only creates,
        ``expect=n`` only replaces revision ``n``; otherwise raises ConflictError."""

    @abstractmethod
    async def delete(self, kind: str, key: str, *, expect: int | None = None) -> bool: ...

    @abstractmethod
    async def scan(
        self, kind: str, prefix: str = "", *, after: str | None = None, limit: int = 10_000
    ) -> list[Doc]:
        """Documents of one kind whose key starts with prefix, ordered by key, after ``after``."""

    # ---- blobs ----
    @abstractmethod
    async def put_blob(self, digest: str, data: bytes) -> None: ...

    @abstractmethod
    async def get_blob(self, digest: str) -> bytes | None: ...

    @abstractmethod
    async def delete_blob(self, digest: str) -> None:
        """Remove a blob (nothing if there is none). Only a caller that knows nothing
        refers to it may: code zips are never removed; S3 removes its chunks once no
        object refers to them (sendoff.services.s3.extents)."""

    # ---- asynchronous invocation queue ----
    @abstractmethod
    async def enqueue(self, events: Sequence[EventRecord]) -> None:
        """Durably add new events. When this returns, they survive a crash.

        An event may be enqueued already RUNNING with a lease (``lease_owner``,
        ``lease_expires_at``, ``lease_token``): its creator runs it at once, and if the
        creator dies the lease expires like any other."""

    @abstractmethod
    async def lease(
        self, *, owner: str, now: float, limit: int, lease_s: float
    ) -> list[EventRecord]:
        """Take up to ``limit`` due events (queued/retrying due, or running with an expired
        lease), mark them running under ``owner`` until ``now + lease_s``, bump lease_token."""

    @abstractmethod
    async def reschedule(
        self, event_id: str, *, token: int, due_at: float, body: JSON, state: EventState
    ) -> bool:
        """Settle a lease by making the event due again at ``due_at``. False if the lease
        was lost (token mismatch)."""

    @abstractmethod
    async def finish(self, event_id: str, *, token: int, state: EventState, body: JSON) -> bool:
        """Settle a lease with a terminal state. False if the lease was lost."""

    @abstractmethod
    async def extend_lease(self, event_id: str, *, token: int, expires_at: float) -> bool:
        """Keep a lease alive while its job runs (a heartbeat). False if it was lost."""

    @abstractmethod
    async def lease_owners(self) -> list[str]:
        """Distinct owners holding leases now (to find the leases of dead workers)."""

    @abstractmethod
    async def release_leases(self, owner: str, *, now: float) -> int:
        """Make every job leased by ``owner`` (a worker known to be dead) due now."""

    @abstractmethod
    async def next_due_at(self) -> float | None:
        """The earliest time any event becomes leasable, or None if nothing is pending."""

    @abstractmethod
    async def get_event(self, event_id: str) -> EventRecord | None: ...

    @abstractmethod
    async def list_events(
        self,
        *,
        function_key_prefix: str = "",
        states: Sequence[EventState] = (),
        after_id: str | None = None,
        limit: int = 100,
    ) -> list[EventRecord]: ...

    @abstractmethod
    async def count_events(self, *, states: Sequence[EventState] = ()) -> int: ...

    # ---- concurrency slots (reserved concurrency across every process) ----
    @abstractmethod
    async def acquire_slot(
        self, key: str, *, holder: str, limit: int, now: float, expires_at: float
    ) -> bool:
        """Take one of ``limit`` slots named ``key`` for ``holder`` until ``expires_at``.
        Slots whose holder expired are free again. False when all are taken."""

    @abstractmethod
    async def release_slot(self, key: str, *, holder: str) -> None: ...

    # ---- logs ----
    @abstractmethod
    async def append_logs(self, group: str, stream: str, events: Sequence[LogEvent]) -> None: ...

    @abstractmethod
    async def read_logs(
        self, group: str, *, stream: str | None = None, after_seq: int = 0, limit: int = 1000
    ) -> list[tuple[str, LogEvent]]:
        """(stream, event) pairs of a group in append order, with seq > after_seq."""

    async def query_logs(self, group: str, query: LogQuery) -> list[tuple[str, LogEvent]]:
        """Up to ``query.limit`` (stream, event) pairs of a group that match ``query``, in
        append order (newest first when ``query.newest_first``).

        This default pages through ``read_logs``; backends override it to filter in the
        database."""
        single = query.streams[0] if query.streams is not None and len(query.streams) == 1 else None
        # newest first: keep only the last ``limit`` matches while walking forward
        out: deque[tuple[str, LogEvent]] = deque(maxlen=query.limit if query.newest_first else None)
        after = query.after_seq
        while True:
            page = await self.read_logs(group, stream=single, after_seq=after, limit=1000)
            for stream, event in page:
                if query.before_seq is not None and event.seq >= query.before_seq:
                    page = []
                    break
                if query.matches(stream, event):
                    out.append((stream, event))
                    if len(out) >= query.limit and not query.newest_first:
                        return list(out)
            if len(page) < 1000:
                break
            after = page[-1][1].seq
        return list(reversed(out)) if query.newest_first else list(out)

    async def log_streams(self, group: str) -> list[LogStreamStats]:
        """One entry per stream that holds lines in ``group``, ordered by name.

        This default reads the whole group; backends override it with index seeks."""
        seen: dict[str, LogStreamStats] = {}
        after = 0
        while True:
            page = await self.read_logs(group, after_seq=after, limit=1000)
            for stream, e in page:
                old = seen.get(stream)
                seen[stream] = LogStreamStats(
                    name=stream,
                    first_event_ms=e.timestamp_ms if old is None else old.first_event_ms,
                    last_event_ms=e.timestamp_ms,
                    first_seq=e.seq if old is None else old.first_seq,
                    last_seq=e.seq,
                )
            if len(page) < 1000:
                break
            after = page[-1][1].seq
        return [seen[name] for name in sorted(seen)]

    async def log_bytes(self, group: str) -> int:
        """UTF-8 bytes of the messages ``group`` keeps (what retention counts).

        This default reads the whole group; backends answer from their running count."""
        total, after = 0, 0
        while True:
            page = await self.read_logs(group, after_seq=after, limit=1000)
            total += sum(len(e.message.encode()) for _, e in page)
            if len(page) < 1000:
                return total
            after = page[-1][1].seq

    @abstractmethod
    async def delete_logs(
        self, group: str, *, before_ms: int | None = None, limit: int = 1000
    ) -> int:
        """Delete up to ``limit`` lines of one group: those stamped before ``before_ms``, or
        all of them (DeleteLogGroup; a group's own retention policy). Returns how many were
        deleted; a caller loops while it gets ``limit``."""

    # ---- retention ----
    @abstractmethod
    async def prune_events(
        self, *, finished_before: float, keep_max: int | None = None, limit: int = 500
    ) -> int:
        """Delete up to ``limit`` terminal events (and terminal delivery jobs): those that
        finished before ``finished_before`` (epoch seconds, wall clock) and, when
        ``keep_max`` is given, the oldest beyond the newest ``keep_max`` terminal ones.
        Queued, running and retrying events are never deleted, whatever their age.
        Returns how many were deleted; a caller loops while it gets ``limit``."""

    @abstractmethod
    async def prune_logs(
        self, *, before_ms: int, group_max_bytes: int | None = None, limit: int = 1000
    ) -> int:
        """Delete up to ``limit`` log lines: those stamped before ``before_ms``, and the
        oldest lines of every group holding more than ``group_max_bytes`` (UTF-8 bytes of
        the messages). Returns how many were deleted; a caller loops while it gets
        ``limit``."""

    @abstractmethod
    async def retention_stats(self) -> RetentionStats: ...
