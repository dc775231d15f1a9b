"""The PostgreSQL plumbing shared by the PostgreSQL store's parts.

* :class:`PostgresDatabase`: the URL (``?schema=`` and ``?pool_max=`` are ours, the rest is
  libpq's), a :class:`psycopg_pool.AsyncConnectionPool` of autocommit connections, and the
  numbered migrations, applied at :meth:`~PostgresDatabase.open` in one transaction under
  an advisory lock, so processes starting together migrate once. A connection is checked
  on checkout without a round trip (is its socket readable while idle?), so one the server
  dropped is replaced instead of failing a call; reads are also retried once.
* :class:`WriteBatcher`: group commit. Writes submitted in the same event-loop tick share
  one pipelined transaction and resolve only after the COMMIT; a failing write is isolated
  by re-running its batch with a savepoint per write.

Wake-ups are sent with :meth:`PostgresDatabase.notify` inside the writing transaction and
heard by :class:`sendoff.store.postgres.wakeups.Listener`.

Locks: a write may name advisory locks (``"put:<queue>"``, ``"logs:<group>"``...); a batch
takes all of its writes' locks at its start, in sorted order, before touching any row, so
batches never deadlock on each other."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import select
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import AsyncConnectionPool

from sendoff.errors import ConfigError, StoreError
from sendoff.model.digits import is_digits
from sendoff.store import sqlfiles

T = TypeVar("T")
Conn = psycopg.AsyncConnection[Any]
Params = Mapping[str, Any]

log = logging.getLogger("sendoff.store.postgres")

SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
MIGRATION_LOCK = 0x5E4D_0FF0_0000_0001  # pg_advisory_xact_lock key of migrations
DEFAULT_POOL_MAX = 10
APPLICATION_NAME = "sendoff"


def migrations() -> list[tuple[int, str, str]]:
    """(number, name, sql) of every packaged migration, in order."""
    return sqlfiles.migrations("sendoff.store.postgres.sql")


Q = sqlfiles.queries("sendoff.store.postgres.sql")


def lock_key(name: str) -> int:
    """A signed 64-bit advisory lock key for a lock name."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def lock(conn: Conn, names: Sequence[str]) -> None:
    """Take transaction-level advisory locks, in key order (callers: inside a transaction)."""
    keys = sorted({lock_key(n) for n in names})
    if keys:
        await conn.execute(
            "SELECT pg_advisory_xact_lock(k) FROM unnest(%(keys)s::bigint[]) AS k ORDER BY k",
            {"keys": keys},
        )


@dataclass(frozen=True, kw_only=True)
class PostgresUrl:
    """A ``postgresql://`` store URL split into libpq's conninfo and sendoff's options."""

    conninfo: str
    schema: str | None = None
    pool_max: int = DEFAULT_POOL_MAX

    @classmethod
    def parse(cls, url: str) -> PostgresUrl:
        parts = urlsplit(url)
        schema: str | None = None
        pool_max = DEFAULT_POOL_MAX
        rest = []
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key == "schema":
                if not SCHEMA_NAME.match(value):
                    raise ConfigError(f"schema must be a lower-case identifier: {value!r}")
                schema = value
            elif key == "pool_max":
                if not is_digits(value) or int(value) < 2:
                    raise ConfigError(f"pool_max must be an integer >= 2: {value!r}")
                pool_max = int(value)
            else:
                rest.append((key, value))
        query = urlencode(rest)
        conninfo = f"postgresql://{parts.netloc}{parts.path}" + (f"?{query}" if query else "")
        try:
            given = conninfo_to_dict(conninfo)
        except psycopg.ProgrammingError as exc:  # (the URL may hold a password: not shown)
            raise ConfigError(f"invalid PostgreSQL store URL: {exc}") from exc
        extra: dict[str, Any] = {}
        if "application_name" not in given:
            extra["application_name"] = APPLICATION_NAME
        if schema is not None:
            extra["options"] = f"{given.get('options') or ''} -csearch_path={schema}".strip()
        return cls(conninfo=make_conninfo(conninfo, **extra), schema=schema, pool_max=pool_max)

    @property
    def display(self) -> str:
        """Where the store is, without credentials (for messages and logs)."""
        info = conninfo_to_dict(self.conninfo)
        where = f"{info.get('host') or 'localhost'}:{info.get('port') or 5432}"
        return f"{where}/{info.get('dbname') or ''} schema {self.schema or 'default'}"


