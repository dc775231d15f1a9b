"""Redis retention: sorted-set trimming in Lua (``event_prune.lua``, ``log_prune.lua``).

Redis keeps everything in RAM, so here retention bounds memory as well as the disk of its
snapshots. Terminal events are indexed by finish time in ``P:events:finished``; a prune
call deletes at most ``limit`` of the oldest (hash and index entries) in one script, short
enough not to hold other clients up. Log groups keep their byte count in ``P:logbytes``;
``log_prune.lua`` trims the oldest lines of each group with ``ZREMRANGEBYRANK``.

A store written before this index existed is indexed once, by ``event_backfill.lua`` a
page at a time, before the first prune: its terminal events count as finished then (kept
one more window, as the SQL backends' migrations do), and a marker key
(``P:events:finished:backfilled``) records that it was done.
"""

from __future__ import annotations

import time

from sendoff.store.base import RetentionStats
from sendoff.store.redis.connection import RedisConnection


def _opt(value: object) -> str:
    return "" if value is None else str(value)


class RedisRetention:
    conn: RedisConnection
    _finished_indexed: bool

    async def _backfill_finished(self) -> None:
        """Index the terminal events of a store written before ``P:events:finished``."""
        if getattr(self, "_finished_indexed", False):
            return
        marker = self.conn.key("events", "finished", "backfilled")
        if not await self.conn.text.exists(marker):
            now = repr(time.time())
            for state in ("succeeded", "failed"):
                cursor, done = "", 0
                while not done:
                    cursor, done = await self.conn.run(
                        "event_backfill", [], [self.conn.prefix, now, state, cursor, 1000]
                    )
            await self.conn.text.set(marker, now)
        self._finished_indexed = True

    async def prune_events(
        self, *, finished_before: float, keep_max: int | None = None, limit: int = 500
    ) -> int:
        await self._backfill_finished()
        args = [self.conn.prefix, repr(float(finished_before)), _opt(keep_max), limit]
        return int(await self.conn.run("event_prune", [], args))

    async def prune_logs(
        self, *, before_ms: int, group_max_bytes: int | None = None, limit: int = 1000
    ) -> int:
        args = [self.conn.prefix, before_ms, _opt(group_max_bytes), limit]
        return int(await self.conn.run("log_prune", [], args))

    async def retention_stats(self) -> RetentionStats:
        async with self.conn.text.pipeline(transaction=True) as pipe:
            pipe.zcard(self.conn.key("events", "ids"))
            pipe.zrange(self.conn.key("events", "finished"), 0, 0, withscores=True)
            pipe.hvals(self.conn.key("logbytes"))
            events, oldest, sizes = await pipe.execute()
        return RetentionStats(
            events=int(events),
            oldest_finished_at=float(oldest[0][1]) if oldest else None,
            log_bytes=sum(int(size) for size in sizes),
        )
