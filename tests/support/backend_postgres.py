"""A fresh PostgreSQL store per test: its own schema, dropped afterwards.

The server is ``SENDOFF_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``); each store lives in a uniquely named schema
(``?schema=t_<hex>``), so tests never see each other's rows and can run in parallel.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import psycopg
from psycopg import sql

from sendoff.store.postgres import PostgresStore

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def server_url() -> str:
    return os.environ.get("SENDOFF_TEST_POSTGRES_URL", DEFAULT_URL)


def schema_url(schema: str) -> str:
    url = server_url()
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


async def admin(unavailable: Callable[[str], None]) -> psycopg.AsyncConnection[tuple[object, ...]]:
    """An autocommit connection to the test server, or ``unavailable`` when it is down."""
    try:
        return await psycopg.AsyncConnection.connect(
            server_url(), autocommit=True, connect_timeout=3
        )
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL at {server_url()} is unreachable: {exc}")
        raise


@asynccontextmanager
async def fresh_schema(unavailable: Callable[[str], None]) -> AsyncIterator[str]:
    """A unique schema name, dropped (with everything in it) on exit."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    conn = await admin(unavailable)
    try:
        yield schema
    finally:
        await conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )
        await conn.close()


@asynccontextmanager
async def fresh_store(unavailable: Callable[[str], None]) -> AsyncIterator[PostgresStore]:
    async with fresh_schema(unavailable) as schema:
        store = PostgresStore(schema_url(schema))
        await store.open()
        try:
            yield store
        finally:
            await store.close()


@asynccontextmanager
async def shared_stores(
    unavailable: Callable[[str], None], count: int, *, application_name: str = ""
) -> AsyncIterator[list[PostgresStore]]:
    """``count`` stores on one fresh schema: several processes sharing a database."""
    async with fresh_schema(unavailable) as schema:
        url = schema_url(schema)
        if application_name:
            url += f"&application_name={application_name}"
        stores = [PostgresStore(url) for _ in range(count)]
        for store in stores:
            await store.open()
        try:
            yield stores
        finally:
            for store in stores:
                await store.close()


async def eventually(predicate: Callable[[], object], *, timeout_s: float = 10.0) -> None:
    """Poll ``predicate`` (plain or async) on the event loop until it is truthy or the
    deadline passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        outcome = predicate()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {predicate}")
        await asyncio.sleep(0.01)  # poll interval, not a timing assumption
