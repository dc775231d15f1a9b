"""The SQLite connection shared by the SQLite store's parts: WAL, one writer, migrations.

Each statement runs synchronously on the caller's thread under a lock. SQLite calls on a
local file take microseconds, far less than a thread hop, so the event loop calls them
directly. ``synchronous=NORMAL`` in WAL mode keeps every committed transaction across a
process crash (SIGKILL); only an OS crash or power loss can drop the last ones.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """(number, name, sql) of every packaged migration, in order."""
    found = []
    for entry in resources.files("sendoff.store.sql.sqlite").iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text()))
    found.sort()
    return found


class SqliteDatabase:
    def __init__(self, path: str) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=30.0
        )
        self.lock = threading.RLock()
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA busy_timeout=30000")
        self.conn.execute("PRAGMA foreign_keys=ON")

    def migrate(self) -> list[str]:
        applied: list[str] = []
        with self.write() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations"
                " (number INTEGER PRIMARY KEY, name TEXT NOT NULL)"
            )
            done = {row[0] for row in conn.execute("SELECT number FROM schema_migrations")}
            for number, name, sql in migrations():
                if number in done:
                    continue
                for statement in _split(sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations (number, name) VALUES (?, ?)", (number, name)
                )
                applied.append(name)
        return applied

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: other processes wait, none deadlock)."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            yield self.conn

    def close(self) -> None:
        with self.lock:
            self.conn.close()


def _split(sql: str) -> list[str]:
    """Split a migration into statements (no semicolons inside our statements' literals)."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
