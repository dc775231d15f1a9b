"""WAL checkpoints on a thread of their own, off the event loop.

A checkpoint copies the pages the write-ahead log holds back into the database file.
Left to SQLite (``wal_autocheckpoint``), it runs inside the COMMIT that takes the log past
the threshold, on the thread that committed: the event loop's. Under load that was a third
of all the time spent in COMMIT on the 2-core bench machine (nine commits of ~10,000
events' took 2 to 35 ms each, about 26 us per event), and every event in flight waited.

:class:`Checkpointer` runs ``PRAGMA wal_checkpoint(PASSIVE)`` on its own connection in a
daemon thread instead, every ``interval_s`` while commits keep coming (none while the
database is idle). ``sqlite3`` lets go of the GIL while SQLite works, so the copy runs on
another core while the loop goes on. PASSIVE never blocks writers or readers and is the
mode of SQLite's own automatic checkpoint, so durability does not change (WAL with
``synchronous=NORMAL``). Checkpointing a few times a second keeps the log smaller than the
automatic threshold did (readers look pages up in a smaller log) at no more copying: a
page rewritten by every commit is copied once per checkpoint, a new page once in all.

The watched connection keeps a high ``wal_autocheckpoint`` as a safety net (should this
thread fall behind). Another process's checkpointer may run at the same time: SQLite lets
one work, and the other waits up to its busy timeout or tries again next time.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger("sendoff.store")

INTERVAL_S = 0.25
"""How often the log is checkpointed while commits keep coming."""


class Checkpointer:
    def __init__(self, path: str, *, busy_timeout_ms: int, interval_s: float = INTERVAL_S) -> None:
        self.path = path
        self.interval_s = interval_s
        self._busy_timeout_ms = busy_timeout_ms
        self._dirty = False
        self._closing = threading.Event()
        self.checkpoints = 0
        """Checkpoints run so far."""
        self._thread = threading.Thread(
            target=self._run, name="sendoff-sqlite-checkpoint", daemon=True
        )
        self._thread.start()

    def committed(self) -> None:
        """A write transaction committed to the database (a flag: costs nothing)."""
        self._dirty = True

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
            while not self._closing.wait(self.interval_s):
                if not self._dirty:
                    continue
                self._dirty = False
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # busy past the timeout, disk full: next time
                    log.warning("WAL checkpoint failed (will try again): %s", exc)
                    self._dirty = True
                    continue
                self.checkpoints += 1
        finally:
            conn.close()

    def close(self) -> None:
        self._closing.set()
        self._thread.join(timeout=60)
