"""Numbered migrations: applied once, in order, and idempotent on reopen."""

from __future__ import annotations

from pathlib import Path

from sendoff.store.sqlite_db import SqliteDatabase, migrations


def test_migrations_are_numbered_without_gaps() -> None:
    numbers = [n for n, _, _ in migrations()]
    assert numbers == list(range(1, len(numbers) + 1))


def test_migrate_twice_applies_once(tmp_path: Path) -> None:
    db = SqliteDatabase(str(tmp_path / "m.db"))
    applied = db.migrate()
    assert applied == [name for _, name, _ in migrations()]
    assert db.migrate() == []
    journal = db.conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert journal == "wal"
    db.close()


def test_the_unused_events_function_index_is_gone(tmp_path: Path) -> None:
    db = SqliteDatabase(str(tmp_path / "m.db"))
    db.migrate()
    indexes = {r[0] for r in db.conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "events_function" not in indexes
    assert {"events_ready", "events_state"} <= indexes
    db.close()
