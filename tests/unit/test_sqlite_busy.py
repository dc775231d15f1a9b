"""A SQLite write waits for another process's write transaction: alone on the file with
SQLite's busy handler, and once another connection has been seen committing
(``data_version``) by polling every 50 to 500 us (not 1, 2, 5, 10 ms... sleeps); either
way it gives up after ``BUSY_TIMEOUT_S``. And the WAL checkpoint thread keeps the log
checkpointed."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from sendoff.store.sqlite import db as sqlite_db
from sendoff.store.sqlite.db import SqliteDatabase
from tests.support.server import wait_until


def _put(db: SqliteDatabase, key: str) -> None:
    with db.write() as conn:
        conn.execute(
            "INSERT INTO docs (kind, key, value, revision) VALUES ('t', ?, '{}', 1)", (key,)
        )


@pytest.mark.parametrize("seen_other_writer", [False, True])
def test_a_write_waits_for_another_connections_transaction(
    tmp_path: Path, seen_other_writer: bool
) -> None:
    path = str(tmp_path / "s.db")
    db = SqliteDatabase(path)
    db.migrate()
    other = sqlite3.connect(path, isolation_level=None)
    if seen_other_writer:
        db.data_version()
        other.execute("INSERT INTO docs (kind, key, value, revision) VALUES ('o', 'o', '{}', 1)")
        db.data_version()
    assert db._contended is seen_other_writer
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


@pytest.mark.parametrize("contended", [False, True])
def test_a_write_gives_up_after_the_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, contended: bool
) -> None:
    monkeypatch.setattr(sqlite_db, "BUSY_TIMEOUT_S", 0.05)
    path = str(tmp_path / "s.db")
    db = SqliteDatabase(path)
    db.migrate()
    db._contended = contended
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


def test_the_checkpoint_thread_checkpoints_while_commits_come(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    db = SqliteDatabase(path, checkpoint_thread=True)
    db.migrate()
    assert db.checkpointer is not None
    with db.read() as conn:  # SQLite's own checkpoint is only a safety net now
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 20_000
    _put(db, "x")

    def checkpointed() -> bool:
        assert db.checkpointer is not None
        return db.checkpointer.checkpoints >= 1

    wait_until(checkpointed, timeout=10, message="a checkpoint")
    # the log's frames are all back in the database file: a checkpoint has nothing to do
    other = sqlite3.connect(path, isolation_level=None)
    busy, frames, done = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert (busy, frames) == (0, done)
    other.close()
    before = db.checkpointer.checkpoints
    db.close()  # stops the thread
    assert not db.checkpointer._thread.is_alive()
    assert db.checkpointer.checkpoints == before
