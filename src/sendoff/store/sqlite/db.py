"""The SQLite connection shared by the SQLite store's parts: WAL, one writer, migrations.

The schema is the numbered migrations in ``sql/``, applied in one transaction at open;
every query of the store is in ``sql/queries.sql``, by name (:data:`Q`).

Each statement runs synchronously on the caller's thread under a lock. SQLite calls on a
local file take microseconds, far less than a thread hop, so the event loop calls them
directly. ``synchronous=NORMAL`` in WAL mode keeps every committed transaction across a
process crash (SIGKILL); only an OS crash or power loss can drop the last ones.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sendoff.store import sqlfiles
from sendoff.store.sqlite.checkpoint import Checkpointer

T = TypeVar("T")

BUSY_TIMEOUT_S = 30.0
"""How long a statement waits for another process's lock before it fails."""


def migrations() -> list[tuple[int, str, str]]:
    """(number, name, sql) of every packaged migration, in order."""
    return sqlfiles.migrations("sendoff.store.sqlite.sql")


Q = sqlfiles.queries("sendoff.store.sqlite.sql")


class SqliteDatabase:
    def __init__(self, path: str, *, checkpoint_thread: bool = False) -> None:
        """``checkpoint_thread``: checkpoint the WAL on a thread of its own
        (:mod:`sendoff.store.sqlite.checkpoint`), for the connection the event loop writes
        through; others keep SQLite's automatic checkpoint."""
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_S
        )
        self._busy_ms = int(BUSY_TIMEOUT_S * 1000)
        self.lock = threading.RLock()
        self.transactions = 0
        """Write transactions committed by this process (bench/async_pipeline.py)."""
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute(f"PRAGMA busy_timeout={self._busy_ms}")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.checkpointer: Checkpointer | None = None
        if checkpoint_thread and path != ":memory:":
            # the thread checkpoints a few times a second; SQLite's own at 20,000 pages
            # only if it ever falls that far behind
            self.conn.execute("PRAGMA wal_autocheckpoint=20000")
            self.checkpointer = Checkpointer(path, busy_timeout_ms=self._busy_ms)
        else:
            # A checkpoint copies each page once however often the WAL rewrote it; hot
            # index pages are rewritten by nearly every commit, so checkpointing every
            # 10,000 pages (40 MB of WAL) instead of SQLite's 1,000 copies far fewer pages
            # (bench/async_pipeline.py: about 15% less CPU per event).
            self.conn.execute("PRAGMA wal_autocheckpoint=10000")
        self._contended = False
        """Another connection has committed to the file: writers may wait for each other
        (then :meth:`_begin_immediate` polls for the lock)."""
        self._seen_version: int | None = None
        # 32 MiB of page cache (SQLite's default is 2 MiB): the queue's hot pages and a
        # polled queue's messages stay in memory instead of being read back with pread.
        self.conn.execute("PRAGMA cache_size=-32768")

    def migrate(self, *, upto: int | None = None) -> list[str]:
        """Apply the packaged migrations not yet applied (up to number ``upto``)."""
        applied: list[str] = []
        with self.write() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations"
                " (number INTEGER PRIMARY KEY, name TEXT NOT NULL)"
            )
            done = {row[0] for row in conn.execute("SELECT number FROM schema_migrations")}
            for number, name, sql in migrations():
                if number in done or (upto is not None and number > upto):
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
            self._begin_immediate()
            try:
                yield self.conn
                self.conn.execute("COMMIT")
                if self.checkpointer is not None:
                    self.checkpointer.committed()
            except BaseException:
                # some errors (SQLITE_FULL, IOERR) have rolled the transaction back already
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            self.transactions += 1

    def _begin_immediate(self) -> None:
        """BEGIN IMMEDIATE. Once another connection has been seen committing to the file
        (:meth:`data_version`: a server and its worker processes share it), this one
        polls for the write lock every 50-500 us instead of waiting in SQLite's
        busy handler, which sleeps 1, 2, 5, 10 ms... (its first sleep alone is ten times a
        typical write transaction, and the event loop waits with it). Alone on the file,
        it does not pay for the two PRAGMAs that polling takes."""
        conn = self.conn
        if not self._contended:
            conn.execute("BEGIN IMMEDIATE")
            return
        conn.execute("PRAGMA busy_timeout=0")
        try:
            delay = 0.00005
            deadline = 0.0
            while True:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                        raise
                now = time.monotonic()
                if not deadline:
                    deadline = now + self._busy_ms / 1000
                elif now > deadline:
                    raise sqlite3.OperationalError("database is locked")
                time.sleep(delay)
                delay = min(delay * 2, 0.0005)
        finally:
            conn.execute(f"PRAGMA busy_timeout={self._busy_ms}")

    def write_counts(self) -> dict[str, int]:
        """Transactions committed and rows written through this connection so far."""
        return {"transactions": self.transactions, "rows_written": self.conn.total_changes}

    def data_version(self) -> int:
        """Changes whenever another connection (another process) commits to the file."""
        with self.lock:
            version = int(self.conn.execute("PRAGMA data_version").fetchone()[0])
        if self._seen_version is not None and version != self._seen_version:
            self._contended = True
        self._seen_version = version
        return version

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            yield self.conn

    def close(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.close()
        with self.lock:
            self.conn.close()


def _split(sql: str) -> list[str]:
    """Split a migration into statements (no semicolons inside our statements' literals)."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


class WriteBatcher:
    """Group commit: writes submitted within two turns of the event loop share one
    transaction.

    One failing write fails alone. The batch first runs straight through (no savepoints:
    two statements fewer per write, for the writes that nearly always succeed); if any
    write raises, the whole transaction rolls back and the batch runs again with each
    write inside its own SAVEPOINT, so the others still commit. A write is a function of
    the connection alone (it keeps no state between runs), so running it twice after a
    rollback is the same as running it once. A write's awaitable resolves only after the
    COMMIT, so "returned" still means "durable". Under load this turns hundreds of small
    transactions per second into a few larger ones.
    """

    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db
        self._pending: list[tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        """The loop a flush is pending on (None: none is)."""

    def submit(self, op: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        loop = self._loop  # asking asyncio for the running loop costs a getpid
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
            # two turns of the loop: the writes of the callbacks that the first turn's
            # make ready (a commit's waiters, answered requests) join this transaction
            loop.call_soon(loop.call_soon, self._flush)
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((op, future))
        return future

    def _flush(self) -> None:
        self._loop = None
        batch, self._pending = self._pending, []
        try:
            results = self._run_straight(batch)
        except Exception:
            results = None
        if results is not None:
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
            return
        self._flush_isolated(batch)

    def _run_straight(
        self, batch: list[tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any]]]
    ) -> list[Any]:
        """Every write of the batch in one transaction, no savepoints; raises (rolled
        back) if any write raises."""
        with self.db.write() as conn:
            return [op(conn) for op, _ in batch]

    def _flush_isolated(
        self, batch: list[tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any]]]
    ) -> None:
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            with self.db.write() as conn:
                for op, future in batch:
                    conn.execute("SAVEPOINT w")
                    try:
                        result = op(conn)
                    except Exception as exc:
                        conn.execute("ROLLBACK TO w")
                        conn.execute("RELEASE w")
                        outcomes.append((future, None, exc))
                    else:
                        conn.execute("RELEASE w")
                        outcomes.append((future, result, None))
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for future, result, error in outcomes:
            if future.done():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)
