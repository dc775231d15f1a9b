"""SQLite side of the CloudWatch Logs API: filters pushed into SQL (schema in
``sql/0006_log_streams.sql``).

``query_logs`` runs one statement over the group's ``(grp, seq)`` index (or the
``(grp, stream, seq)`` one for named streams) with the time range, the stream prefix and
the filter pattern's prefilter evaluated by SQLite, so Python only sees candidate lines:
substrings with ``instr`` (case-sensitive, like CloudWatch), JSON tests with
``json_extract`` on messages that are JSON as a whole (any other message stays a
candidate: it may hold JSON after a prefix). Numbers are compared after ``CAST(... AS
REAL)``, which keeps every value Python would accept (a numeric string included) and lets
a few more through. A file database answers ``query_logs`` in a worker thread on a
read-only connection of its own, so a long scan never holds the event loop.

``delete_logs`` deletes in batches of ``limit`` and keeps ``log_groups.bytes``
(0005_retention.sql) exact; ``log_bytes`` reads it. ``log_streams`` seeks the ``(grp,
stream, seq)`` index three times a stream instead of reading the lines.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from sendoff.store.base import (
    AllOf,
    AnyOf,
    Contains,
    JsonTest,
    LogEvent,
    LogQuery,
    LogStreamStats,
    Prefilter,
)
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
        if query.where is not None:
            sql += " AND " + _where_sql(query.where, params)
        sql += " ORDER BY seq DESC" if query.newest_first else " ORDER BY seq"
        sql += " LIMIT :limit"
        if self.db.path == ":memory:":
            with self.db.read() as conn:
                rows = conn.execute(sql, params).fetchall()
        else:  # a scan may take tens of ms: off the event loop, on a connection of its own
            rows = await asyncio.to_thread(_read_on_own_connection, self.db.path, sql, params)
        return [(s, LogEvent(timestamp_ms=ts, message=m, seq=q)) for q, s, ts, m in rows]

    async def log_streams(self, group: str) -> list[LogStreamStats]:
        """Three index seeks a stream (its name, first and last line), whatever its size."""
        out: list[LogStreamStats] = []
        name = ""
        with self.db.read() as conn:
            while True:
                row = conn.execute(Q["log_next_stream"], {"grp": group, "after": name}).fetchone()
                if row is None:
                    return out
                name = row[0]
                params = {"grp": group, "stream": name}
                first_seq, first_ms = conn.execute(Q["log_stream_first"], params).fetchone()
                last_seq, last_ms = conn.execute(Q["log_stream_last"], params).fetchone()
                out.append(
                    LogStreamStats(
                        name=name,
                        first_event_ms=first_ms,
                        last_event_ms=last_ms,
                        first_seq=first_seq,
                        last_seq=last_seq,
                    )
                )

    async def log_bytes(self, group: str) -> int:
        with self.db.read() as conn:
            row = conn.execute(Q["log_group_bytes"], {"grp": group}).fetchone()
        return int(row[0]) if row else 0

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


def _read_on_own_connection(path: str, sql: str, params: dict[str, Any]) -> list[Any]:
    """Run one read in a worker thread (SQLite releases the GIL while it works); WAL lets
    it read committed data while the store's own connection writes."""
    conn = sqlite3.connect(f"{Path(path).as_uri()}?mode=ro", uri=True, timeout=30.0)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


_NUMERIC_OPS = frozenset({"<", ">", "<=", ">="})


def _where_sql(where: Prefilter, params: dict[str, Any]) -> str:
    """SQL for a prefilter; its values become named parameters (never text in the SQL)."""
    name = f"w{len(params)}"
    if isinstance(where, Contains):
        params[name] = where.text
        return f"instr(message, :{name}) > 0"
    if isinstance(where, AllOf | AnyOf):
        if not where.parts:
            return "1" if isinstance(where, AllOf) else "0"
        joiner = " AND " if isinstance(where, AllOf) else " OR "
        return "(" + joiner.join(_where_sql(part, params) for part in where.parts) + ")"
    assert isinstance(where, JsonTest)
    path = _json_path(where.path)
    if path is None:
        return "1"
    params[name] = path
    params[name + "v"] = where.value
    extracted = f"json_extract(message, :{name})"
    if where.op in _NUMERIC_OPS and isinstance(where.value, float):
        test = f"CAST({extracted} AS REAL) {where.op} :{name}v"
    elif where.op == "=" and isinstance(where.value, str):
        test = f"{extracted} = :{name}v"
    else:
        return "1"
    return f"(NOT json_valid(message) OR {test})"


def _json_path(path: tuple[str | int, ...]) -> str | None:
    """SQLite's JSON path for plain member names and array indexes; None otherwise."""
    out = "$"
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        elif step.isidentifier() and step.isascii():
            out += f".{step}"
        else:
            return None
    return out
