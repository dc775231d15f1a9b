"""SQLite message queues (schema in ``sql/0002_messages.sql``).

Sends and deletes go through the store's group commit (:class:`WriteBatcher`: writes of
one event-loop tick share a transaction, each in its own savepoint, and return once
committed). Every other operation is a transaction of its own on the shared connection. A
receive runs synchronously, so a cancelled long poll can never lease messages it does not
return, and it selects and leases in one ``BEGIN IMMEDIATE`` transaction, so two
consumers (tasks or processes) never lease the same message, and a redrive to the
dead-letter queue is an insert and a delete that commit together. Each receive call hands
out one fresh receipt token; a lease is ``(seq, token)``.

FIFO receives ask SQL for visible messages with no earlier invisible row (in flight or
delayed) in their group; ``messages_group`` holds only a few such rows per group, so
the check stays cheap however long the backlog is.
"""

from __future__ import annotations

import json
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
from sendoff.store.sqlite.db import Q, SqliteDatabase, WriteBatcher


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
            (m.id, m.dedup_id,
             {"q": queue_id, "id": m.id, "body": m.body, "meta": jsontext.dumps(m.meta),
              "group_id": m.group_id, "dedup_id": m.dedup_id, "sent_at": m.sent_at,
              "visible_at": m.visible_at, "now": now, "expires": now + dedup_window_s})
            for m in messages
        ]  # fmt: skip

        def op(conn: sqlite3.Connection) -> list[PutResult]:
            out = []
            for mid, dedup_id, params in rows:
                if dedup_id is not None:
                    hit = conn.execute(Q["message_dedup_hit"], params).fetchone()
                    if hit is not None:
                        out.append(PutResult(id=hit[0], seq=hit[1], duplicate=True))
                        continue
                seq = conn.execute(Q["message_insert"], params).fetchone()[0]
                if dedup_id is not None:
                    conn.execute(Q["message_dedup_put"], {**params, "seq": seq})
                out.append(PutResult(id=mid, seq=seq))
            return out

        return await self.batch.submit(op)

    async def peek_messages(
        self, queue_id: str, *, now: float, sent_after: float, limit: int
    ) -> list[QueuedMessage]:
        with self.db.read() as conn:
            params = {"q": queue_id, "now": now, "cut": sent_after, "limit": limit}
            rows = conn.execute(Q["message_peek"], params).fetchall()
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
            params = {"visible_at": now + visibility_s, "receipt": receipt, "now": now,
                      "seqs": json.dumps(leased)}  # fmt: skip
            found = conn.execute(Q["message_lease"], params).fetchall()
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
        query = Q["message_candidates_ordered" if ordered else "message_candidates"]
        return [row[0] for row in conn.execute(query, params)]

    def _move(
        self, conn: sqlite3.Connection, seq: int, target: DeadLetterTarget, now: float
    ) -> None:
        params = {"target": target.queue_id, "restamp": target.restamp, "now": now,
                  "source": target.source, "seq": seq}  # fmt: skip
        conn.execute(Q["message_move"], params)
        conn.execute(Q["message_remove"], params)

    async def delete_messages(
        self, queue_id: str, handles: Sequence[tuple[int, str]]
    ) -> list[bool]:
        def op(conn: sqlite3.Connection) -> list[bool]:
            query = Q["message_delete"]
            return [
                conn.execute(query, {"seq": seq, "q": queue_id, "receipt": receipt}).rowcount > 0
                for seq, receipt in handles
            ]

        return await self.batch.submit(op)

    async def change_visibility(
        self, queue_id: str, changes: Sequence[VisibilityChange], *, now: float
    ) -> list[ChangeOutcome]:
        out = []
        with self.db.write() as conn:
            for change in changes:
                params = {"seq": change.seq, "q": queue_id, "receipt": change.receipt,
                          "visible_at": change.visible_at}  # fmt: skip
                row = conn.execute(Q["message_leased_until"], params).fetchone()
                if row is None:
                    out.append(ChangeOutcome.NOT_FOUND)
                elif row[0] <= now:
                    out.append(ChangeOutcome.NOT_IN_FLIGHT)
                else:
                    conn.execute(Q["message_visibility"], params)
                    out.append(ChangeOutcome.CHANGED)
        return out

    async def purge_messages(self, queue_id: str) -> int:
        with self.db.write() as conn:
            return conn.execute(Q["message_purge"], {"q": queue_id}).rowcount

    async def drop_queue_messages(self, queue_id: str) -> None:
        with self.db.write() as conn:
            conn.execute(Q["message_purge"], {"q": queue_id})
            conn.execute(Q["message_dedup_drop"], {"q": queue_id})

    async def expire_messages(self, queue_id: str, *, sent_after: float, now: float) -> int:
        params = {"q": queue_id, "cut": sent_after, "now": now}
        with self.db.write() as conn:
            deleted = conn.execute(Q["message_expire"], params).rowcount
            conn.execute(Q["message_dedup_expire"], params)
        return int(deleted)

    async def count_messages(
        self, queue_id: str, *, now: float, sent_after: float
    ) -> MessageCounts:
        with self.db.read() as conn:
            params = {"q": queue_id, "now": now, "cut": sent_after}
            row = conn.execute(Q["message_counts"], params).fetchone()
        return MessageCounts(visible=row[0], in_flight=row[1], delayed=row[2])

    async def next_visible_at(self, queue_id: str, *, now: float) -> float | None:
        with self.db.read() as conn:
            row = conn.execute(Q["message_next_visible"], {"q": queue_id, "now": now}).fetchone()
        return None if row is None or row[0] is None else float(row[0])
