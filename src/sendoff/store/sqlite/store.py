"""SQLite backend: the embedded default. See :mod:`sendoff.store.sqlite.db` for durability."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from sendoff.errors import ConflictError
from sendoff.store import jsontext
from sendoff.store.base import JSON, Doc, EventRecord, EventState, LogEvent, Store
from sendoff.store.sqlite.db import SqliteDatabase, WriteBatcher
from sendoff.store.sqlite.messages import SqliteMessages
from sendoff.store.sqlite.retention import SqliteRetention
from sendoff.store.sqlite.wakeups import DataVersionWatcher

_EVENT_COLUMNS = (
    "id, function_key, state, due_at, enqueued_at, body, lease_owner, lease_expires_at, lease_token"
)
_TERMINAL = tuple(s.value for s in (EventState.SUCCEEDED, EventState.FAILED))


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


class SqliteStore(SqliteRetention, SqliteMessages, Store):
    def __init__(self, path: str) -> None:
        self.db = SqliteDatabase(path)
        self.batch = WriteBatcher(self.db)
        self._watcher: DataVersionWatcher | None = None
        super().__init__()

    async def open(self) -> None:
        self.db.migrate()
        if self.db.path != ":memory:":
            self._watcher = DataVersionWatcher(self.db.data_version, self.wakeup_listeners)
            self._watcher.start()

    def write_counts(self) -> dict[str, int]:
        return self.db.write_counts()

    async def close(self) -> None:
        if self._watcher is not None:
            await self._watcher.stop()
        self.db.close()

    # ---- documents ----
    async def get(self, kind: str, key: str) -> Doc | None:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT value, revision FROM docs WHERE kind = ? AND key = ?", (kind, key)
            ).fetchone()
        if row is None:
            return None
        return Doc(kind=kind, key=key, value=jsontext.loads(row[0]), revision=row[1])

    async def put(self, kind: str, key: str, value: JSON, *, expect: int | None = None) -> Doc:
        text = _dumps(value)
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT revision FROM docs WHERE kind = ? AND key = ?", (kind, key)
            ).fetchone()
            current = row[0] if row else 0
            if expect is not None and expect != current:
                raise ConflictError(f"{kind} {key}: expected revision {expect}, found {current}")
            conn.execute(
                "INSERT INTO docs (kind, key, value, revision) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value,"
                " revision = excluded.revision",
                (kind, key, text, current + 1),
            )
        return Doc(kind=kind, key=key, value=jsontext.loads(text), revision=current + 1)

    async def delete(self, kind: str, key: str, *, expect: int | None = None) -> bool:
        with self.db.write() as conn:
            if expect is not None:
                row = conn.execute(
                    "SELECT revision FROM docs WHERE kind = ? AND key = ?", (kind, key)
                ).fetchone()
                if row is not None and row[0] != expect:
                    raise ConflictError(f"{kind} {key}: expected revision {expect}")
            cur = conn.execute("DELETE FROM docs WHERE kind = ? AND key = ?", (kind, key))
            return cur.rowcount > 0

    async def scan(
        self, kind: str, prefix: str = "", *, after: str | None = None, limit: int = 10_000
    ) -> list[Doc]:
        lower = prefix if after is None or after < prefix else after
        op = ">" if after is not None and after >= prefix else ">="
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT key, value, revision FROM docs WHERE kind = ? AND key {op} ?"
                " AND substr(key, 1, ?) = ? ORDER BY key LIMIT ?",
                (kind, lower, len(prefix), prefix, limit),
            ).fetchall()
        return [Doc(kind=kind, key=k, value=jsontext.loads(v), revision=r) for k, v, r in rows]

    # ---- blobs ----
    async def put_blob(self, digest: str, data: bytes) -> None:
        with self.db.write() as conn:
            conn.execute("INSERT OR IGNORE INTO blobs (digest, data) VALUES (?, ?)", (digest, data))

    async def get_blob(self, digest: str) -> bytes | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT data FROM blobs WHERE digest = ?", (digest,)).fetchone()
        return None if row is None else bytes(row[0])

    # ---- events ----
    async def enqueue(self, events: Sequence[EventRecord]) -> None:
        now = time.time()
        rows = [
            (
                e.id,
                e.function_key,
                e.state.value,
                e.due_at,
                e.enqueued_at,
                e.lease_expires_at if e.state is EventState.RUNNING else e.due_at,
                _dumps(e.body),
                e.lease_owner,
                e.lease_expires_at,
                e.lease_token,
                now if e.state.value in _TERMINAL else None,
            )
            for e in events
        ]

        def op(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO events (id, function_key, state, due_at, enqueued_at, ready_at,"
                " body, lease_owner, lease_expires_at, lease_token, finished_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

        await self.batch.submit(op)

    async def lease(
        self, *, owner: str, now: float, limit: int, lease_s: float
    ) -> list[EventRecord]:
        expires = now + lease_s

        def op(conn: sqlite3.Connection) -> list[Any]:
            return conn.execute(
                f"UPDATE events SET state = 'running', lease_owner = ?, lease_expires_at = ?,"
                f" ready_at = ?, lease_token = lease_token + 1"
                f" WHERE id IN (SELECT id FROM events WHERE ready_at <= ?"
                f" ORDER BY ready_at LIMIT ?) RETURNING {_EVENT_COLUMNS}",
                (owner, expires, expires, now, limit),
            ).fetchall()

        # in the group commit: under load a lease shares its transaction with the
        # settling writes of the jobs that just finished
        rows = await self.batch.submit(op)
        return sorted((_event(r) for r in rows), key=lambda e: (e.due_at, e.enqueued_at))

    async def _settle(self, sql: str, args: tuple[Any, ...]) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            return conn.execute(sql, args).rowcount > 0

        return await self.batch.submit(op)

    async def reschedule(
        self, event_id: str, *, token: int, due_at: float, body: JSON, state: EventState
    ) -> bool:
        return await self._settle(
            "UPDATE events SET state = ?, due_at = ?, ready_at = ?, body = ?,"
            " lease_owner = NULL, lease_expires_at = NULL"
            f" WHERE id = ? AND lease_token = ? AND state NOT IN {_TERMINAL}",
            (state.value, due_at, due_at, _dumps(body), event_id, token),
        )

    async def finish(self, event_id: str, *, token: int, state: EventState, body: JSON) -> bool:
        return await self._settle(
            "UPDATE events SET state = ?, ready_at = NULL, body = ?,"
            " lease_owner = NULL, lease_expires_at = NULL, finished_at = ?"
            f" WHERE id = ? AND lease_token = ? AND state NOT IN {_TERMINAL}",
            (state.value, _dumps(body), time.time(), event_id, token),
        )

    async def update_event_body(self, event_id: str, *, token: int, body: JSON) -> bool:
        return await self._settle(
            "UPDATE events SET body = ?"
            f" WHERE id = ? AND lease_token = ? AND state NOT IN {_TERMINAL}",
            (_dumps(body), event_id, token),
        )

    async def extend_lease(self, event_id: str, *, token: int, expires_at: float) -> bool:
        return await self._settle(
            "UPDATE events SET lease_expires_at = ?, ready_at = ?"
            " WHERE id = ? AND lease_token = ? AND state = 'running'",
            (expires_at, expires_at, event_id, token),
        )

    async def lease_owners(self) -> list[str]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT DISTINCT lease_owner FROM events"
                " WHERE state = 'running' AND lease_owner IS NOT NULL"
            ).fetchall()
        return sorted(r[0] for r in rows)

    async def release_leases(self, owner: str, *, now: float) -> int:
        with self.db.write() as conn:
            cur = conn.execute(
                "UPDATE events SET lease_expires_at = ?, ready_at = ?"
                " WHERE state = 'running' AND lease_owner = ?",
                (now, now, owner),
            )
            return cur.rowcount

    async def next_due_at(self) -> float | None:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT MIN(ready_at) FROM events WHERE ready_at IS NOT NULL"
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    async def get_event(self, event_id: str) -> EventRecord | None:
        with self.db.read() as conn:
            row = conn.execute(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE id = ?", (event_id,)
            ).fetchone()
        return None if row is None else _event(row)

    async def list_events(
        self,
        *,
        function_key_prefix: str = "",
        states: Sequence[EventState] = (),
        after_id: str | None = None,
        limit: int = 100,
    ) -> list[EventRecord]:
        where = ["substr(function_key, 1, ?) = ?"]
        args: list[Any] = [len(function_key_prefix), function_key_prefix]
        if states:
            where.append(f"state IN ({', '.join('?' for _ in states)})")
            args.extend(s.value for s in states)
        if after_id is not None:
            where.append("id > ?")
            args.append(after_id)
        args.append(limit)
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE {' AND '.join(where)}"
                " ORDER BY id LIMIT ?",
                args,
            ).fetchall()
        return [_event(r) for r in rows]

    async def count_events(self, *, states: Sequence[EventState] = ()) -> int:
        sql = "SELECT COUNT(*) FROM events"
        args: list[Any] = []
        if states:
            sql += f" WHERE state IN ({', '.join('?' for _ in states)})"
            args.extend(s.value for s in states)
        with self.db.read() as conn:
            return int(conn.execute(sql, args).fetchone()[0])

    # ---- concurrency slots ----
    async def acquire_slot(
        self, key: str, *, holder: str, limit: int, now: float, expires_at: float
    ) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            conn.execute("DELETE FROM slots WHERE key = ? AND expires_at <= ?", (key, now))
            taken = conn.execute(
                "SELECT COUNT(*) FROM slots WHERE key = ? AND holder != ?", (key, holder)
            ).fetchone()[0]
            if taken >= limit:
                return False
            conn.execute(
                "INSERT INTO slots (key, holder, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key, holder) DO UPDATE SET expires_at = excluded.expires_at",
                (key, holder, expires_at),
            )
            return True

        return await self.batch.submit(op)

    async def release_slot(self, key: str, *, holder: str) -> None:
        def op(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM slots WHERE key = ? AND holder = ?", (key, holder))

        await self.batch.submit(op)

    # ---- logs ----
    async def append_logs(self, group: str, stream: str, events: Sequence[LogEvent]) -> None:
        rows = [(group, stream, e.timestamp_ms, e.message) for e in events]
        size = sum(len(e.message.encode()) for e in events)

        def op(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO logs (grp, stream, ts_ms, message) VALUES (?, ?, ?, ?)", rows
            )
            conn.execute(
                "INSERT INTO log_groups (grp, bytes) VALUES (?, ?)"
                " ON CONFLICT (grp) DO UPDATE SET bytes = bytes + excluded.bytes",
                (group, size),
            )

        await self.batch.submit(op)

    async def read_logs(
        self, group: str, *, stream: str | None = None, after_seq: int = 0, limit: int = 1000
    ) -> list[tuple[str, LogEvent]]:
        sql = "SELECT seq, stream, ts_ms, message FROM logs WHERE grp = ? AND seq > ?"
        args: list[Any] = [group, after_seq]
        if stream is not None:
            sql += " AND stream = ?"
            args.append(stream)
        sql += " ORDER BY seq LIMIT ?"
        args.append(limit)
        with self.db.read() as conn:
            rows = conn.execute(sql, args).fetchall()
        return [(s, LogEvent(timestamp_ms=ts, message=m, seq=q)) for q, s, ts, m in rows]
