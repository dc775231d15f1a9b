"""PostgreSQL message queues (schema in ``sql/0002_messages.sql``).

Sends and deletes go through the store's group commit (:class:`WriteBatcher`). A FIFO
send (group or deduplication id) holds the queue's ``put:`` advisory lock, so the seqs of
one queue commit in seq order (a receiver never sees seq 11 while 10 is still
uncommitted) and deduplication cannot race; standard sends take no lock. A send notifies
``messages/<queue id>`` when it commits.

A receive is one transaction: candidates are picked with ``FOR UPDATE SKIP LOCKED``, so
concurrent consumers in any process take disjoint messages without waiting, and a redrive
(delete from the queue, insert into the dead-letter queue) commits with the lease. FIFO
receives of one queue also hold its ``recv:`` advisory lock: a group is blocked while one
of its messages is in flight, and that is only decidable one receive at a time. Lock
order is ``put:`` locks, then ``recv:``, then rows, everywhere, so none of this deadlocks.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Jsonb

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
from sendoff.store.postgres.db import Conn, PostgresDatabase, Q, Result, WriteBatcher, lock


def _message(row: Sequence[Any]) -> QueuedMessage:
    return QueuedMessage(
        seq=row[0],
        id=row[1],
        body=row[2],
        meta=row[3],
        group_id=row[4],
        dedup_id=row[5],
        sent_at=row[6],
        visible_at=row[7],
        receipt=row[8],
        receive_count=row[9],
        first_received_at=row[10],
        dead_letter_source=row[11],
    )


def _topic(queue_id: str) -> str:
    return f"messages/{queue_id}"


class PostgresMessages(MessageStore):
    db: PostgresDatabase
    batch: WriteBatcher  # group commit, shared with the rest of the PostgreSQL store

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
        rows: list[dict[str, Any]] = [
            {
                "q": queue_id,
                "id": m.id,
                "body": m.body,
                "meta": Jsonb(m.meta),
                "group": m.group_id,
                "dedup": m.dedup_id,
                "sent_at": m.sent_at,
                "visible_at": m.visible_at,
                "now": now,
                "expires": now + dedup_window_s,
            }
            for m in messages
        ]

        async def op(conn: Conn) -> Result[list[PutResult]]:
            out = []
            for row in rows:
                if row["dedup"] is not None:
                    cur = await conn.execute(Q["message_dedup_hit"], row)
                    hit = await cur.fetchone()
                    if hit is not None:
                        out.append(PutResult(id=hit[0], seq=hit[1], duplicate=True))
                        continue
                cur = await conn.execute(Q["message_insert"], row)
                inserted = await cur.fetchone()
                assert inserted is not None
                if row["dedup"] is not None:
                    await conn.execute(Q["message_dedup_put"], {**row, "seq": inserted[0]})
                out.append(PutResult(id=row["id"], seq=inserted[0]))
            return lambda: out

        if not rows:
            return []
        # FIFO sends (grouped or deduplicated) hold the queue's lock; standard queues
        # promise no order, so their sends commit in parallel
        fifo = any(m.group_id is not None or m.dedup_id is not None for m in messages)
        locks = [f"put:{queue_id}"] if fifo else []
        return await self.batch.submit(op, locks=locks, topics=[_topic(queue_id)])

    async def peek_messages(
        self, queue_id: str, *, now: float, sent_after: float, limit: int
    ) -> list[QueuedMessage]:
        rows = await self.db.fetchall(
            Q["message_peek"], {"q": queue_id, "now": now, "cut": sent_after, "limit": limit}
        )
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
        params: dict[str, Any] = {"q": queue_id, "now": now, "cut": sent_after}
        receipt = uuid.uuid4().hex
        if not ordered and dead_letter is None:  # the common case: one statement
            rows = await self.db.fetchall(
                Q["message_receive"],
                {**params, "limit": limit, "until": now + visibility_s, "receipt": receipt},
            )  # retried on a lost connection: a lost try's leases expire, as a crash's do
            rows.sort(key=lambda row: (row[-1], row[0]))
            return Received(messages=[_message(row) for row in rows])
        candidates = Q["message_candidates_ordered" if ordered else "message_candidates"]
        moved = 0
        async with self.db.transaction() as conn:
            if ordered:
                dlq = [f"put:{dead_letter.queue_id}"] if dead_letter is not None else []
                await lock(conn, dlq)
                await lock(conn, [f"recv:{queue_id}"])
            if dead_letter is not None:
                cur = await conn.execute(
                    candidates, {**params, "min": dead_letter.max_receive_count, "limit": None}
                )
                exhausted = [row[0] for row in await cur.fetchall()]
                if exhausted:
                    await conn.execute(
                        Q["message_move"],
                        {
                            "seqs": exhausted,
                            "target": dead_letter.queue_id,
                            "restamp": dead_letter.restamp,
                            "now": now,
                            "source": dead_letter.source,
                        },
                    )
                    await self.db.notify(conn, [_topic(dead_letter.queue_id)])
                moved = len(exhausted)
            cur = await conn.execute(candidates, {**params, "min": 0, "limit": limit})
            leased = [row[0] for row in await cur.fetchall()]
            if not leased:
                return Received(messages=[], moved=moved)
            cur = await conn.execute(
                Q["message_lease"],
                {
                    "seqs": leased,
                    "until": now + visibility_s,
                    "receipt": receipt,
                    "now": now,
                },
            )
            found = await cur.fetchall()
        by_seq = {row[0]: _message(row) for row in found}
        return Received(messages=[by_seq[s] for s in leased], moved=moved)

    async def delete_messages(
        self, queue_id: str, handles: Sequence[tuple[int, str]]
    ) -> list[bool]:
        async def op(conn: Conn) -> Result[list[bool]]:
            cursors = [
                await conn.execute(
                    Q["message_delete"], {"seq": seq, "q": queue_id, "receipt": receipt}
                )
                for seq, receipt in handles
            ]
            return lambda: [cur.rowcount > 0 for cur in cursors]

        return await self.batch.submit(op) if handles else []

    async def change_visibility(
        self, queue_id: str, changes: Sequence[VisibilityChange], *, now: float
    ) -> list[ChangeOutcome]:
        out = []
        async with self.db.transaction() as conn:
            for change in changes:
                cur = await conn.execute(
                    Q["message_visibility"],
                    {
                        "seq": change.seq,
                        "q": queue_id,
                        "receipt": change.receipt,
                        "visible_at": change.visible_at,
                        "now": now,
                    },
                )
                row = await cur.fetchone()
                if row is None:
                    out.append(ChangeOutcome.NOT_FOUND)
                elif row[0] <= now:
                    out.append(ChangeOutcome.NOT_IN_FLIGHT)
                else:
                    out.append(ChangeOutcome.CHANGED)
            visible_now = any(
                outcome is ChangeOutcome.CHANGED and change.visible_at <= now
                for outcome, change in zip(out, changes, strict=True)
            )
            if visible_now:
                await self.db.notify(conn, [_topic(queue_id)])
        return out

    async def purge_messages(self, queue_id: str) -> int:
        return await self.db.execute(Q["message_purge"], {"q": queue_id})

    async def drop_queue_messages(self, queue_id: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(Q["message_purge"], {"q": queue_id})
            await conn.execute(Q["message_dedup_drop"], {"q": queue_id})

    async def expire_messages(self, queue_id: str, *, sent_after: float, now: float) -> int:
        params = {"q": queue_id, "cut": sent_after, "now": now}
        async with self.db.transaction() as conn:
            cur = await conn.execute(Q["message_expire"], params)
            await conn.execute(Q["message_dedup_expire"], params)
            return cur.rowcount

    async def count_messages(
        self, queue_id: str, *, now: float, sent_after: float
    ) -> MessageCounts:
        row = await self.db.fetchone(
            Q["message_counts"], {"q": queue_id, "now": now, "cut": sent_after}
        )
        if row is None:
            return MessageCounts()
        return MessageCounts(visible=row[0], in_flight=row[1], delayed=row[2])

    async def next_visible_at(self, queue_id: str, *, now: float) -> float | None:
        row = await self.db.fetchone(Q["message_next_visible"], {"q": queue_id, "now": now})
        return None if row is None or row[0] is None else float(row[0])
