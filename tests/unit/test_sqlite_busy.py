"""A SQLite write waits for another process's write transaction by polling (every 50 to
500 us) rather than with SQLite's busy handler (1, 2, 5, 10 ms... sleeps), and still gives
up after ``BUSY_TIMEOUT_S``."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from sendoff.store.sqlite import db as sqlite_db
from sendoff.store.sqlite.db import SqliteDatabase


def _put(db: SqliteDatabase, key: str) -> None:
    with db.write() as conn:
        conn.execute(
            "INSERT INTO docs (kind, key, value, revision) VALUES ('t', ?, '{}', 1)", (key,)
        )


def test_a_write_waits_for_another_connections_transaction(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    db = SqliteDatabase(path)
    db.migrate()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    done = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            _put(db, "a")
        except BaseException as exc:  # reported below
            errors.append(exc)
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        assert not done.wait(0.2), errors  # still waiting while the other one writes
        other.execute("COMMIT")
        assert done.wait(10)
    finally:
        thread.join(10)
        other.close()
    assert errors == []
    with db.read() as conn:
        assert conn.execute("SELECT key FROM docs WHERE kind = 't'").fetchall() == [("a",)]
    # the connection's own busy timeout is back for every other statement
    with db.read() as conn:
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
    db.close()


def test_a_write_gives_up_after_the_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_db, "BUSY_TIMEOUT_S", 0.05)
    path = str(tmp_path / "s.db")
    db = SqliteDatabase(path)
    db.migrate()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            _put(db, "b")
    finally:
        other.execute("ROLLBACK")
        other.close()
    _put(db, "c")  # and works again once the lock is free
    db.close()
