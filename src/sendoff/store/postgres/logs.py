"""PostgreSQL side of the CloudWatch Logs API: the filters in SQL (schema in
``sql/0005_log_streams.sql``).

``query_logs`` runs one statement over the ``(grp, seq)`` or ``(grp, stream, seq)`` index
with the time range, the stream names or prefix and the prefilter's substrings
(``strpos``, case-sensitive); its JSON tests are left to Python (a JSON message that is
not valid ``jsonb`` must stay a candidate, and casting in SQL would fail on it).
``log_streams`` seeks the index three times a stream.
"""

from __future__ import annotations

from typing import Any

from sendoff.store.base import (
    AllOf,
    AnyOf,
    Contains,
    LogEvent,
    LogQuery,
    LogStreamStats,
    Prefilter,
)
from sendoff.store.postgres.db import PostgresDatabase, Q


class PostgresLogQueries:
    db: PostgresDatabase

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
            params["streams"] = list(query.streams)
            sql += " AND stream = ANY(%(streams)s::text[])"
        if query.where is not None:
            sql += " AND " + _where_sql(query.where, params)
        sql += " ORDER BY seq DESC" if query.newest_first else " ORDER BY seq"
        sql += " LIMIT %(limit)s"
        rows = await self.db.fetchall(sql, params)
        return [(s, LogEvent(timestamp_ms=ts, message=m, seq=q)) for q, s, ts, m in rows]

    async def log_streams(self, group: str) -> list[LogStreamStats]:
        out: list[LogStreamStats] = []
        name = ""
        while True:
            row = await self.db.fetchone(Q["log_next_stream"], {"grp": group, "after": name})
            if row is None:
                return out
            name = row[0]
            params = {"grp": group, "stream": name}
            first = await self.db.fetchone(Q["log_stream_first"], params)
            last = await self.db.fetchone(Q["log_stream_last"], params)
            if first is None or last is None:  # pruned meanwhile
                continue
            out.append(
                LogStreamStats(
                    name=name,
                    first_event_ms=first[1],
                    last_event_ms=last[1],
                    first_seq=first[0],
                    last_seq=last[0],
                )
            )


def _where_sql(where: Prefilter, params: dict[str, Any]) -> str:
    """SQL for a prefilter's substrings; JSON tests are true here (Python checks them)."""
    if isinstance(where, Contains):
        name = f"w{len(params)}"
        params[name] = where.text
        return f"strpos(message, %({name})s) > 0"
    if isinstance(where, AllOf | AnyOf):
        if not where.parts:
            return "TRUE" if isinstance(where, AllOf) else "FALSE"
        joiner = " AND " if isinstance(where, AllOf) else " OR "
        return "(" + joiner.join(_where_sql(part, params) for part in where.parts) + ")"
    return "TRUE"
