"""The narrow persistence contract and its backends, chosen by URL scheme.

``memory://``            in-process, for fast tests
``sqlite:///path.db``    the embedded default (WAL, numbered migrations)

PostgreSQL and Redis backends plug in here later, imported lazily.
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
    raise ConfigError(f"unsupported store URL scheme {scheme!r} in {url!r}")
