"""The Redis connection shared by the Redis store's parts: URL, clients, scripts, wake-ups.

A store URL is a redis-py URL plus one option of ours, ``prefix`` (default ``sendoff``):
``redis://host:6379/0?prefix=sendoff`` or ``rediss://...`` for TLS. Every key the store
writes starts with ``<prefix>:``, so several sendoff installations can share one database.
The key schema is in docs/store-redis.md and at the top of each script in ``lua/``.

Wake-ups (PUBLISH on ``<prefix>:wakeups``): :mod:`sendoff.store.redis.wakeups`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from sendoff.errors import ConfigError
from sendoff.store.redis import lua
from sendoff.store.redis.wakeups import Listeners, WakeupRelay

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_PREFIX = "sendoff"


def split_url(url: str) -> tuple[str, str]:
    """(the URL for redis-py, the key prefix): ``prefix`` is taken out of the query."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefixes = [value for name, value in query if name == "prefix"]
    rest = [(name, value) for name, value in query if name != "prefix"]
    prefix = prefixes[-1] if prefixes else DEFAULT_PREFIX
    if not prefix:
        raise ConfigError(f"the redis store prefix must not be empty: {url!r}")
    return urlunsplit(parts._replace(query=urlencode(rest))), prefix


class RedisConnection:
    """Clients (text and bytes), the loaded scripts, and the wake-up relay."""

    def __init__(self, url: str) -> None:
        self.url, self.prefix = split_url(url)
        # CLIENT LIST shows every connection of this store as sendoff:<prefix>. No socket
        # timeout unless the URL sets one: on Python 3.11 redis-py's send timeout
        # (asyncio.wait_for) can swallow a cancellation, and a cancelled long poll must stop.
        # TCP keepalive (on by default) finds dead connections instead.
        options: dict[str, Any] = {
            "socket_timeout": None,
            "client_name": "sendoff:"
            + "".join(c if c.isalnum() or c in "-_.:" else "_" for c in self.prefix),
        }
        self.text: aioredis.Redis = aioredis.Redis.from_url(
            self.url, decode_responses=True, **options
        )
        self.raw: aioredis.Redis = aioredis.Redis.from_url(self.url, **options)
        self.scripts: dict[str, AsyncScript] = {
            name: self.text.register_script(lua.source(name)) for name in lua.names()
        }
        self.channel = f"{self.prefix}:wakeups"
        self._relay: WakeupRelay | None = None
        self._opened = False

    @property
    def safe_url(self) -> str:
        """The URL without its password, for logs and errors."""
        parts = urlsplit(self.url)
        if parts.password is None:
            return self.url
        netloc = parts.netloc.rpartition("@")[2]
        user = f"{parts.username}:***@" if parts.username else ":***@"
        return urlunsplit(parts._replace(netloc=user + netloc))

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    async def open(self, listeners: Listeners) -> None:
        """Check the server answers and load the scripts (EVALSHA falls back to loading a
        script again if the server lost it, e.g. after SCRIPT FLUSH or a restart)."""
        self._relay = WakeupRelay(self.text, self.channel, listeners)
        async with self.text.pipeline(transaction=False) as pipe:
            for script in self.scripts.values():
                pipe.script_load(script.script)
            await pipe.execute()
        self._opened = True
        self.ensure_subscriber()
        for warning in await self.configuration_warnings():
            log.warning("redis store %s: %s", self.safe_url, warning)

    async def configuration_warnings(self) -> list[str]:
        """What in the server's configuration puts sendoff's data at risk (empty when
        CONFIG is not allowed, as on some managed services)."""
        try:
            config = await self.text.config_get("maxmemory-policy")
            config |= await self.text.config_get("appendonly")
            config |= await self.text.config_get("save")
        except RedisError:
            return []
        warnings = []
        if config.get("maxmemory-policy", "noeviction") != "noeviction":
            warnings.append(
                f"maxmemory-policy is {config['maxmemory-policy']}: Redis may evict queued"
                " work and configuration; use noeviction"
            )
        if config.get("appendonly") == "no":
            lost = "since the last snapshot" if config.get("save") else "(no persistence at all)"
            warnings.append(
                f"appendonly is off: a Redis restart loses everything written {lost};"
                " see docs/store-redis.md"
            )
        return warnings

    async def run(self, name: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        return await self.scripts[name](keys=keys, args=args)

    async def close(self) -> None:
        self._opened = False
        if self._relay is not None:
            await self._relay.stop()
        await self.text.aclose()
        await self.raw.aclose()

    # ---- wake-ups ----
    def ensure_subscriber(self) -> None:
        """Start relaying wake-ups once the store is open and someone listens."""
        if self._opened and self._relay is not None and self._relay.listeners():
            self._relay.start()


async def despite_cancel(work: Awaitable[T], undo: Callable[[T], Awaitable[object]]) -> T:
    """Await ``work`` (a script that takes something: leases, receives); if the caller is
    cancelled meanwhile, let the script finish and ``undo`` what it took, then re-raise.
    So a cancelled caller never holds what it never got, as with the SQL backends, whose
    leases run synchronously."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await undo(await task)
        raise