async def _check_idle_connection(conn: Conn) -> None:
    """Pool checkout check without a round trip: an idle connection has nothing to read
    unless the server closed it (restart, pg_terminate_backend) or sent a notice; only
    then ask the server (and let the pool replace the connection if it is gone)."""
    if not hasattr(select, "poll"):  # Windows: ask the server
        await AsyncConnectionPool.check_connection(conn)
        return
    poller = select.poll()
    poller.register(conn.pgconn.socket, select.POLLIN)
    if poller.poll(0):
        await AsyncConnectionPool.check_connection(conn)


class PostgresDatabase:
    def __init__(self, url: str) -> None:
        self.url = PostgresUrl.parse(url)
        self.pool = AsyncConnectionPool(
            self.url.conninfo,
            min_size=2,
            max_size=self.url.pool_max,
            kwargs={"autocommit": True},
            check=_check_idle_connection,
            open=False,
            name="sendoff",
        )
        self.channel = "sendoff"
        self.applied: list[str] = []

    async def open(self, *, migrate_upto: int | None = None) -> None:
        try:  # one plain connection first: an unreachable server fails fast and clearly
            conn = await psycopg.AsyncConnection.connect(self.url.conninfo, connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise StoreError(f"cannot connect to PostgreSQL {self.url.display}: {exc}") from exc
        await conn.close()
        await self.pool.open(wait=True, timeout=30.0)
        self.applied = await self.migrate(upto=migrate_upto)
        row = await self.fetchone("SELECT current_schema()", {})
        current = row[0] if row else None
        channel = "sendoff" if current in (None, "public") else f"sendoff.{current}"
        self.channel = channel[:63]  # PostgreSQL's identifier limit

    async def close(self) -> None:
        await self.pool.close()

    async def migrate(self, *, upto: int | None = None) -> list[str]:
        """Apply the packaged migrations not yet applied (up to number ``upto``)."""
        applied: list[str] = []
        async with self.transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            if self.url.schema is not None:
                await conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                        sql.Identifier(self.url.schema)
                    )
                )
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations"
                " (number integer PRIMARY KEY, name text NOT NULL)"
            )
            cur = await conn.execute("SELECT number FROM schema_migrations")
            done = {row[0] for row in await cur.fetchall()}
            known = [number for number, _, _ in migrations()]
            if done and max(done) > max(known):
                log.warning(
                    "the database schema has migration %d, newer than this sendoff (%d)",
                    max(done),
                    max(known),
                )
            for number, name, text in migrations():
                if number in done or (upto is not None and number > upto):
                    continue
                await conn.execute(text.encode())  # several statements: simple query protocol
                await conn.execute(
                    "INSERT INTO schema_migrations (number, name) VALUES (%s, %s)", (number, name)
                )
                applied.append(name)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        return applied

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Conn]:
        async with self.pool.connection() as conn, conn.transaction():
            yield conn

    async def fetchone(
        self, query: str, params: Params, *, retry: bool = True
    ) -> tuple[Any, ...] | None:
        rows = await self.fetchall(query, params, retry=retry)
        return rows[0] if rows else None

    async def fetchall(
        self, query: str, params: Params, *, retry: bool = True
    ) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows. With ``retry`` it runs again once on
        another connection if the first is lost, so only for statements that are safe
        to run twice (reads, and leases: a lost lease expires like a crashed worker's)."""
        for attempt in (1, 2):
            try:
                async with self.pool.connection() as conn:
                    cur = await conn.execute(query, params)
                    return await cur.fetchall()
            except psycopg.OperationalError:
                if attempt == 2 or not retry or not _lost(conn):
                    raise
                log.warning("lost a PostgreSQL connection; retrying a read on another")
        raise AssertionError("unreachable")

    async def execute(self, query: str, params: Params) -> int:
        """Run one statement; the number of rows it touched."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(query, params)
            return cur.rowcount

    async def notify(self, conn: Conn, topics: Sequence[str]) -> None:
        """Queue wake-ups for other processes (sent when ``conn``'s transaction commits)."""
        if topics:
            await conn.execute(Q["notify"], {"channel": self.channel, "topics": list(topics)})


def _lost(conn: Conn) -> bool:
    return bool(conn.closed or conn.broken)


Result = Callable[[], T]
"""A write's result, read once its batch has committed (in pipeline mode, cursors'
rowcounts are known only after the pipeline syncs)."""

Op = Callable[[Conn], Awaitable[Callable[[], Any]]]


@dataclass(frozen=True)
class _Write:
    op: Op
    future: asyncio.Future[Any]
    locks: tuple[str, ...]
    topics: tuple[str, ...]


class WriteBatcher:
    """Group commit: writes submitted in the same event-loop tick share one transaction.

    The batch is pipelined (about one round trip however many writes it holds); one
    failing write still fails alone (see :meth:`_commit`). A write's awaitable resolves
    only after the COMMIT, so "returned" still means "durable". While
    ``max_inflight`` batches are committing, new writes gather into the next batch, so the
    batches grow with the load instead of the number of transactions.
    """

    def __init__(self, db: PostgresDatabase, *, max_inflight: int = 4, max_batch: int = 500):
        self.db = db
        self.max_inflight = max_inflight
        self.max_batch = max_batch
        self._pending: list[_Write] = []
        self._flushes: set[asyncio.Task[None]] = set()
        self._scheduled = False

    def submit(
        self, op: Callable[[Conn], Awaitable[Result[T]]], *, locks: Sequence[str] = (),
        topics: Sequence[str] = (),
    ) -> asyncio.Future[T]:  # fmt: skip
        """Run ``op`` in the next batch, holding advisory ``locks``; on success, notify
        ``topics`` when the batch commits. ``op`` sends its statements and returns how to
        read its result once they have run: it must not depend on a statement's outcome
        unless it fetches rows (fetching syncs the pipeline)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append(_Write(op, future, tuple(locks), tuple(topics)))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._kick)
        return future

    def _kick(self) -> None:
        self._scheduled = False
        while self._pending and len(self._flushes) < self.max_inflight:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            task = asyncio.create_task(self._flush(batch), name="sendoff-pg-commit")
            self._flushes.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._flushes.discard(task)
        self._kick()

    async def drain(self) -> None:
        """Wait until every submitted write has committed or failed."""
        while self._flushes or self._pending:
            if not self._flushes:
                self._kick()
            await asyncio.gather(*self._flushes, return_exceptions=True)

    async def _flush(self, batch: list[_Write]) -> None:
        try:
            try:
                outcomes = await self._commit(batch, savepoints=False)
            except _RetryWithSavepoints:
                outcomes = await self._commit(batch, savepoints=True)
        except BaseException as exc:
            for write in batch:
                if not write.future.done():
                    write.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for write, (result, error) in zip(batch, outcomes, strict=True):
            if write.future.done():
                continue
            if error is not None:
                write.future.set_exception(error)
            else:
                write.future.set_result(result)

    async def _commit(
        self, batch: list[_Write], *, savepoints: bool
    ) -> list[tuple[Any, BaseException | None]]:
        """Run a batch in one transaction. Writes rarely fail, so the first try pipelines
        the whole batch (BEGIN, locks, every write, NOTIFY, COMMIT: about one round trip);
        if a write fails, that rolls back and the batch runs again statement by statement
        with a savepoint around each write, so only the failing write fails."""
        if not savepoints:
            async with self.db.pool.connection() as conn:
                try:
                    async with conn.pipeline(), conn.transaction():
                        await lock(conn, [name for w in batch for name in w.locks])
                        results = [await write.op(conn) for write in batch]
                        topics = [t for write in batch for t in write.topics]
                        await self.db.notify(conn, sorted(set(topics)))
                except Exception as exc:
                    if len(batch) == 1 or _lost(conn):
                        raise  # a lone write fails alone; a lost connection fails all
                    raise _RetryWithSavepoints from exc
            return [(result(), None) for result in results]
        outcomes: list[tuple[Any, BaseException | None]] = []
        topics = []
        async with self.db.transaction() as conn:
            await lock(conn, [name for w in batch for name in w.locks])
            for write in batch:
                try:
                    async with conn.transaction():
                        result = await write.op(conn)
                except Exception as exc:
                    if _lost(conn):
                        raise
                    outcomes.append((None, exc))
                else:
                    outcomes.append((result(), None))
                    topics += write.topics
            await self.db.notify(conn, sorted(set(topics)))
        return outcomes


class _RetryWithSavepoints(Exception):
    """A write of a batch failed: roll back, run the batch again write by write."""
