"""Redis retention: sorted-set trimming in Lua (``event_prune.lua``, ``log_prune.lua``).

Redis keeps everything in RAM, so here retention bounds memory as well as the disk of its
snapshots. Terminal events are indexed by finish time in ``P:events:finished``; a prune
call deletes at most ``limit`` of the oldest (hash and index entries) in one script, short
enough not to hold other clients up. Log groups keep their byte count in ``P:logbytes``;
``log_prune.lua`` trims the oldest lines of each group with ``ZREMRANGEBYRANK``.

Events that were already terminal before this index existed are not in it and are never
pruned (docs/store-redis.md).
"""

from __future__ import annotations

from sendoff.store.base import RetentionStats
from sendoff.store.redis_connection import RedisConnection


def _opt(value: object) -> str:
    return "" if value is None else str(value)


class RedisRetention:
    conn: RedisConnection

    async def prune_events(
        self, *, finished_before: float, keep_max: int | None = None, limit: int = 500
    ) -> int:
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
