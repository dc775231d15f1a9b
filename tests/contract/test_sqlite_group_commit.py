"""SQLite group commit: the writes of one event-loop tick share a transaction, run straight
through; a failing write fails alone (the batch runs again with savepoints), leaves no
partial rows, and the others commit."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sendoff.store import EventRecord
from sendoff.store.base import EventState
from sendoff.store.sqlite import SqliteStore


def job(i: int) -> EventRecord:
    return EventRecord(
        id=f"e{i:04d}",
        function_key="a/r/f",
        state=EventState.QUEUED,
        due_at=float(i),
        enqueued_at=float(i),
        body={"n": i},
    )


async def test_one_tick_shares_one_transaction(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "s.db"))
    await store.open()
    try:
        before = store.write_counts()["transactions"]
        await asyncio.gather(*(store.enqueue([job(i)]) for i in range(10)))
        assert store.write_counts()["transactions"] == before + 1
        assert await store.count_events() == 10
    finally:
        await store.close()


async def test_a_failing_write_fails_alone_and_leaves_no_partial_rows(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "s.db"))
    await store.open()
    try:
        await store.enqueue([job(1)])
        outcomes = await asyncio.gather(
            store.enqueue([job(2)]),
            store.enqueue([job(5), job(1)]),  # e0005 is new, e0001 a duplicate: neither stays
            store.enqueue([job(3)]),
            return_exceptions=True,
        )
        assert outcomes[0] is None and outcomes[2] is None
        assert isinstance(outcomes[1], sqlite3.IntegrityError)
        ids = {e.id for e in await store.list_events()}
        assert ids == {"e0001", "e0002", "e0003"}
        # the connection is usable afterwards, outside any transaction
        assert not store.db.conn.in_transaction
        await store.enqueue([job(4)])
        assert await store.count_events() == 4
    finally:
        await store.close()
