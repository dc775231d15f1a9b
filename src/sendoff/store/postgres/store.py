"""PostgreSQL backend: many sendoff processes on many hosts share one database.

``postgresql://user@host:5432/db?schema=sendoff`` (see docs/store-postgres.md). Queries
live in ``sql/queries.sql``, the schema in its numbered migrations, the plumbing
(pool, group commit, migrations) in :mod:`sendoff.store.postgres.db`, the wake-up
listener in :mod:`sendoff.store.postgres.wakeups`, message queues in
:mod:`sendoff.store.postgres.messages`.

* Documents and job bodies are JSONB; blobs are BYTEA.
* ``lease`` is one ``UPDATE ... FROM (SELECT ... FOR UPDATE SKIP LOCKED)``: workers in any
  process take disjoint due jobs without waiting on each other.
* Enqueues and lease settlements go through group commit; enqueues, reschedules and
  released leases ``NOTIFY`` the store's channel with ``jobs`` in the same transaction,
  and a listening connection per process hands that to :meth:`add_wakeup_listener`
  callbacks, so idle workers elsewhere wake at once instead of at their next poll.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from psycopg.types.json import Jsonb

from sendoff.errors import ConflictError
from sendoff.model.json_types import JSON
from sendoff.store.base import (
    TERMINAL_STATES,
    Doc,
    EventRecord,
    EventState,
    LogEvent,
    Store,
)
from sendoff.store.postgres.db import Conn, PostgresDatabase, Q, Result, WriteBatcher
from sendoff.store.postgres.logs import PostgresLogQueries
from sendoff.store.postgres.messages import PostgresMessages
from sendoff.store.postgres.retention import PostgresRetention
from sendoff.store.postgres.wakeups import Listener

log = logging.getLogger("sendoff.store.postgres")

JOBS = "jobs"


def _copy(value: JSON) -> JSON:
    result: JSON = json.loads(json.dumps(value))
    return result


def _event(row: Sequence[Any]) -> EventRecord:
    return EventRecord(
        id=row[0],
        function_key=row[1],
        state=EventState(row[2]),
        due_at=row[3],
        enqueued_at=row[4],
        body=row[5],
        lease_owner=row[6],
        lease_expires_at=row[7],
        lease_token=row[8],
    )


def _none() -> None:
    return None


async def _insert(conn: Conn, query: str, rows: list[dict[str, Any]]) -> None:
    if len(rows) == 1:
        await conn.execute(query, rows[0])  # one round trip
    else:
        async with conn.cursor() as cur:
            await cur.executemany(query, rows)  # pipelined


class PostgresStore(PostgresLogQueries, PostgresRetention, PostgresMessages, Store):
    def __init__(self, url: str) -> None:
        self.db = PostgresDatabase(url)
        self.batch = WriteBatcher(self.db)
        # log appends hold their group's lock until commit: their own lane, one batch at
        # a time, so job settlements never queue behind them
        self.log_batch = WriteBatcher(self.db, max_inflight=1)
        self.listener: Listener | None = None
        self._opened = False
        super().__init__()

    async def open(self) -> None:
        await self.db.open()
        self._opened = True
        if self.wakeup_listeners():
            self._listen()

    async def close(self) -> None:
        self._opened = False
        if self.listener is not None:
            await self.listener.stop()
            self.listener = None
        await self.batch.drain()
        await self.log_batch.drain()
        await self.db.close()

    def add_wakeup_listener(self, callback: Callable[[str], None]) -> None:
        super().add_wakeup_listener(callback)
        if self._opened and self.listener is None:
            self._listen()

    def _listen(self) -> None:
        self.listener = Listener(self.db.url.conninfo, self.db.channel, self._wake)
        self.listener.start()

    def _wake(self, topic: str) -> None:
        for callback in list(self.wakeup_listeners()):
            try:
                callback(topic)
            except Exception:
                log.exception("wake-up listener failed on %r", topic)

    # ---- documents ----
    async def get(self, kind: str, key: str) -> Doc | None:
        row = await self.db.fetchone(Q["doc_get"], {"kind": kind, "key": key})
        return None if row is None else Doc(kind=kind, key=key, value=row[0], revision=row[1])

    async def put(self, kind: str, key: str, value: JSON, *, expect: int | None = None) -> Doc:
        value = _copy(value)
        params = {"kind": kind, "key": key, "value": Jsonb(value), "expect": expect}
        name = "doc_put" if expect is None else "doc_create" if expect == 0 else "doc_replace"
        query = Q[name]
        row = await self.db.fetchone(query, params, retry=False)
        if row is None:
            found = await self.db.fetchone(Q["doc_revision"], params)
            current = found[0] if found else 0
            raise ConflictError(f"{kind} {key}: expected revision {expect}, found {current}")
        return Doc(kind=kind, key=key, value=value, revision=row[0])

    async def delete(self, kind: str, key: str, *, expect: int | None = None) -> bool:
        params = {"kind": kind, "key": key, "expect": expect}
        if expect is None:
            return await self.db.execute(Q["doc_delete"], params) > 0
        if await self.db.execute(Q["doc_delete_expect"], params) > 0:
            return True
        if await self.db.fetchone(Q["doc_revision"], params) is not None:
            raise ConflictError(f"{kind} {key}: expected revision {expect}")
        return False

    async def scan(
        self, kind: str, prefix: str = "", *, after: str | None = None, limit: int = 10_000
    ) -> list[Doc]:
        rows = await self.db.fetchall(
            Q["doc_scan"], {"kind": kind, "prefix": prefix, "after": after, "limit": limit}
        )
        return [Doc(kind=kind, key=k, value=v, revision=r) for k, v, r in rows]

    # ---- blobs ----
    async def put_blob(self, digest: str, data: bytes) -> None:
        await self.db.execute(Q["blob_put"], {"digest": digest, "data": data})

    async def get_blob(self, digest: str) -> bytes | None:
        row = await self.db.fetchone(Q["blob_get"], {"digest": digest})
        return None if row is None else bytes(row[0])

    async def delete_blob(self, digest: str) -> None:
        await self.db.execute(Q["blob_delete"], {"digest": digest})

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
                "body": Jsonb(_copy(e.body)),
                "lease_owner": e.lease_owner,
                "lease_expires_at": e.lease_expires_at,
                "lease_token": e.lease_token,
                "finished_at": now if e.state in TERMINAL_STATES else None,
            }
            for e in events
        ]
        # events created already leased run in their creator: nobody else needs waking
        wake = any(e.state is not EventState.RUNNING for e in events)

        async def op(conn: Conn) -> Result[None]:
            await _insert(conn, Q["event_insert"], rows)
            return _none

        if rows:
            await self.batch.submit(op, topics=[JOBS] if wake else [])

    async def lease(
        self, *, owner: str, now: float, limit: int, lease_s: float
    ) -> list[EventRecord]:
        rows = await self.db.fetchall(
            Q["event_lease"], {"owner": owner, "expires": now + lease_s, "now": now, "limit": limit}
        )
        return sorted((_event(r) for r in rows), key=lambda e: (e.due_at, e.enqueued_at))

    async def _settle(self, query: str, params: dict[str, Any], topics: Sequence[str] = ()) -> bool:
        async def op(conn: Conn) -> Result[bool]:
            cur = await conn.execute(query, params)
            return lambda: cur.rowcount > 0

        return await self.batch.submit(op, topics=topics)

    async def reschedule(
        self, event_id: str, *, token: int, due_at: float, body: JSON, state: EventState
    ) -> bool:
        params = {
            "id": event_id,
            "token": token,
            "due_at": due_at,
            "body": Jsonb(_copy(body)),
            "state": state.value,
        }
        return await self._settle(Q["event_reschedule"], params, [JOBS])

    async def finish(self, event_id: str, *, token: int, state: EventState, body: JSON) -> bool:
        params = {"id": event_id, "token": token, "state": state.value,
                  "body": Jsonb(_copy(body)), "now": time.time()}  # fmt: skip
        return await self._settle(Q["event_finish"], params)

    async def extend_lease(self, event_id: str, *, token: int, expires_at: float) -> bool:
        params = {"id": event_id, "token": token, "expires": expires_at}
        return await self._settle(Q["event_extend_lease"], params)

    async def lease_owners(self) -> list[str]:
        return [row[0] for row in await self.db.fetchall(Q["event_lease_owners"], {})]

    async def release_leases(self, owner: str, *, now: float) -> int:
        async with self.db.transaction() as conn:
            cur = await conn.execute(Q["event_release_leases"], {"owner": owner, "now": now})
            if cur.rowcount > 0:
                await self.db.notify(conn, [JOBS])
            return cur.rowcount

    async def next_due_at(self) -> float | None:
        row = await self.db.fetchone(Q["event_next_due"], {})
        return None if row is None or row[0] is None else float(row[0])

    async def get_event(self, event_id: str) -> EventRecord | None:
        row = await self.db.fetchone(Q["event_get"], {"id": event_id})
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
            "states": [s.value for s in states],
            "after": after_id,
            "limit": limit,
        }
        return [_event(r) for r in await self.db.fetchall(Q["event_list"], params)]

    async def count_events(self, *, states: Sequence[EventState] = ()) -> int:
        row = await self.db.fetchone(Q["event_count"], {"states": [s.value for s in states]})
        return int(row[0]) if row else 0

    # ---- concurrency slots ----
    async def acquire_slot(
        self, key: str, *, holder: str, limit: int, now: float, expires_at: float
    ) -> bool:
        params = {"key": key, "holder": holder, "now": now, "expires": expires_at}

        async def op(conn: Conn) -> Result[bool]:
            await conn.execute(Q["slot_expire"], params)
            cur = await conn.execute(Q["slot_taken"], params)
            row = await cur.fetchone()
            if row is None or row[0] >= limit:
                return lambda: False
            await conn.execute(Q["slot_take"], params)
            return lambda: True

        return await self.batch.submit(op, locks=[f"slot:{key}"])

    async def release_slot(self, key: str, *, holder: str) -> None:
        async def op(conn: Conn) -> Result[None]:
            await conn.execute(Q["slot_release"], {"key": key, "holder": holder})
            return _none

        await self.batch.submit(op)

    # ---- logs ----
    async def append_logs(self, group: str, stream: str, events: Sequence[LogEvent]) -> None:
        rows = [
            {"grp": group, "stream": stream, "ts_ms": e.timestamp_ms, "message": e.message}
            for e in events
        ]

        size = {"grp": group, "bytes": sum(len(e.message.encode()) for e in events)}

        async def op(conn: Conn) -> Result[None]:
            await _insert(conn, Q["log_append"], rows)
            await conn.execute(Q["log_group_add"], size)
            return _none

        if rows:
            await self.log_batch.submit(op, locks=[f"logs:{group}"])

    async def read_logs(
        self, group: str, *, stream: str | None = None, after_seq: int = 0, limit: int = 1000
    ) -> list[tuple[str, LogEvent]]:
        rows = await self.db.fetchall(
            Q["log_read"], {"grp": group, "stream": stream, "after": after_seq, "limit": limit}
        )
        return [(s, LogEvent(timestamp_ms=ts, message=m, seq=q)) for q, s, ts, m in rows]
