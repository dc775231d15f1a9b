"""Redis backend: every sendoff process on every host can share one Redis.

Each multi-step operation is one Lua script (``lua/``), so it is atomic with respect
to every other client: two workers never lease the same event, a CAS never loses a write.
Key schema and durability: docs/store-redis.md. URL, clients and scripts:
:mod:`sendoff.store.redis.connection`; cross-process wake-ups (pub/sub):
:mod:`sendoff.store.redis.wakeups`; message queues: :mod:`sendoff.store.redis.messages`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from typing import Any, cast

from redis.exceptions import RedisError

from sendoff.errors import ConflictError, StoreError
from sendoff.model.json_types import JSON
from sendoff.store.base import Doc, EventRecord, EventState, LogEvent, Store
from sendoff.store.redis.connection import RedisConnection, despite_cancel
from sendoff.store.redis.messages import RedisMessages
from sendoff.store.redis.retention import RedisRetention

_LIST_BUDGET = 1000  # ids examined per event_list call
_LOG_PAGE = 500


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _opt(value: object) -> str:
    return "" if value is None else str(value)


def _doc(kind: str, key: str, stored: str) -> Doc:
    revision, _, text = stored.partition(" ")
    return Doc(kind=kind, key=key, value=json.loads(text), revision=int(revision))


def _event(row: Sequence[Any]) -> EventRecord:
    """A row of lib_events.lua's event_row: id, fk, st, due, enq, body, own, exp, tok."""
    return EventRecord(
        id=row[0],
        function_key=row[1],
        state=EventState(row[2]),
        due_at=float(row[3]),
        enqueued_at=float(row[4]),
        body=json.loads(row[5]),
        lease_owner=row[6],
        lease_expires_at=None if row[7] is None else float(row[7]),
        lease_token=int(row[8]),
    )


