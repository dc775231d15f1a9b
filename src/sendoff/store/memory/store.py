"""In-memory backend: a real, complete store kept in dictionaries, for fast tests.

Every method runs without awaiting, so each call is atomic on the event loop.
"""

from __future__ import annotations

import bisect
import copy
import time
from collections.abc import Sequence
from dataclasses import replace

from sendoff.errors import ConflictError
from sendoff.model.json_types import JSON
from sendoff.store.base import (
    TERMINAL_STATES,
    Doc,
    EventRecord,
    EventState,
    LogEvent,
    RetentionStats,
    Store,
)
from sendoff.store.memory.messages import MemoryMessages


class MemoryStore(MemoryMessages, Store):
    def __init__(self) -> None:
        super().__init__()
        self._docs: dict[str, dict[str, Doc]] = {}
        self._sorted_keys: dict[str, list[str]] = {}
        self._blobs: dict[str, bytes] = {}
        self._events: dict[str, EventRecord] = {}
        self._finished: dict[str, float] = {}  # terminal event id -> wall-clock finish time
        self._logs: dict[str, list[tuple[str, LogEvent]]] = {}
        self._slots: dict[str, dict[str, float]] = {}
        self._log_seq = 0

    # ---- documents ----
    async def get(self, kind: str, key: str) -> Doc | None:
        doc = self._docs.get(kind, {}).get(key)
        return None if doc is None else replace(doc, value=copy.deepcopy(doc.value))

    async def put(self, kind: str, key: str, value: JSON, *, expect: int | None = None) -> Doc:
        docs = self._docs.setdefault(kind, {})
        current = docs.get(key)
        current_rev = current.revision if current else 0
        if expect is not None and expect != current_rev:
            raise ConflictError(f"{kind} {key}: expected revision {expect}, found {current_rev}")
        doc = Doc(kind=kind, key=key, value=copy.deepcopy(value), revision=current_rev + 1)
        docs[key] = doc
        if current is None:
            bisect.insort(self._sorted_keys.setdefault(kind, []), key)
        return replace(doc, value=copy.deepcopy(value))

    async def delete(self, kind: str, key: str, *, expect: int | None = None) -> bool:
        docs = self._docs.get(kind, {})
        current = docs.get(key)
        if current is None:
            return False
        if expect is not None and expect != current.revision:
            raise ConflictError(f"{kind} {key}: expected revision {expect}")
        del docs[key]
        keys = self._sorted_keys[kind]
        keys.pop(bisect.bisect_left(keys, key))
        return True

    async def scan(
        self, kind: str, prefix: str = "", *, after: str | None = None, limit: int = 10_000
    ) -> list[Doc]:
        keys = self._sorted_keys.get(kind, [])
        start = bisect.bisect_right(keys, after) if after is not None else 0
        start = max(start, bisect.bisect_left(keys, prefix))
        out: list[Doc] = []
        docs = self._docs[kind] if keys else {}
        for key in keys[start:]:
            if not key.startswith(prefix) or len(out) >= limit:
                break
            doc = docs[key]
            out.append(replace(doc, value=copy.deepcopy(doc.value)))
        return out

    # ---- blobs ----
    async def put_blob(self, digest: str, data: bytes) -> None:
        self._blobs[digest] = data

    async def get_blob(self, digest: str) -> bytes | None:
        return self._blobs.get(digest)

    async def delete_blob(self, digest: str) -> None:
        self._blobs.pop(digest, None)

    # ---- events ----
    async def enqueue(self, events: Sequence[EventRecord]) -> None:
        for event in events:
            self._events[event.id] = replace(event, body=copy.deepcopy(event.body))
            if event.state in TERMINAL_STATES:
                self._finished[event.id] = time.time()

    def _due(self, event: EventRecord, now: float) -> bool:
        if event.state in (EventState.QUEUED, EventState.RETRYING):
            return event.due_at <= now
        if event.state is EventState.RUNNING:
            return (event.lease_expires_at or 0) <= now
        return False

    async def lease(
        self, *, owner: str, now: float, limit: int, lease_s: float
    ) -> list[EventRecord]:
        due = sorted(
            (e for e in self._events.values() if self._due(e, now)),
            key=lambda e: (e.due_at, e.enqueued_at),
        )[:limit]
        out = []
        for event in due:
            leased = replace(
                event,
                state=EventState.RUNNING,
                lease_owner=owner,
                lease_expires_at=now + lease_s,
                lease_token=event.lease_token + 1,
            )
            self._events[event.id] = leased
            out.append(replace(leased, body=copy.deepcopy(leased.body)))
        return out

    def _holds(self, event_id: str, token: int) -> EventRecord | None:
        event = self._events.get(event_id)
        if event is None or event.lease_token != token or event.state in TERMINAL_STATES:
            return None
        return event

    async def reschedule(
        self, event_id: str, *, token: int, due_at: float, body: JSON, state: EventState
    ) -> bool:
        event = self._holds(event_id, token)
        if event is None:
            return False
        self._events[event_id] = replace(
            event,
            state=state,
            due_at=due_at,
            body=copy.deepcopy(body),
            lease_owner=None,
            lease_expires_at=None,
        )
        return True

    async def finish(self, event_id: str, *, token: int, state: EventState, body: JSON) -> bool:
        event = self._holds(event_id, token)
        if event is None:
            return False
        self._events[event_id] = replace(
            event, state=state, body=copy.deepcopy(body), lease_owner=None, lease_expires_at=None
        )
        self._finished[event_id] = time.time()
        return True

    async def extend_lease(self, event_id: str, *, token: int, expires_at: float) -> bool:
        event = self._holds(event_id, token)
        if event is None or event.state is not EventState.RUNNING:
            return False
        self._events[event_id] = replace(event, lease_expires_at=expires_at)
        return True

    async def lease_owners(self) -> list[str]:
        return sorted(
            {
                e.lease_owner
                for e in self._events.values()
                if e.state is EventState.RUNNING and e.lease_owner
            }
        )

    async def release_leases(self, owner: str, *, now: float) -> int:
        released = 0
        for event in list(self._events.values()):
            if event.state is EventState.RUNNING and event.lease_owner == owner:
                self._events[event.id] = replace(event, lease_expires_at=now)
                released += 1
        return released

    async def next_due_at(self) -> float | None:
        times = [
            e.due_at if e.state is not EventState.RUNNING else (e.lease_expires_at or 0)
            for e in self._events.values()
            if e.state not in TERMINAL_STATES
        ]
        return min(times) if times else None

    async def get_event(self, event_id: str) -> EventRecord | None:
        event = self._events.get(event_id)
        return None if event is None else replace(event, body=copy.deepcopy(event.body))

    async def list_events(
        self,
        *,
        function_key_prefix: str = "",
        states: Sequence[EventState] = (),
        after_id: str | None = None,
        limit: int = 100,
    ) -> list[EventRecord]:
        wanted = set(states)
        rows = sorted(
            (
                e
                for e in self._events.values()
                if e.function_key.startswith(function_key_prefix)
                and (not wanted or e.state in wanted)
                and (after_id is None or e.id > after_id)
            ),
            key=lambda e: e.id,
        )
        return [replace(e, body=copy.deepcopy(e.body)) for e in rows[:limit]]

    async def count_events(self, *, states: Sequence[EventState] = ()) -> int:
        wanted = set(states)
        return sum(1 for e in self._events.values() if not wanted or e.state in wanted)

    # ---- concurrency slots ----
    async def acquire_slot(
        self, key: str, *, holder: str, limit: int, now: float, expires_at: float
    ) -> bool:
        held = {h: t for h, t in self._slots.get(key, {}).items() if t > now}
        if holder not in held and len(held) >= limit:
            self._slots[key] = held
            return False
        held[holder] = expires_at
        self._slots[key] = held
        return True

    async def release_slot(self, key: str, *, holder: str) -> None:
        self._slots.get(key, {}).pop(holder, None)

    # ---- logs ----
    async def append_logs(self, group: str, stream: str, events: Sequence[LogEvent]) -> None:
        rows = self._logs.setdefault(group, [])
        for event in events:
            self._log_seq += 1
            rows.append((stream, replace(event, seq=self._log_seq)))

    async def read_logs(
        self, group: str, *, stream: str | None = None, after_seq: int = 0, limit: int = 1000
    ) -> list[tuple[str, LogEvent]]:
        rows = self._logs.get(group, [])
        start = bisect.bisect_right([e.seq for _, e in rows], after_seq)
        out = [(s, e) for s, e in rows[start:] if stream is None or s == stream]
        return out[:limit]

    async def log_bytes(self, group: str) -> int:
        return self._log_bytes(group)

    async def delete_logs(
        self, group: str, *, before_ms: int | None = None, limit: int = 1000
    ) -> int:
        rows = self._logs.get(group, [])
        doomed = [
            i for i, (_, e) in enumerate(rows) if before_ms is None or e.timestamp_ms < before_ms
        ][:limit]
        for i in reversed(doomed):
            del rows[i]
        if not rows:
            self._logs.pop(group, None)
        return len(doomed)

    # ---- retention ----
    async def prune_events(
        self, *, finished_before: float, keep_max: int | None = None, limit: int = 500
    ) -> int:
        oldest_first = sorted(self._finished, key=self._finished.__getitem__)
        excess = max(len(oldest_first) - keep_max, 0) if keep_max is not None else 0
        doomed = [
            event_id
            for index, event_id in enumerate(oldest_first)
            if index < excess or self._finished[event_id] < finished_before
        ][:limit]
        for event_id in doomed:
            del self._finished[event_id]
            del self._events[event_id]
        return len(doomed)

    def _log_bytes(self, group: str) -> int:
        return sum(len(e.message.encode()) for _, e in self._logs.get(group, []))

    async def prune_logs(
        self, *, before_ms: int, group_max_bytes: int | None = None, limit: int = 1000
    ) -> int:
        deleted = 0
        for group, rows in list(self._logs.items()):
            size = self._log_bytes(group)
            cut = 0
            while cut < len(rows) and deleted < limit:
                line = rows[cut][1]
                over = group_max_bytes is not None and size > group_max_bytes
                if not over and line.timestamp_ms >= before_ms:
                    break
                size -= len(line.message.encode())
                cut += 1
                deleted += 1
            del rows[:cut]
            if not rows:
                del self._logs[group]
        return deleted

    async def retention_stats(self) -> RetentionStats:
        return RetentionStats(
            events=len(self._events),
            oldest_finished_at=min(self._finished.values(), default=None),
            log_bytes=sum(self._log_bytes(g) for g in self._logs),
        )
