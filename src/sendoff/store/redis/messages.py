"""Redis message queues (key schema in ``lua/lib_messages.lua``).

Every operation is one Lua script, so it is atomic with respect to every other client:
two consumers (tasks, processes or hosts) never lease the same message, and a redrive to
the dead-letter queue moves a message in the same step as the receive that found it
exhausted. Each receive hands out one fresh receipt token; a lease is ``(seq, token)``.
A receive whose caller is cancelled before the reply arrives hands its messages back, so a
cancelled long poll never hides messages it did not return.

FIFO receives first collect the blocked groups (a message in flight, or an earlier one
still delayed) from the queue's invisible messages, then walk the queue in send order.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

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
from sendoff.store.redis.connection import RedisConnection, despite_cancel

_OUTCOMES = {0: ChangeOutcome.NOT_FOUND, 1: ChangeOutcome.NOT_IN_FLIGHT, 2: ChangeOutcome.CHANGED}


def _seq(seq: int) -> str:
    """Message seqs are zero-padded in keys so that equal scores sort in send order."""
    return f"{seq:016d}"


def _float(text: str | None) -> float | None:
    return None if text is None else float(text)


def _message(row: Sequence[Any]) -> QueuedMessage:
    """seq, id, body, meta, gid, dd, sent, vis, rcpt, rc, frst, dls (message_receive.lua)."""
    return QueuedMessage(
        seq=int(row[0]),
        id=row[1],
        body=row[2],
        meta=json.loads(row[3]),
        group_id=row[4],
        dedup_id=row[5],
        sent_at=float(row[6]),
        visible_at=float(row[7]),
        receipt=row[8],
        receive_count=int(row[9]),
        first_received_at=_float(row[10]),
        dead_letter_source=row[11],
    )


class RedisMessages(MessageStore):
    conn: RedisConnection  # shared with the rest of the Redis store

    def __init__(self) -> None:
        super().__init__()

    async def _run(self, script: str, queue_id: str, *args: Any) -> Any:
        return await self.conn.run(script, [], [self.conn.prefix, queue_id, *args])

    async def put_messages(
        self,
        queue_id: str,
        messages: Sequence[QueuedMessage],
        *,
        now: float,
        dedup_window_s: float,
    ) -> list[PutResult]:
        if not messages:
            return []
        args: list[Any] = [now, now + dedup_window_s]
        for m in messages:
            meta = json.dumps(m.meta, separators=(",", ":"))
            args += [m.id, m.body, meta, m.group_id or "", m.dedup_id or "", m.sent_at,
                     m.visible_at]  # fmt: skip
        rows = await self._run("message_put", queue_id, *args)
        return [PutResult(id=mid, seq=int(seq), duplicate=bool(dup)) for mid, seq, dup in rows]

    async def peek_messages(
        self, queue_id: str, *, now: float, sent_after: float, limit: int
    ) -> list[QueuedMessage]:
        """Reads only (no script): the visible index, then each message's fields."""
        vis = self.conn.key("queue", queue_id, "vis")
        seqs = await self.conn.text.zrangebyscore(vis, "-inf", repr(now), 0, limit * 4)
        fields = ("id", "body", "meta", "gid", "dd", "sent", "vis", "rcpt", "rc", "frst", "dls")
        out: list[QueuedMessage] = []
        for member in seqs:
            seq = str(member)
            row: list[Any] = await self.conn.text.hmget(self.conn.key("msg", seq), list(fields))
            if row[0] is None or float(str(row[5])) <= sent_after:
                continue
            out.append(_message([seq, *row]))
            if len(out) >= limit:
                break
        return out

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
        receipt = uuid.uuid4().hex
        redrive: list[Any] = ["", 0, "", "0"]
        if dead_letter is not None:
            redrive = [dead_letter.queue_id, dead_letter.max_receive_count, dead_letter.source,
                       "1" if dead_letter.restamp else "0"]  # fmt: skip
        work = self._run(
            "message_receive",
            queue_id,
            now,
            max(limit, 0),
            now + visibility_s,
            sent_after,
            "1" if ordered else "0",
            receipt,
            *redrive,
        )

        async def hand_back(result: list[Any]) -> None:
            previous: list[str] = []
            for row in result[1]:
                previous += [row[0], row[12], row[13] or "", row[14] or ""]
            if previous:
                await self._run("message_unreceive", queue_id, receipt, *previous)

        moved, rows = await despite_cancel(work, hand_back)
        return Received(messages=[_message(r) for r in rows], moved=int(moved))

    async def delete_messages(
        self, queue_id: str, handles: Sequence[tuple[int, str]]
    ) -> list[bool]:
        if not handles:
            return []
        args = [part for seq, receipt in handles for part in (_seq(seq), receipt)]
        return [bool(hit) for hit in await self._run("message_delete", queue_id, *args)]

    async def change_visibility(
        self, queue_id: str, changes: Sequence[VisibilityChange], *, now: float
    ) -> list[ChangeOutcome]:
        if not changes:
            return []
        args: list[Any] = [now]
        for change in changes:
            args += [_seq(change.seq), change.receipt, change.visible_at]
        return [_OUTCOMES[int(c)] for c in await self._run("message_visibility", queue_id, *args)]

    async def purge_messages(self, queue_id: str) -> int:
        return int(await self._run("message_purge", queue_id, "0"))

    async def drop_queue_messages(self, queue_id: str) -> None:
        await self._run("message_purge", queue_id, "1")

    async def expire_messages(self, queue_id: str, *, sent_after: float, now: float) -> int:
        return int(await self._run("message_expire", queue_id, sent_after, now))

    async def count_messages(
        self, queue_id: str, *, now: float, sent_after: float
    ) -> MessageCounts:
        visible, in_flight, delayed = await self._run("message_count", queue_id, now, sent_after)
        return MessageCounts(visible=int(visible), in_flight=int(in_flight), delayed=int(delayed))

    async def next_visible_at(self, queue_id: str, *, now: float) -> float | None:
        key = self.conn.key("queue", queue_id, "vis")
        first = await self.conn.text.zrangebyscore(key, f"({now!r}", "+inf", 0, 1, withscores=True)
        return float(first[0][1]) if first else None
