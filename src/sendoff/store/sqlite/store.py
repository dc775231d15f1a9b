"""SQLite backend: the embedded default. Queries live in ``sql/queries.sql``, the schema in
its numbered migrations; see :mod:`sendoff.store.sqlite.db` for durability."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from sendoff.errors import ConflictError
from sendoff.model.json_types import JSON
from sendoff.store import jsontext
from sendoff.store.base import (
    TERMINAL_STATES,
    Doc,
    EventRecord,
    EventState,
    LogEvent,
    Store,
)
from sendoff.store.sqlite.db import Q, SqliteDatabase, WriteBatcher
from sendoff.store.sqlite.logs import SqliteLogQueries
from sendoff.store.sqlite.messages import SqliteMessages
from sendoff.store.sqlite.retention import SqliteRetention
from sendoff.store.sqlite.wakeups import DataVersionWatcher

_dumps = jsontext.dumps


def _event(row: Sequence[Any]) -> EventRecord:
    return EventRecord(
        id=row[0],
        function_key=row[1],
        state=EventState(row[2]),
        due_at=row[3],
        enqueued_at=row[4],
        body=jsontext.loads(row[5]),
        lease_owner=row[6],
        lease_expires_at=row[7],
        lease_token=row[8],
    )


def _states(states: Sequence[EventState]) -> str:
    """A ``:states`` parameter: the states' values as a JSON array."""
    return json.dumps([s.value for s in states])


