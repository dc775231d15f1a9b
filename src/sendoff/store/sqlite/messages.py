"""SQLite message queues (schema in ``sql/0002_messages.sql``).

Sends and deletes go through the store's group commit (:class:`WriteBatcher`: writes of
one event-loop tick share a transaction, each in its own savepoint, and return once
committed). Every other operation is a transaction of its own on the shared connection. A
receive runs synchronously, so a cancelled long poll can never lease messages it does not
return, and it selects and leases in one ``BEGIN IMMEDIATE`` transaction, so two
consumers (tasks or processes) never lease the same message, and a redrive to the
dead-letter queue is an insert and a delete that commit together. Each receive call hands
out one fresh receipt token; a lease is ``(seq, token)``.

FIFO receives ask SQL for visible messages whose group has no blocking row (in flight, or
earlier and not yet visible); ``messages_group`` holds only a few such rows per group, so
the check stays cheap however long the backlog is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from sendoff.model.ids import random_hex
from sendoff.store import jsontext
from sendoff.store.messages import (
    ChangeOutcome,
    DeadLetterTarget,
    MessageCounts,
    MessageStore,
    PutResult,
    QueuedMessage,
    Received,
    VisibilityChange,
)
from sendoff.store.sqlite.db import SqliteDatabase, WriteBatcher

_COLUMNS = (
    "seq, id, body, meta, group_id, dedup_id, sent_at, visible_at, receipt, receive_count,"
    " first_received_at, dead_letter_source"
)

_STANDARD_CANDIDATES = (
    "SELECT seq FROM messages WHERE queue_id = :q AND visible_at <= :now AND sent_at > :cut"
    " AND receive_count >= :min ORDER BY visible_at, seq LIMIT :limit"
)
_ORDERED_CANDIDATES = (
    "SELECT m.seq FROM messages m WHERE m.queue_id = :q AND m.visible_at <= :now"
    " AND m.sent_at > :cut AND m.receive_count >= :min AND NOT EXISTS ("
    "  SELECT 1 FROM messages b WHERE b.queue_id = :q AND b.group_id = m.group_id"
    "  AND b.visible_at > :now AND b.sent_at > :cut AND (b.seq < m.seq OR b.receipt IS NOT NULL)"
    ") ORDER BY m.seq LIMIT :limit"
)


def _message(row: Sequence[Any]) -> QueuedMessage:
    return QueuedMessage(
        seq=row[0],
        id=row[1],
        body=row[2],
        meta=jsontext.loads(row[3]),
        group_id=row[4],
        dedup_id=row[5],
        sent_at=row[6],
        visible_at=row[7],
        receipt=row[8],
        receive_count=row[9],
        first_received_at=row[10],
        dead_letter_source=row[11],
    )


class SqliteMessages(MessageStore):
    db: SqliteDatabase
    batch: WriteBatcher  # group commit, shared with the rest of the SQLite store

    def __init__(self) -> None:
        super().__init__()

    async def put_messages(
        self,
        queue_id: str,
        messages: Sequence[QueuedMessage],
        *,
        now: float,
        dedup_window_s: float,
    ) -> list[PutResult]:
        rows = [
            (m.id, m.body, jsontext.dumps(m.meta), m.group_id, m.dedup_id,
             m.sent_at, m.visible_at)
            for m in messages
        ]  # fmt: skip

        def op(conn: sqlite3.Connection) -> list[PutResult]:
            out = []
            for mid, body, meta, group_id, dedup_id, sent_at, visible_at in rows:
                if dedup_id is not None:
                    hit = conn.execute(
                        "SELECT message_id, seq FROM message_dedup"
                        " WHERE queue_id = ? AND dedup_id = ? AND expires_at > ?",
                        (queue_id, dedup_id, now),
                    ).fetchone()
                    if hit is not None:
                        out.append(PutResult(id=hit[0], seq=hit[1], duplicate=True))
                        continue
                seq = conn.execute(
                    "INSERT INTO messages (queue_id, id, body, meta, group_id, dedup_id, sent_at,"
                    " visible_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
                    (queue_id, mid, body, meta, group_id, dedup_id, sent_at, visible_at),
                ).fetchone()[0]
                if dedup_id is not None:
                    conn.execute(
                        "INSERT OR REPLACE INTO message_dedup"
                        " (queue_id, dedup_id, message_id, seq, expires_at) VALUES (?, ?, ?, ?, ?)",
                        (queue_id, dedup_id, mid, seq, now + dedup_window_s),
                    )
                out.append(PutResult(id=mid, seq=seq))
            return out

        return await self.batch.submit(op)

    async def peek_messages(
        self, queue_id: str, *, now: float, sent_after: float, limit: int
    ) -> list[QueuedMessage]:
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE queue_id = ? AND visible_at <= ?"
                " AND sent_at > ? ORDER BY visible_at, seq LIMIT ?",
                (queue_id, now, sent_after, limit),
            ).fetchall()
        return [_message(r) for r in rows]

    async def receive_messages(
        self,
        queue_id: str,
        *,
        now: float,
        limit: int,
        visibility_s: float,
        sent_after: float,
        ordered: bool = False,
        dead_letter: DeadLetterTarget | None = None,
    ) -> Received:
        receipt = random_hex()
        moved = 0
        with self.db.write() as conn:
            if dead_letter is not None:
                exhausted = self._candidates(
                    conn,
                    queue_id,
                    now,
                    sent_after,
                    ordered=ordered,
                    min_receive_count=dead_letter.max_receive_count,
                )
                for seq in exhausted:
                    self._move(conn, seq, dead_letter, now)
                moved = len(exhausted)
            leased = self._candidates(conn, queue_id, now, sent_after, ordered=ordered, limit=limit)
            if not leased:
                return Received(messages=[], moved=moved)
            marks = ", ".join("?" for _ in leased)
            found = conn.execute(
                "UPDATE messages SET visible_at = ?, receipt = ?,"
                " receive_count = receive_count + 1,"
                f" first_received_at = COALESCE(first_received_at, ?) WHERE seq IN ({marks})"
                f" RETURNING {_COLUMNS}",
                (now + visibility_s, receipt, now, *leased),
            ).fetchall()
        by_seq = {row[0]: _message(row) for row in found}
        return Received(messages=[by_seq[s] for s in leased], moved=moved)

    def _candidates(
        self,
        conn: sqlite3.Connection,
        queue_id: str,
        now: float,
        sent_after: float,
        *,
        ordered: bool,
        limit: int = -1,
        min_receive_count: int = 0,
    ) -> list[int]:
        """Seqs of deliverable messages, in delivery order (SQLite: LIMIT -1 is no limit)."""
        params = {
            "q": queue_id,
            "now": now,
            "cut": sent_after,
            "limit": limit,
            "min": min_receive_count,
        }
        sql = _ORDERED_CANDIDATES if ordered else _STANDARD_CANDIDATES
        return [row[0] for row in conn.execute(sql, params)]

    def _move(
        self, conn: sqlite3.Connection, seq: int, target: DeadLetterTarget, now: float
    ) -> None:
        conn.execute(
            "INSERT INTO messages (queue_id, id, body, meta, group_id, dedup_id, sent_at,"
            " visible_at, receipt, receive_count, first_received_at, dead_letter_source)"
            " SELECT ?, id, body, meta, group_id, dedup_id,"
            " CASE WHEN ? THEN ? ELSE sent_at END, ?, NULL, receive_count, first_received_at, ?"
            " FROM messages WHERE seq = ?",
            (target.queue_id, target.restamp, now, now, target.source, seq),
        )
        conn.execute("DELETE FROM messages WHERE seq = ?", (seq,))

    async def delete_messages(
        self, queue_id: str, handles: Sequence[tuple[int, str]]
    ) -> list[bool]:
        def op(conn: sqlite3.Connection) -> list[bool]:
            return [
                conn.execute(
                    "DELETE FROM messages WHERE seq = ? AND queue_id = ? AND receipt = ?",
                    (seq, queue_id, receipt),
                ).rowcount
                > 0
                for seq, receipt in handles
            ]

        return await self.batch.submit(op)

    async def change_visibility(
        self, queue_id: str, changes: Sequence[VisibilityChange], *, now: float
    ) -> list[ChangeOutcome]:
        out = []
        with self.db.write() as conn:
            for change in changes:
                row = conn.execute(
                    "SELECT visible_at FROM messages"
                    " WHERE seq = ? AND queue_id = ? AND receipt = ?",
                    (change.seq, queue_id, change.receipt),
                ).fetchone()
                if row is None:
                    out.append(ChangeOutcome.NOT_FOUND)
                elif row[0] <= now:
                    out.append(ChangeOutcome.NOT_IN_FLIGHT)
                else:
                    conn.execute(
                        "UPDATE messages SET visible_at = ? WHERE seq = ?",
                        (change.visible_at, change.seq),
                    )
                    out.append(ChangeOutcome.CHANGED)
        return out

    async def purge_messages(self, queue_id: str) -> int:
        with self.db.write() as conn:
            return conn.execute("DELETE FROM messages WHERE queue_id = ?", (queue_id,)).rowcount

    async def drop_queue_messages(self, queue_id: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM messages WHERE queue_id = ?", (queue_id,))
            conn.execute("DELETE FROM message_dedup WHERE queue_id = ?", (queue_id,))

    async def expire_messages(self, queue_id: str, *, sent_after: float, now: float) -> int:
        with self.db.write() as conn:
            deleted = conn.execute(
                "DELETE FROM messages WHERE queue_id = ? AND sent_at <= ?", (queue_id, sent_after)
            ).rowcount
            conn.execute(
                "DELETE FROM message_dedup WHERE queue_id = ? AND expires_at <= ?", (queue_id, now)
            )
        return int(deleted)

    async def count_messages(
        self, queue_id: str, *, now: float, sent_after: float
    ) -> MessageCounts:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT"
                " COALESCE(SUM(visible_at <= :now), 0),"
                " COALESCE(SUM(visible_at > :now AND receipt IS NOT NULL), 0),"
                " COALESCE(SUM(visible_at > :now AND receipt IS NULL), 0)"
                " FROM messages WHERE queue_id = :q AND sent_at > :cut",
                {"q": queue_id, "now": now, "cut": sent_after},
            ).fetchone()
        return MessageCounts(visible=row[0], in_flight=row[1], delayed=row[2])

    async def next_visible_at(self, queue_id: str, *, now: float) -> float | None:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT MIN(visible_at) FROM messages WHERE queue_id = ? AND visible_at > ?",
                (queue_id, now),
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])
