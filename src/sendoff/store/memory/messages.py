"""In-memory message queues: the reference implementation of :class:`MessageStore`.

Each queue is a dict from ``seq`` to message; dicts keep insertion order and ``seq`` only
grows, so iterating a queue walks it in send order. No method awaits, so each call is
atomic on the event loop. Values handed in or out are copies.
"""

from __future__ import annotations

import copy
import itertools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace

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


def _copy(message: QueuedMessage) -> QueuedMessage:
    return replace(message, meta=copy.deepcopy(message.meta))


class MemoryMessages(MessageStore):
    def __init__(self) -> None:
        super().__init__()
        self._queues: dict[str, dict[int, QueuedMessage]] = {}
        # queue_id -> dedup key -> (message id, seq, window end)
        self._dedup: dict[str, dict[str, tuple[str, int, float]]] = {}
        self._seq = itertools.count(1)

    async def put_messages(
        self,
        queue_id: str,
        messages: Sequence[QueuedMessage],
        *,
        now: float,
        dedup_window_s: float,
    ) -> list[PutResult]:
        rows = self._queues.setdefault(queue_id, {})
        seen = self._dedup.setdefault(queue_id, {})
        out = []
        for message in messages:
            if message.dedup_id is not None:
                hit = seen.get(message.dedup_id)
                if hit is not None and hit[2] > now:
                    out.append(PutResult(id=hit[0], seq=hit[1], duplicate=True))
                    continue
            seq = next(self._seq)
            rows[seq] = replace(
                _copy(message),
                seq=seq,
                receive_count=0,
                first_received_at=None,
                receipt=None,
                dead_letter_source=None,
            )
            if message.dedup_id is not None:
                seen[message.dedup_id] = (message.id, seq, now + dedup_window_s)
            out.append(PutResult(id=message.id, seq=seq))
        return out

    async def peek_messages(
        self, queue_id: str, *, now: float, sent_after: float, limit: int
    ) -> list[QueuedMessage]:
        live = [m for m in self._queues.get(queue_id, {}).values() if m.sent_at > sent_after]
        return [_copy(m) for m in _visible(live, now)[:limit]]

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
        rows = self._queues.get(queue_id, {})
        live = [m for m in rows.values() if m.sent_at > sent_after]
        candidates = _ordered_candidates(live, now) if ordered else _visible(live, now)
        receipt = uuid.uuid4().hex
        out: list[QueuedMessage] = []
        moved = 0
        for message in candidates:
            if dead_letter is not None and message.receive_count >= dead_letter.max_receive_count:
                self._move(rows, message, dead_letter, now)
                moved += 1
                continue
            if len(out) >= limit:
                continue
            leased = replace(
                message,
                visible_at=now + visibility_s,
                receipt=receipt,
                receive_count=message.receive_count + 1,
                first_received_at=message.first_received_at or now,
            )
            rows[message.seq] = leased
            out.append(_copy(leased))
        return Received(messages=out, moved=moved)

    def _move(
        self,
        rows: dict[int, QueuedMessage],
        message: QueuedMessage,
        target: DeadLetterTarget,
        now: float,
    ) -> None:
        del rows[message.seq]
        seq = next(self._seq)
        self._queues.setdefault(target.queue_id, {})[seq] = replace(
            message,
            seq=seq,
            visible_at=now,
            receipt=None,
            sent_at=now if target.restamp else message.sent_at,
            dead_letter_source=target.source,
        )

    async def delete_messages(
        self, queue_id: str, handles: Sequence[tuple[int, str]]
    ) -> list[bool]:
        rows = self._queues.get(queue_id, {})
        out = []
        for seq, receipt in handles:
            message = rows.get(seq)
            hit = message is not None and message.receipt == receipt
            if hit:
                del rows[seq]
            out.append(hit)
        return out

    async def change_visibility(
        self, queue_id: str, changes: Sequence[VisibilityChange], *, now: float
    ) -> list[ChangeOutcome]:
        rows = self._queues.get(queue_id, {})
        out = []
        for change in changes:
            message = rows.get(change.seq)
            if message is None or message.receipt != change.receipt:
                out.append(ChangeOutcome.NOT_FOUND)
            elif message.visible_at <= now:
                out.append(ChangeOutcome.NOT_IN_FLIGHT)
            else:
                rows[change.seq] = replace(message, visible_at=change.visible_at)
                out.append(ChangeOutcome.CHANGED)
        return out

    async def purge_messages(self, queue_id: str) -> int:
        rows = self._queues.get(queue_id, {})
        count = len(rows)
        rows.clear()
        return count

    async def drop_queue_messages(self, queue_id: str) -> None:
        self._queues.pop(queue_id, None)
        self._dedup.pop(queue_id, None)

    async def expire_messages(self, queue_id: str, *, sent_after: float, now: float) -> int:
        rows = self._queues.get(queue_id, {})
        expired = [seq for seq, m in rows.items() if m.sent_at <= sent_after]
        for seq in expired:
            del rows[seq]
        seen = self._dedup.get(queue_id, {})
        for key in [k for k, hit in seen.items() if hit[2] <= now]:
            del seen[key]
        return len(expired)

    async def count_messages(
        self, queue_id: str, *, now: float, sent_after: float
    ) -> MessageCounts:
        visible = in_flight = delayed = 0
        for m in self._queues.get(queue_id, {}).values():
            if m.sent_at <= sent_after:
                continue
            if m.visible_at <= now:
                visible += 1
            elif m.receipt is not None:
                in_flight += 1
            else:
                delayed += 1
        return MessageCounts(visible=visible, in_flight=in_flight, delayed=delayed)

    async def next_visible_at(self, queue_id: str, *, now: float) -> float | None:
        times = [
            m.visible_at for m in self._queues.get(queue_id, {}).values() if m.visible_at > now
        ]
        return min(times) if times else None


def _visible(live: Iterable[QueuedMessage], now: float) -> list[QueuedMessage]:
    return sorted((m for m in live if m.visible_at <= now), key=lambda m: (m.visible_at, m.seq))


def _ordered_candidates(live: list[QueuedMessage], now: float) -> list[QueuedMessage]:
    """Visible messages in seq order, each unless an earlier message of its group is not
    visible (in flight or delayed): an earlier message back from flight is delivered while
    a later one is still in flight, as on AWS. Messages without a group are never blocked."""
    blocked: set[str] = set()
    out = []
    for message in live:  # seq order
        group = message.group_id
        if group is not None and group in blocked:
            continue
        if message.visible_at > now:
            if group is not None:
                blocked.add(group)
            continue
        out.append(message)
    return out
