"""Hear other processes' commits to the same SQLite file (``PRAGMA data_version``).

SQLite has no notifications between processes. ``data_version`` on a connection changes
whenever *another* connection commits, and reading it touches no table, so a watcher polls
it: every 2 ms while changes keep coming, backing off to every 100 ms once the file has
been quiet for a second (an idle server wakes ten times a second). On a change it tells
the store's wakeup listeners ``"jobs"`` (the scheduler leases) and ``"messages/*"`` (long
polls look again), which is what the PostgreSQL and Redis backends signal precisely.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable

log = logging.getLogger("sendoff.store")

FAST_S = 0.002
IDLE_S = 0.1
QUIET_S = 1.0


class DataVersionWatcher:
    def __init__(
        self, read_version: Callable[[], int], listeners: Callable[[], list[Callable[[str], None]]]
    ) -> None:
        self._read_version = read_version
        self._listeners = listeners
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sendoff-sqlite-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        last = self._read_version()
        changed_at = 0.0
        while True:
            now = time.monotonic()
            await asyncio.sleep(FAST_S if now - changed_at < QUIET_S else IDLE_S)
            try:
                version = self._read_version()
            except sqlite3.Error:
                log.exception("could not read the SQLite data version")
                continue
            if version == last:
                continue
            last, changed_at = version, time.monotonic()
            for listener in self._listeners():
                for topic in ("jobs", "messages/*"):
                    try:
                        listener(topic)
                    except Exception:
                        log.exception("wakeup listener failed")