class RedisStore(RedisRetention, RedisMessages, Store):
    def __init__(self, url: str) -> None:
        self.conn = RedisConnection(url)
        super().__init__()

    def _key(self, *parts: str) -> str:
        return self.conn.key(*parts)

    async def open(self) -> None:
        try:
            await self.conn.open(self.wakeup_listeners)
        except RedisError as exc:
            raise StoreError(f"cannot use redis at {self.conn.safe_url}: {exc}") from exc

    async def close(self) -> None:
        await self.conn.close()

    def add_wakeup_listener(self, callback: Callable[[str], None]) -> None:
        super().add_wakeup_listener(callback)
        self.conn.ensure_subscriber()

    # ---- documents ----
    def _doc_keys(self, kind: str) -> list[str]:
        return [self._key("docs", kind), self._key("dockeys", kind)]

    async def get(self, kind: str, key: str) -> Doc | None:
        stored = cast(str | None, await self.conn.text.hget(self._key("docs", kind), key))
        return None if stored is None else _doc(kind, key, stored)

    async def put(self, kind: str, key: str, value: JSON, *, expect: int | None = None) -> Doc:
        text = _dumps(value)
        ok, revision = await self.conn.run(
            "doc_put", self._doc_keys(kind), [key, text, _opt(expect)]
        )
        if not ok:
            raise ConflictError(f"{kind} {key}: expected revision {expect}, found {revision}")
        return Doc(kind=kind, key=key, value=json.loads(text), revision=int(revision))

    async def delete(self, kind: str, key: str, *, expect: int | None = None) -> bool:
        done = await self.conn.run("doc_delete", self._doc_keys(kind), [key, _opt(expect)])
        if done < 0:
            raise ConflictError(f"{kind} {key}: expected revision {expect}")
        return bool(done)

    async def scan(
        self, kind: str, prefix: str = "", *, after: str | None = None, limit: int = 10_000
    ) -> list[Doc]:
        if after is not None and after >= prefix:
            low = "(" + after
        else:
            low = "[" + prefix if prefix else "-"
        # UTF-8 never contains the byte 0xff: every key starting with prefix sorts below it
        high: str | bytes = ("(" + prefix).encode() + b"\xff" if prefix else "+"
        flat = await self.conn.run("doc_scan", self._doc_keys(kind), [low, high, limit])
        return [_doc(kind, flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]

    # ---- blobs ----
    async def put_blob(self, digest: str, data: bytes) -> None:
        await self.conn.raw.set(self._key("blob", digest), data, nx=True)

    async def get_blob(self, digest: str) -> bytes | None:
        return cast(bytes | None, await self.conn.raw.get(self._key("blob", digest)))

    async def delete_blob(self, digest: str) -> None:
        await self.conn.raw.delete(self._key("blob", digest))

    # ---- events ----
    async def enqueue(self, events: Sequence[EventRecord]) -> None:
        if not events:
            return
        args: list[Any] = [self.conn.prefix, repr(time.time())]
        for e in events:
            args += [e.id, e.function_key, e.state.value, e.due_at, e.enqueued_at,
                     _dumps(e.body), _opt(e.lease_owner), _opt(e.lease_expires_at),
                     e.lease_token]  # fmt: skip
        result = await self.conn.run("event_enqueue", [], args)
        if not int(result[0]):
            raise ConflictError(f"event {result[1]} already exists")

    async def lease(
        self, *, owner: str, now: float, limit: int, lease_s: float
    ) -> list[EventRecord]:
        if limit <= 0:
            return []
        work = self.conn.run(
            "event_lease", [], [self.conn.prefix, owner, now, limit, now + lease_s]
        )

        async def hand_back(rows: list[Any]) -> None:
            # the caller was cancelled: their leases expire now, so they are due again
            await asyncio.gather(
                *(self.extend_lease(r[0], token=int(r[8]), expires_at=now) for r in rows)
            )

        rows = await despite_cancel(work, hand_back)
        return sorted((_event(r) for r in rows), key=lambda e: (e.due_at, e.enqueued_at))

    async def _settle(self, event_id: str, token: int, action: str, *args: Any) -> bool:
        done = await self.conn.run(
            "event_settle", [], [self.conn.prefix, event_id, token, action, *args]
        )
        return bool(done)

    async def reschedule(
        self, event_id: str, *, token: int, due_at: float, body: JSON, state: EventState
    ) -> bool:
        return await self._settle(event_id, token, "reschedule", state.value, due_at, _dumps(body))

    async def finish(self, event_id: str, *, token: int, state: EventState, body: JSON) -> bool:
        return await self._settle(
            event_id, token, "finish", state.value, _dumps(body), repr(time.time())
        )

    async def extend_lease(self, event_id: str, *, token: int, expires_at: float) -> bool:
        return await self._settle(event_id, token, "extend", expires_at)

    async def lease_owners(self) -> list[str]:
        owners = cast(set[str], await self.conn.text.smembers(self._key("events", "owners")))
        return sorted(owners)

    async def release_leases(self, owner: str, *, now: float) -> int:
        return int(await self.conn.run("event_release", [], [self.conn.prefix, owner, now]))

    async def next_due_at(self) -> float | None:
        first = await self.conn.text.zrange(self._key("events", "ready"), 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    async def get_event(self, event_id: str) -> EventRecord | None:
        fields = await self.conn.text.hmget(
            self._key("event", event_id), ["fk", "st", "due", "enq", "body", "own", "exp", "tok"]
        )
        return None if fields[0] is None else _event([event_id, *fields])

    async def list_events(
        self,
        *,
        function_key_prefix: str = "",
        states: Sequence[EventState] = (),
        after_id: str | None = None,
        limit: int = 100,
    ) -> list[EventRecord]:
        wanted = sorted({s.value for s in states})
        index = wanted[0] if len(wanted) == 1 else ""  # one state: walk its own index
        cursor = after_id or ""
        out: list[EventRecord] = []
        while len(out) < limit:
            cursor, done, rows = await self.conn.run(
                "event_list",
                [],
                [self.conn.prefix, index, cursor, _LIST_BUDGET, limit - len(out),
                 function_key_prefix, *wanted],
            )  # fmt: skip
            out += (_event(r) for r in rows)
            if done:
                break
        return out

    async def count_events(self, *, states: Sequence[EventState] = ()) -> int:
        if not states:
            return int(await self.conn.text.zcard(self._key("events", "ids")))
        async with self.conn.text.pipeline(transaction=True) as pipe:
            for state in {s.value for s in states}:
                pipe.zcard(self._key("events", "state", state))
            counts = await pipe.execute()
        return sum(int(c) for c in counts)

    # ---- concurrency slots ----
    async def acquire_slot(
        self, key: str, *, holder: str, limit: int, now: float, expires_at: float
    ) -> bool:
        taken = await self.conn.run(
            "slot_acquire", [self._key("slot", key)], [holder, limit, now, expires_at]
        )
        return bool(taken)

    async def release_slot(self, key: str, *, holder: str) -> None:
        await self.conn.text.zrem(self._key("slot", key), holder)

    # ---- logs ----
    async def append_logs(self, group: str, stream: str, events: Sequence[LogEvent]) -> None:
        if not events:
            return
        entries = [_dumps([stream, e.timestamp_ms, e.message]) for e in events]
        size = sum(len(e.message.encode()) for e in events)
        keys = [self._key("logseq"), self._key("log", group), self._key("logbytes")]
        await self.conn.run("log_append", keys, [group, size, *entries])

    async def read_logs(
        self, group: str, *, stream: str | None = None, after_seq: int = 0, limit: int = 1000
    ) -> list[tuple[str, LogEvent]]:
        key = self._key("log", group)
        out: list[tuple[str, LogEvent]] = []
        last = after_seq
        while len(out) < limit:
            page = limit - len(out) if stream is None else max(limit - len(out), _LOG_PAGE)
            members = cast(
                list[str], await self.conn.text.zrangebyscore(key, f"({last}", "+inf", 0, page)
            )
            for member in members:
                seq_text, _, entry = member.partition(" ")
                last = int(seq_text)
                name, ts_ms, message = json.loads(entry)
                if stream is None or name == stream:
                    out.append((name, LogEvent(timestamp_ms=ts_ms, message=message, seq=last)))
                    if len(out) >= limit:
                        break
            if len(members) < page:
                break
        return out

    async def log_bytes(self, group: str) -> int:
        return int(await self.conn.text.hget(self._key("logbytes"), group) or 0)

    async def delete_logs(
        self, group: str, *, before_ms: int | None = None, limit: int = 1000
    ) -> int:
        key = self._key("log", group)
        members = cast(list[str], await self.conn.text.zrange(key, 0, limit - 1))
        doomed: list[str] = []
        freed = 0
        for member in members:
            _, _, entry = member.partition(" ")
            _, ts_ms, message = json.loads(entry)
            if before_ms is not None and ts_ms >= before_ms:
                break  # lines are in append order, which is time order for Lambda's
            doomed.append(member)
            freed += len(message.encode())
        if doomed:
            async with self.conn.text.pipeline(transaction=True) as pipe:
                pipe.zrem(key, *doomed)
                pipe.hincrby(self._key("logbytes"), group, -freed)
                await pipe.execute()
            if not await self.conn.text.exists(key):
                await self.conn.text.hdel(self._key("logbytes"), group)
        return len(doomed)
