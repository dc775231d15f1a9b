"""SQLite side of the CloudWatch Logs API: filters pushed into SQL (schema in
``sql/0006_log_streams.sql``).

``query_logs`` runs one statement over the group's ``(grp, seq)`` index (or the
``(grp, stream, seq)`` one for named streams) with the time range, the stream prefix and
every required literal of the filter pattern (``instr``, case-sensitive like CloudWatch)
evaluated by SQLite, so Python only sees candidate lines. ``delete_logs`` deletes in
batches of ``limit`` and keeps ``log_groups.bytes`` (0005_retention.sql) exact.
"""

from __future__ import annotations

from typing import Any

from sendoff.store.base import LogEvent, LogQuery, LogStreamStats
from sendoff.store.sqlite.db import Q, SqliteDatabase


class SqliteLogQueries:
    db: SqliteDatabase

    async def query_logs(self, group: str, query: LogQuery) -> list[tuple[str, LogEvent]]:
        sql = Q["log_query"]
        params: dict[str, Any] = {
            "grp": group,
            "after": query.after_seq,
            "before": query.before_seq,
            "start": query.start_ms,
            "end": query.end_ms,
            "prefix": query.stream_prefix,
            "limit": query.limit,
        }
        if query.streams is not None:
            names = [f":s{i}" for i in range(len(query.streams))]
            sql += f" AND stream IN ({', '.join(names) or 'NULL'})"
            params.update({f"s{i}": name for i, name in enumerate(query.streams)})
        for i, part in enumerate(query.contains):
            sql += f" AND instr(message, :c{i}) > 0"
            params[f"c{i}"] = part
        sql += " ORDER BY seq DESC" if query.newest_first else " ORDER BY seq"
        sql += " LIMIT :limit"
        with self.db.read() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [(s, LogEvent(timestamp_ms=ts, message=m, seq=q)) for q, s, ts, m in rows]

    async def log_streams(self, group: str) -> list[LogStreamStats]:
        with self.db.read() as conn:
            rows = conn.execute(Q["log_streams"], {"grp": group}).fetchall()
        return [
            LogStreamStats(
                name=name,
                first_event_ms=first,
                last_event_ms=last,
                first_seq=lo,
                last_seq=hi,
                stored_bytes=size,
            )
            for name, first, last, lo, hi, size in rows
        ]

    async def delete_logs(
        self, group: str, *, before_ms: int | None = None, limit: int = 1000
    ) -> int:
        with self.db.write() as conn:
            params = {"grp": group, "before": before_ms, "limit": limit}
            sizes = conn.execute(Q["log_delete_some"], params).fetchall()
            if sizes:
                freed = {"grp": group, "bytes": sum(n for (n,) in sizes)}
                conn.execute(Q["log_group_subtract"], freed)
                conn.execute(Q["log_group_drop_if_empty"], {"grp": group})
        return len(sizes)
