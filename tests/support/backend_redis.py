"""A fresh Redis store per test: its own key prefix, whose keys are deleted afterwards.

The server is ``SENDOFF_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/14``); each
store uses a unique prefix (``?prefix=t-<hex>``), so tests never see each other's keys and
can run in parallel against one database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from sendoff.store.redis import RedisStore

DEFAULT_URL = "redis://127.0.0.1:6379/14"


def server_url() -> str:
    return os.environ.get("SENDOFF_TEST_REDIS_URL", DEFAULT_URL)


def prefix_url(prefix: str) -> str:
    url = server_url()
    return f"{url}{'&' if '?' in url else '?'}prefix={prefix}"


def admin() -> aioredis.Redis:
    """A plain client of the test database (the caller closes it)."""
    return aioredis.Redis.from_url(server_url(), decode_responses=True, socket_timeout=5)


@asynccontextmanager
async def fresh_prefix(unavailable: Callable[[str], None]) -> AsyncIterator[str]:
    """A store URL with a unique prefix; every key under the prefix is deleted on exit."""
    prefix = f"t-{uuid.uuid4().hex[:16]}"
    client = admin()
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        unavailable(f"Redis at {server_url()} is unreachable: {exc}")
        raise
    try:
        yield prefix_url(prefix)
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        for start in range(0, len(keys), 500):
            await client.unlink(*keys[start : start + 500])
        await client.aclose()


@asynccontextmanager
async def fresh_store(unavailable: Callable[[str], None]) -> AsyncIterator[RedisStore]:
    async with fresh_prefix(unavailable) as url:
        store = RedisStore(url)
        await store.open()
        try:
            yield store
        finally:
            await store.close()
