"""PostgreSQL retention: batched deletes by index (schema in ``0004_retention.sql``,
queries in ``queries.sql``).

Terminal events are deleted oldest-finished first through the partial index
``events_finished``, at most ``limit`` rows per statement, skipping rows another pruner
holds (``FOR UPDATE SKIP LOCKED``), so several processes may prune the same database.
Small deletes leave dead tuples that autovacuum reclaims for new rows; no table is ever
rewritten or locked whole. A log group is pruned under its advisory lock (the one appends
take), oldest lines first, and its byte count in ``log_groups`` goes down in the same
statement.
"""

from __future__ import annotations

from sendoff.store.base import RetentionStats
from sendoff.store.postgres.db import PostgresDatabase, Q, lock


class PostgresRetention:
    db: PostgresDatabase

    async def prune_events(
        self, *, finished_before: float, keep_max: int | None = None, limit: int = 500
    ) -> int:
        deleted = await self.db.execute(
            Q["event_prune_finished"], {"before": finished_before, "limit": limit}
        )
        if keep_max is not None and deleted < limit:
            row = await self.db.fetchone(Q["event_count_finished"], {})
            excess = min((row[0] if row else 0) - keep_max, limit - deleted)
            if excess > 0:
                deleted += await self.db.execute(Q["event_prune_oldest"], {"limit": excess})
        return deleted

    async def prune_logs(
        self, *, before_ms: int, group_max_bytes: int | None = None, limit: int = 1000
    ) -> int:
        deleted = 0
        for group, size in await self.db.fetchall(Q["log_groups"], {}):
            if deleted >= limit:
                break
            deleted += await self._prune_group(group, size, before_ms, group_max_bytes,
                                               limit - deleted)  # fmt: skip
        return deleted

    async def _prune_group(
        self, group: str, size: int, before_ms: int, max_bytes: int | None, limit: int
    ) -> int:
        rows = await self.db.fetchall(Q["log_oldest"], {"grp": group, "limit": limit})
        cut_seq, freed = None, 0
        for seq, ts_ms, nbytes in rows:
            over = max_bytes is not None and size - freed > max_bytes
            if not over and ts_ms >= before_ms:
                break
            cut_seq, freed = seq, freed + nbytes
        if cut_seq is None:  # most groups, most passes: nothing to delete, no transaction
            return 0
        async with self.db.transaction() as conn:
            await lock(conn, [f"logs:{group}"])
            cur = await conn.execute(Q["log_prune"], {"grp": group, "seq": cut_seq})
            row = await cur.fetchone()
            await conn.execute(Q["log_group_drop_if_empty"], {"grp": group})
        return int(row[0]) if row else 0

    async def delete_logs(
        self, group: str, *, before_ms: int | None = None, limit: int = 1000
    ) -> int:
        async with self.db.transaction() as conn:
            await lock(conn, [f"logs:{group}"])
            params = {"grp": group, "before": before_ms, "limit": limit}
            cur = await conn.execute(Q["log_delete_some"], params)
            row = await cur.fetchone()
            await conn.execute(Q["log_group_drop_if_empty"], {"grp": group})
        return int(row[0]) if row else 0

    async def log_bytes(self, group: str) -> int:
        row = await self.db.fetchone(Q["log_group_bytes"], {"grp": group})
        return int(row[0]) if row else 0

    async def retention_stats(self) -> RetentionStats:
        row = await self.db.fetchone(Q["retention_stats"], {})
        assert row is not None
        return RetentionStats(events=int(row[0]), oldest_finished_at=row[1],
                              log_bytes=int(row[2]))  # fmt: skip
