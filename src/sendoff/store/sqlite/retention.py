"""SQLite retention: prune finished history in small transactions (schema in
``sql/0005_retention.sql``).

Each prune call is one short ``BEGIN IMMEDIATE`` transaction of at most ``limit`` rows, so
the accept path (the store's group commit) waits for one batch at most; the pruning task
yields to the event loop between calls. Deleted rows leave whole pages empty (events and
log lines are deleted oldest first, in the order they were appended), and SQLite puts them
on its free list and reuses them for new rows, so a store under steady load stops growing
once a retention window's worth of history is kept (docs/operations.md has the figures).
The file does not shrink after a burst; ``VACUUM`` with the server stopped gives the space
back.

The stats count events on a connection of their own in a thread: counting a large table
takes a while, and the event loop must not wait for it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sendoff.store.base import RetentionStats
from sendoff.store.sqlite.db import Q, SqliteDatabase


class SqliteRetention:
    db: SqliteDatabase

    async def prune_events(
        self, *, finished_before: float, keep_max: int | None = None, limit: int = 500
    ) -> int:
        with self.db.write() as conn:
            params = {"before": finished_before, "limit": limit}
            deleted = conn.execute(Q["event_prune_finished"], params).rowcount
            if keep_max is not None and deleted < limit:
                terminal = conn.execute(Q["event_count_finished"]).fetchone()[0]
                excess = min(terminal - keep_max, limit - deleted)
                if excess > 0:
                    deleted += conn.execute(Q["event_prune_oldest"], {"limit": excess}).rowcount
        return int(deleted)

    async def prune_logs(
        self, *, before_ms: int, group_max_bytes: int | None = None, limit: int = 1000
    ) -> int:
        deleted = 0
        with self.db.read() as conn:
            groups = conn.execute(Q["log_groups"]).fetchall()
        for group, size in groups:
            if deleted >= limit:
                break
            with self.db.read() as conn:  # most groups have nothing to delete: no write
                cut = _cut(conn, group, size, before_ms, group_max_bytes, limit - deleted)
            if cut is None:
                continue
            with self.db.write() as conn:
                deleted += _delete_through(conn, group, cut)
            await asyncio.sleep(0)  # one group per transaction; let the loop run between
        return deleted

    async def retention_stats(self) -> RetentionStats:
        if self.db.path == ":memory:":
            with self.db.read() as conn:
                return _stats(conn)
        return await asyncio.to_thread(_stats_on_own_connection, self.db.path)


def _cut(
    conn: sqlite3.Connection,
    group: str,
    size: int,
    before_ms: int,
    max_bytes: int | None,
    limit: int,
) -> int | None:
    """The seq up to which a group's oldest lines are too old or over the cap, if any."""
    rows = conn.execute(Q["log_oldest"], {"grp": group, "limit": limit}).fetchall()
    cut_seq, freed = None, 0
    for seq, ts_ms, nbytes in rows:
        over = max_bytes is not None and size - freed > max_bytes
        if not over and ts_ms >= before_ms:
            break
        cut_seq, freed = seq, freed + nbytes
    return cut_seq


def _delete_through(conn: sqlite3.Connection, group: str, cut_seq: int) -> int:
    """Delete a group's lines up to ``cut_seq`` and take their bytes off its count (the
    bytes of the rows actually deleted: another process may have pruned some already)."""
    sizes = conn.execute(Q["log_prune"], {"grp": group, "seq": cut_seq}).fetchall()
    conn.execute(Q["log_group_subtract"], {"grp": group, "bytes": sum(n for (n,) in sizes)})
    conn.execute(Q["log_group_drop_if_empty"], {"grp": group})
    return len(sizes)


def _stats(conn: sqlite3.Connection) -> RetentionStats:
    events = conn.execute(Q["event_count"]).fetchone()[0]
    oldest = conn.execute(Q["retention_oldest_finished"]).fetchone()[0]
    log_bytes = conn.execute(Q["retention_log_bytes"]).fetchone()[0]
    return RetentionStats(events=int(events), oldest_finished_at=oldest, log_bytes=int(log_bytes))


def _stats_on_own_connection(path: str) -> RetentionStats:
    conn = sqlite3.connect(f"{Path(path).as_uri()}?mode=ro", uri=True, timeout=30.0)
    try:
        return _stats(conn)
    finally:
        conn.close()
