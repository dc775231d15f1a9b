"""The narrow persistence contract and its backends, chosen by URL scheme.

``memory://``            in-process, for fast tests
``sqlite:///path.db``    the embedded default (WAL, numbered migrations)
``postgresql://...``     many processes on many hosts share one database (extra ``postgres``)
``redis://host/0?prefix=sendoff``  the same, on Redis (extra ``redis``; ``rediss://`` for TLS)

Each backend is a subpackage with the same file names (``store.py``, ``messages.py``,
``retention.py``, ``db.py``/``connection.py``, ``wakeups.py``, its SQL or Lua beside them);
backends other than memory and SQLite are imported lazily, so their drivers are optional.
"""

from __future__ import annotations

from sendoff.errors import ConfigError
from sendoff.store.base import Doc, EventRecord, LogEvent, Store

__all__ = ["Doc", "EventRecord", "LogEvent", "Store", "open_store"]


def open_store(url: str) -> Store:
    scheme, _, rest = url.partition("://")
    if scheme == "memory":
        from sendoff.store.memory import MemoryStore

        return MemoryStore()
    if scheme == "sqlite":
        from sendoff.store.sqlite import SqliteStore

        path = rest[1:] if rest.startswith("/") else rest
        if not path:
            raise ConfigError(f"sqlite URL needs a path: {url!r}")
        return SqliteStore(path if path == ":memory:" else "/" + path.lstrip("/"))
    if scheme in ("postgresql", "postgres"):
        try:
            from sendoff.store.postgres import PostgresStore
        except ModuleNotFoundError as exc:
            if exc.name not in ("psycopg", "psycopg_pool"):
                raise
            raise ConfigError(
                f"the PostgreSQL store needs {exc.name}: pip install 'sendoff[postgres]'"
            ) from exc
        return PostgresStore(url)
    if scheme in ("redis", "rediss"):
        try:
            from sendoff.store.redis import RedisStore
        except ModuleNotFoundError as exc:
            if exc.name is None or exc.name.partition(".")[0] != "redis":
                raise
            raise ConfigError(
                "the Redis store needs the redis package: pip install 'sendoff[redis]'"
            ) from exc
        return RedisStore(url)
    raise ConfigError(f"unsupported store URL scheme {scheme!r} in {url!r}")