class SqliteStore(SqliteLogQueries, SqliteRetention, SqliteMessages, Store):
    def __init__(self, path: str) -> None:
        self.db = SqliteDatabase(path, checkpoint_thread=True)
        self.batch = WriteBatcher(self.db)
        self._watcher: DataVersionWatcher | None = None
        self._blob_db: SqliteDatabase | None = None  # blobs' own connection (below)
        super().__init__()

    async def open(self) -> None:
        self.db.migrate()
        if self.db.path != ":memory:":
            self._watcher = DataVersionWatcher(self.db.data_version, self.wakeup_listeners)
            self._watcher.start()

    def write_counts(self) -> dict[str, int]:
        return self.db.write_counts()

    async def close(self) -> None:
        if self._blob_db is not None:
            self._blob_db.close()
        if self._watcher is not None:
            await self._watcher.stop()
        self.db.close()

    # ---- documents ----
    async def get(self, kind: str, key: str) -> Doc | None:
        with self.db.read() as conn:
            row = conn.execute(Q["doc_get"], {"kind": kind, "key": key}).fetchone()
        if row is None:
            return None
        return Doc(kind=kind, key=key, value=jsontext.loads(row[0]), revision=row[1])

    async def put(self, kind: str, key: str, value: JSON, *, expect: int | None = None) -> Doc:
        text = _dumps(value)
        params: dict[str, Any] = {"kind": kind, "key": key}
        with self.db.write() as conn:
            row = conn.execute(Q["doc_revision"], params).fetchone()
            current = row[0] if row else 0
            if expect is not None and expect != current:
                raise ConflictError(f"{kind} {key}: expected revision {expect}, found {current}")
            conn.execute(Q["doc_put"], {**params, "value": text, "revision": current + 1})
        return Doc(kind=kind, key=key, value=jsontext.loads(text), revision=current + 1)

    async def delete(self, kind: str, key: str, *, expect: int | None = None) -> bool:
        params = {"kind": kind, "key": key}
        with self.db.write() as conn:
            if expect is not None:
                row = conn.execute(Q["doc_revision"], params).fetchone()
                if row is not None and row[0] != expect:
                    raise ConflictError(f"{kind} {key}: expected revision {expect}")
            cur = conn.execute(Q["doc_delete"], params)
            return cur.rowcount > 0

    async def scan(
        self, kind: str, prefix: str = "", *, after: str | None = None, limit: int = 10_000
    ) -> list[Doc]:
        query = Q["doc_scan_after" if after is not None and after >= prefix else "doc_scan"]
        params = {
            "kind": kind,
            "prefix": prefix,
            "prefix_len": len(prefix),
            "after": after,
            "limit": limit,
        }
        with self.db.read() as conn:
            rows = conn.execute(query, params).fetchall()
        return [Doc(kind=kind, key=k, value=jsontext.loads(v), revision=r) for k, v, r in rows]

    # ---- blobs ----
    # Code packages are up to 70 MB: copying one into or out of SQLite takes a few hundred
    # milliseconds, so it runs in a worker thread on a connection of its own (WAL: a read
    # never waits; a write holds the file's write lock only while it copies), never on the
    # event loop (tests/security/test_uploads.py::test_upload_keeps_event_loop_responsive).
    async def put_blob(self, digest: str, data: bytes) -> None:
        if self.db.path == ":memory:":
            with self.db.write() as conn:
                conn.execute(Q["blob_put"], {"digest": digest, "data": data})
            return
        await asyncio.to_thread(_put_blob, self._blobs(), digest, data)

    async def get_blob(self, digest: str) -> bytes | None:
        if self.db.path == ":memory:":
            with self.db.read() as conn:
                row = conn.execute(Q["blob_get"], {"digest": digest}).fetchone()
            return None if row is None else bytes(row[0])
        return await asyncio.to_thread(_get_blob, self._blobs(), digest)

    async def delete_blob(self, digest: str) -> None:
        if self.db.path == ":memory:":
            with self.db.write() as conn:
                conn.execute(Q["blob_delete"], {"digest": digest})
            return
        await asyncio.to_thread(_delete_blob, self._blobs(), digest)

    def _blobs(self) -> SqliteDatabase:
        if self._blob_db is None:  # opened on first use (on the loop: never twice)
            self._blob_db = SqliteDatabase(self.db.path)
        return self._blob_db

    # ---- events ----
    async def enqueue(self, events: Sequence[EventRecord]) -> None:
        now = time.time()
        rows = [
            {
                "id": e.id,
                "function_key": e.function_key,
                "state": e.state.value,
                "due_at": e.due_at,
                "enqueued_at": e.enqueued_at,
                "ready_at": e.lease_expires_at if e.state is EventState.RUNNING else e.due_at,
                "body": _dumps(e.body),
                "lease_owner": e.lease_owner,
                "lease_expires_at": e.lease_expires_at,
                "lease_token": e.lease_token,
                "finished_at": now if e.state in TERMINAL_STATES else None,
            }
            for e in events
        ]

        def op(conn: sqlite3.Connection) -> None:
            conn.executemany(Q["event_insert"], rows)

        await self.batch.submit(op)

    async def lease(
        self, *, owner: str, now: float, limit: int, lease_s: float
    ) -> list[EventRecord]:
        params = {"owner": owner, "expires": now + lease_s, "now": now, "limit": limit}

        def op(conn: sqlite3.Connection) -> list[Any]:
            return conn.execute(Q["event_lease"], params).fetchall()

        # in the group commit: under load a lease shares its transaction with the
        # settling writes of the jobs that just finished
        rows = await self.batch.submit(op)
        return sorted((_event(r) for r in rows), key=lambda e: (e.due_at, e.enqueued_at))

    async def _settle(self, query: str, params: dict[str, Any]) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            return conn.execute(query, params).rowcount > 0

        return await self.batch.submit(op)

    async def reschedule(
        self, event_id: str, *, token: int, due_at: float, body: JSON, state: EventState
    ) -> bool:
        params = {
            "id": event_id,
            "token": token,
            "due_at": due_at,
            "body": _dumps(body),
            "state": state.value,
        }
        return await self._settle(Q["event_reschedule"], params)

    async def finish(self, event_id: str, *, token: int, state: EventState, body: JSON) -> bool:
        params = {"id": event_id, "token": token, "state": state.value,
                  "body": _dumps(body), "now": time.time()}  # fmt: skip
        return await self._settle(Q["event_finish"], params)

    async def extend_lease(self, event_id: str, *, token: int, expires_at: float) -> bool:
        params = {"id": event_id, "token": token, "expires": expires_at}
        return await self._settle(Q["event_extend_lease"], params)

    async def lease_owners(self) -> list[str]:
        with self.db.read() as conn:
            rows = conn.execute(Q["event_lease_owners"]).fetchall()
        return sorted(r[0] for r in rows)

    async def release_leases(self, owner: str, *, now: float) -> int:
        with self.db.write() as conn:
            cur = conn.execute(Q["event_release_leases"], {"owner": owner, "now": now})
            return cur.rowcount

    async def next_due_at(self) -> float | None:
        with self.db.read() as conn:
            row = conn.execute(Q["event_next_due"]).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    async def get_event(self, event_id: str) -> EventRecord | None:
        with self.db.read() as conn:
            row = conn.execute(Q["event_get"], {"id": event_id}).fetchone()
        return None if row is None else _event(row)

    async def list_events(
        self,
        *,
        function_key_prefix: str = "",
        states: Sequence[EventState] = (),
        after_id: str | None = None,
        limit: int = 100,
    ) -> list[EventRecord]:
        params = {
            "prefix": function_key_prefix,
            "prefix_len": len(function_key_prefix),
            "states": _states(states),
            "after": "" if after_id is None else after_id,
            "limit": limit,
        }
        query = Q["event_list_states" if states else "event_list"]
        with self.db.read() as conn:
            rows = conn.execute(query, params).fetchall()
        return [_event(r) for r in rows]

    async def count_events(self, *, states: Sequence[EventState] = ()) -> int:
        query = Q["event_count_states" if states else "event_count"]
        with self.db.read() as conn:
            return int(conn.execute(query, {"states": _states(states)}).fetchone()[0])

    # ---- concurrency slots ----
    async def acquire_slot(
        self, key: str, *, holder: str, limit: int, now: float, expires_at: float
    ) -> bool:
        params = {"key": key, "holder": holder, "now": now, "expires": expires_at}

        def op(conn: sqlite3.Connection) -> bool:
            conn.execute(Q["slot_expire"], params)
            taken = conn.execute(Q["slot_taken"], params).fetchone()[0]
            if taken >= limit:
                return False
            conn.execute(Q["slot_take"], params)
            return True

        return await self.batch.submit(op)

    async def release_slot(self, key: str, *, holder: str) -> None:
        def op(conn: sqlite3.Connection) -> None:
            conn.execute(Q["slot_release"], {"key": key, "holder": holder})

        await self.batch.submit(op)

    # ---- logs ----
    async def append_logs(self, group: str, stream: str, events: Sequence[LogEvent]) -> None:
        rows = [
            {"grp": group, "stream": stream, "ts_ms": e.timestamp_ms, "message": e.message}
            for e in events
        ]
        size = {"grp": group, "bytes": sum(len(e.message.encode()) for e in events)}

        def op(conn: sqlite3.Connection) -> None:
            conn.executemany(Q["log_append"], rows)
            conn.execute(Q["log_group_add"], size)

        await self.batch.submit(op)

    async def read_logs(
        self, group: str, *, stream: str | None = None, after_seq: int = 0, limit: int = 1000
    ) -> list[tuple[str, LogEvent]]:
        params = {"grp": group, "stream": stream, "after": after_seq, "limit": limit}
        with self.db.read() as conn:
            rows = conn.execute(Q["log_read"], params).fetchall()
        return [(s, LogEvent(timestamp_ms=ts, message=m, seq=q)) for q, s, ts, m in rows]


def _put_blob(db: SqliteDatabase, digest: str, data: bytes) -> None:
    with db.write() as conn:
        conn.execute(Q["blob_put"], {"digest": digest, "data": data})


def _delete_blob(db: SqliteDatabase, digest: str) -> None:
    with db.write() as conn:
        conn.execute(Q["blob_delete"], {"digest": digest})


def _get_blob(db: SqliteDatabase, digest: str) -> bytes | None:
    with db.read() as conn:
        row = conn.execute(Q["blob_get"], {"digest": digest}).fetchone()
    return None if row is None else bytes(row[0])
