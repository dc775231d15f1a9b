"""SQLite migrations: numbered, applied once, in order, idempotent on reopen; an old schema
migrated step by step ends up the same as a fresh install; every named query compiles
against that schema."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import sendoff.store.sqlite as sqlite_backend
from sendoff.store.sqlite.db import Q, SqliteDatabase, _split, migrations


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


def test_retention_upgrade_stamps_finished_events_and_sizes_log_groups(tmp_path: Path) -> None:
    """A store from before retention: its terminal events count as finished at the
    upgrade (kept one more window), live ones stay unfinished, log groups get their size."""
    import time

    db = SqliteDatabase(str(tmp_path / "old.db"))
    conn = db.conn
    conn.execute("CREATE TABLE schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    for number, name, sql in migrations():
        if number >= 5:
            break
        for statement in _split(sql):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (number, name))
    for event_id, state in (("done", "succeeded"), ("bad", "failed"), ("live", "queued")):
        conn.execute(
            "INSERT INTO events (id, function_key, state, due_at, enqueued_at, body)"
            " VALUES (?, 'a/r/f', ?, 0, 0, '{}')",
            (event_id, state),
        )
    conn.execute("INSERT INTO logs (grp, stream, ts_ms, message) VALUES ('g', 's', 1, 'héllo')")
    conn.execute("INSERT INTO logs (grp, stream, ts_ms, message) VALUES ('g', 's', 2, 'abc')")
    before = time.time()
    assert db.migrate()[0] == "0005_retention.sql"
    finished = dict(conn.execute("SELECT id, finished_at FROM events").fetchall())
    assert finished["live"] is None
    assert before - 1 <= finished["done"] <= time.time() + 1
    assert finished["bad"] == finished["done"]
    assert conn.execute("SELECT grp, bytes FROM log_groups").fetchall() == [("g", 9)]
    db.close()


def schema(conn: sqlite3.Connection) -> list[tuple[str, str, str, str | None]]:
    """Every table, index and trigger with its SQL, as sqlite_master has them."""
    rows = conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master"
        " WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name"
    ).fetchall()
    return [tuple(row) for row in rows]


def test_step_by_step_upgrade_matches_a_fresh_install(tmp_path: Path) -> None:
    numbers = [n for n, _, _ in migrations()]
    old = str(tmp_path / "old.db")
    for number in numbers:  # one release at a time, with data in between
        db = SqliteDatabase(old)
        assert [name[:4] for name in db.migrate(upto=number)] == [f"{number:04d}"]
        if number == 1:
            db.conn.execute(
                "INSERT INTO docs (kind, key, value, revision) VALUES ('fn', 'k', '{\"v\": 1}', 1)"
            )
        db.close()
    fresh = SqliteDatabase(str(tmp_path / "new.db"))
    assert fresh.migrate() == [name for _, name, _ in migrations()]
    upgraded = SqliteDatabase(old)
    assert upgraded.migrate() == []
    got = schema(upgraded.conn)
    assert {kind for kind, *_ in got} >= {"table", "index"}
    assert got == schema(fresh.conn)
    assert upgraded.conn.execute("SELECT value FROM docs WHERE key = 'k'").fetchone() == (
        '{"v": 1}',
    )
    fresh.close()
    upgraded.close()


def test_every_named_query_compiles_and_is_used(tmp_path: Path) -> None:
    db = SqliteDatabase(str(tmp_path / "q.db"))
    db.migrate()
    for query in Q.values():
        names = set(re.findall(r":([a-z_]+)", query))
        db.conn.execute(f"EXPLAIN {query}", dict.fromkeys(names))  # compiles: tables, columns
    db.close()
    source = "".join(path.read_text() for path in Path(sqlite_backend.__file__).parent.glob("*.py"))
    unused = [name for name in Q if f'"{name}"' not in source]
    assert unused == []
