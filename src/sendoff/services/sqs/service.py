"""The queue service: SQS semantics over the store, used by the wire edge and by other
services (SNS fan-out, Lambda destinations and dead-letter queues).

Queue configurations live in :class:`QueueRegistry` (store documents); messages go
through the store's message operations under the queue's incarnation id. Every rule that
is not storage (validation, FIFO, sizes, digests) is a pure function in
:mod:`~sendoff.services.sqs.envelope`, :mod:`~sendoff.services.sqs.message` and
:mod:`~sendoff.services.sqs.attributes`.

Long polling: a receive that finds nothing waits on the queue's :class:`Arrivals` event,
which in-process sends set; the wait is bounded by the next time a delayed or in-flight
message becomes visible (``next_visible_at``) and by ``poll_s`` (to see sends from other
processes sharing the store). Retention is enforced by passing the cut-off
``now - MessageRetentionPeriod`` to every read, and a supervised sweeper task deletes
expired messages every ``sweep_interval_s``.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping, Sequence

from sendoff.model.clock import Clock, system_clock
from sendoff.model.scope import Scope
from sendoff.services.sqs import attributes as attrs
from sendoff.services.sqs.arrivals import Arrivals
from sendoff.services.sqs.envelope import (
    DEDUP_WINDOW_S,
    NO_DEDUP,
    OutgoingMessage,
    ReceivedMessage,
    SentMessage,
    delivery,
    prepare,
    sequence_number,
)
from sendoff.services.sqs.errors import (
    BatchRequestTooLong,
    InvalidParameterValue,
    MessageNotInflight,
    PurgeQueueInProgress,
    QueueError,
    QueueNotFound,
    ReceiptHandleIsInvalid,
)
from sendoff.services.sqs.message import message_size
from sendoff.services.sqs.model import Queue, QueueRef, parse_queue_arn
from sendoff.services.sqs.receipts import decode_receipt
from sendoff.services.sqs.registry import QueueRegistry
from sendoff.store import Store
from sendoff.store.messages import ChangeOutcome, DeadLetterTarget, QueuedMessage, VisibilityChange

log = logging.getLogger("sendoff.sqs")

MAX_BATCH_BYTES = 1_048_576
MAX_VISIBILITY_S = 43_200
MAX_WAIT_S = 20
PURGE_INTERVAL_S = 60.0  # one PurgeQueue per queue per minute, as AWS


def _check_range(value: int, name: str, low: int, high: int, reason: str) -> None:
    if not low <= value <= high:
        raise InvalidParameterValue(
            f"Value {value} for parameter {name} is invalid. Reason: {reason}"
        )


class QueueService:
    def __init__(
        self,
        store: Store,
        *,
        account_id: str,
        region: str,
        clock: Clock = system_clock,
        poll_s: float = 0.5,
        sweep_interval_s: float = 60.0,
        purge_interval_s: float = PURGE_INTERVAL_S,
    ) -> None:
        self.store = store
        self.account_id = account_id
        self.region = region
        self.clock = clock
        self.poll_s = poll_s
        self.sweep_interval_s = sweep_interval_s
        self.purge_interval_s = purge_interval_s
        self._purged_at: dict[str, float] = {}  # queue id -> clock() of its last purge
        self.registry = QueueRegistry(store, clock=clock)
        self.arrivals = Arrivals()
        store.add_wakeup_listener(self._on_wakeup)
        self._sweeper: asyncio.Task[None] | None = None
        self._closing = False

    # ---- domain API for other services ----

    def _on_wakeup(self, topic: str) -> None:
        """Another process sent messages (backends with cross-process notifications)."""
        kind, _, queue_id = topic.partition("/")
        if kind == "messages" and queue_id == "*":  # some queue, unknown which
            self.arrivals.notify_all()
        elif kind == "messages" and queue_id:
            self.arrivals.notify(queue_id)

    async def send_message(
        self,
        queue_arn: str,
        body: str,
        *,
        attributes: dict[str, dict[str, str]] | None = None,
        system_attributes: dict[str, dict[str, str]] | None = None,
        group_id: str | None = None,
        dedup_id: str | None = None,
    ) -> str:
        """Send one message to the queue with this ARN; returns its MessageId.
        Raises QueueNotFound, or another QueueError when SQS would refuse the message."""
        ref = parse_queue_arn(queue_arn)
        if ref is None:
            raise QueueNotFound(f"The specified queue does not exist: {queue_arn}")
        outgoing = OutgoingMessage(
            body=body,
            attributes=attributes or {},
            system_attributes=system_attributes or {},
            group_id=group_id,
            dedup_id=dedup_id,
        )
        (result,) = await self.send_batch(ref, [outgoing], sender_id=ref.account_id)
        if isinstance(result, QueueError):
            raise result
        return result.message_id

    async def get_queue(self, queue_arn: str) -> Queue | None:
        return await self.registry.by_arn(queue_arn)

    # ---- queues ----
    async def create_queue(
        self,
        scope: Scope,
        name: str,
        attributes: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Queue:
        return await self.registry.create(scope, name, attributes or {}, tags or {})

    async def require(self, ref: QueueRef) -> Queue:
        return await self.registry.require(ref)

    async def list_queues(
        self, scope: Scope, *, prefix: str = "", after: str | None = None, limit: int = 1000
    ) -> list[Queue]:
        return await self.registry.in_scope(scope, prefix=prefix, after=after, limit=limit)

    async def delete_queue(self, ref: QueueRef) -> None:
        queue = await self.registry.delete(ref)
        await self.store.drop_queue_messages(queue.id)
        self._purged_at.pop(queue.id, None)
        self.arrivals.notify(queue.id)

    async def set_queue_attributes(self, ref: QueueRef, attributes: Mapping[str, str]) -> None:
        queue = await self.registry.set_attributes(ref, attributes)
        self.arrivals.notify(queue.id)  # a long poll re-reads delays and limits

    async def queue_attributes(self, ref: QueueRef, names: list[str]) -> dict[str, str]:
        wanted = attrs.requested(names)
        queue = await self.registry.require(ref)
        if not wanted:
            return {}
        effective = queue.effective
        out: dict[str, str] = {}
        counts = None
        if any(n in attrs.COUNTS for n in wanted):
            now = self.clock()
            counts = await self.store.count_messages(
                queue.id, now=now, sent_after=now - queue.retention_s
            )
        for name in wanted:
            if name == "QueueArn":
                out[name] = queue.arn
            elif name == "CreatedTimestamp":
                out[name] = str(int(queue.created_at))
            elif name == "LastModifiedTimestamp":
                out[name] = str(int(queue.last_modified_at))
            elif counts is not None and name in attrs.COUNTS:
                out[name] = str(
                    {
                        "ApproximateNumberOfMessages": counts.visible,
                        "ApproximateNumberOfMessagesNotVisible": counts.in_flight,
                        "ApproximateNumberOfMessagesDelayed": counts.delayed,
                    }[name]
                )
            elif name in effective:
                out[name] = effective[name]
        return out

    async def tag_queue(self, ref: QueueRef, tags: Mapping[str, str]) -> None:
        await self.registry.tag(ref, tags)

    async def untag_queue(self, ref: QueueRef, keys: list[str]) -> None:
        await self.registry.untag(ref, keys)

    async def dead_letter_sources(self, ref: QueueRef) -> list[Queue]:
        return await self.registry.dead_letter_sources(await self.registry.require(ref))

    async def purge(self, ref: QueueRef, *, rate_limited: bool = False) -> int:
        """Delete every message. AWS allows one purge per queue every 60 s (scaled by the
        server's time scale), refusing the next with 403 PurgeQueueInProgress; the API
        edge asks for that check (``rate_limited``), the console's purge button does not
        (it still starts the window). The window is kept in this process's memory: a
        restart forgets it."""
        queue = await self.registry.require(ref)
        now = self.clock()
        last = self._purged_at.get(queue.id)
        if rate_limited and last is not None and now - last < self.purge_interval_s:
            raise PurgeQueueInProgress(queue.name)
        self._purged_at[queue.id] = now
        return await self.store.purge_messages(queue.id)

    # ---- messages ----
    async def send_batch(
        self,
        ref: QueueRef,
        messages: Sequence[OutgoingMessage],
        *,
        sender_id: str,
        batch: bool = False,
    ) -> list[SentMessage | QueueError]:
        """Send messages in order; a message SQS would refuse fails alone (its error is in
        its place in the result). Stored messages are durable when this returns.

        ``batch``: a SendMessageBatch, which AWS refuses as a whole (400, not an entry
        failure) when it sends to a FIFO queue an entry without MessageGroupId, or without
        a deduplication id the queue cannot compute (both recorded from AWS)."""
        queue = await self.registry.require(ref)
        if batch and queue.is_fifo:
            if any(not m.group_id for m in messages):
                raise InvalidParameterValue(
                    "The request must contain the parameter MessageGroupId."
                )
            if not queue.content_based_dedup and any(m.dedup_id is None for m in messages):
                raise InvalidParameterValue(NO_DEDUP)
        if len(messages) > 1:
            total = sum(message_size(m.body, {}) for m in messages)
            if total > MAX_BATCH_BYTES:
                raise BatchRequestTooLong(
                    f"Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes."
                    f" You have sent {total} bytes."
                )
        now = self.clock()
        prepared: list[tuple[QueuedMessage, SentMessage] | QueueError] = []
        for message in messages:
            try:
                prepared.append(prepare(queue, message, now=now, sender_id=sender_id))
            except QueueError as exc:
                prepared.append(exc)
        valid = [p[0] for p in prepared if not isinstance(p, QueueError)]
        stored = iter(
            await self.store.put_messages(queue.id, valid, now=now, dedup_window_s=DEDUP_WINDOW_S)
        )
        out: list[SentMessage | QueueError] = []
        for item in prepared:
            if isinstance(item, QueueError):
                out.append(item)
                continue
            result = next(stored)
            reply = item[1]
            out.append(
                SentMessage(
                    message_id=result.id,
                    md5_of_body=reply.md5_of_body,
                    md5_of_attributes=reply.md5_of_attributes,
                    md5_of_system_attributes=reply.md5_of_system_attributes,
                    sequence_number=sequence_number(result.seq) if queue.is_fifo else None,
                )
            )
        if valid:
            self.arrivals.notify(queue.id)
        return out

    async def receive(
        self,
        ref: QueueRef,
        *,
        max_messages: int = 1,
        visibility_s: int | None = None,
        wait_s: int | None = None,
    ) -> list[ReceivedMessage]:
        """Lease up to ``max_messages``; wait up to ``wait_s`` (default: the queue's
        ReceiveMessageWaitTimeSeconds) for the first to arrive."""
        _check_range(
            max_messages, "MaxNumberOfMessages", 1, 10, "Must be between 1 and 10, if provided."
        )
        if visibility_s is not None:
            _check_range(
                visibility_s,
                "VisibilityTimeout",
                0,
                MAX_VISIBILITY_S,
                f"Must be between 0 and {MAX_VISIBILITY_S}, if provided.",
            )
        if wait_s is not None:
            _check_range(
                wait_s,
                "WaitTimeSeconds",
                0,
                MAX_WAIT_S,
                f"Must be >= 0 and <= {MAX_WAIT_S}, if provided.",
            )
        loop = asyncio.get_running_loop()
        queue = await self.registry.require(ref)
        deadline = loop.time() + (queue.wait_time_s if wait_s is None else wait_s)
        while True:
            wake = self.arrivals.listen(queue.id)
            got = await self._receive_once(queue, max_messages, visibility_s)
            remaining = deadline - loop.time()
            if got or remaining <= 0 or self._closing:
                return got
            now = self.clock()
            upcoming = await self.store.next_visible_at(queue.id, now=now)
            until_visible = math.inf if upcoming is None else max(upcoming - now, 0.001)
            try:
                async with asyncio.timeout(min(remaining, self.poll_s, until_visible)):
                    await wake.wait()
            except TimeoutError:
                pass
            queue = await self.registry.require(ref)

    async def _receive_once(
        self, queue: Queue, limit: int, visibility_s: int | None
    ) -> list[ReceivedMessage]:
        dead_letter = None
        policy = queue.redrive
        if policy is not None:
            target = await self.registry.by_arn(policy.dead_letter_arn)
            if target is not None:
                dead_letter = DeadLetterTarget(
                    queue_id=target.id,
                    max_receive_count=policy.max_receive_count,
                    source=queue.arn,
                    restamp=queue.is_fifo,
                )
        now = self.clock()
        got = await self.store.receive_messages(
            queue.id,
            now=now,
            limit=limit,
            visibility_s=queue.visibility_timeout_s if visibility_s is None else visibility_s,
            sent_after=now - queue.retention_s,
            ordered=queue.is_fifo,
            dead_letter=dead_letter,
        )
        if got.moved and dead_letter is not None:
            log.info("moved %d message(s) from %s to its dead-letter queue", got.moved, queue.arn)
            self.arrivals.notify(dead_letter.queue_id)
        return [delivery(queue, m) for m in got.messages]

    async def delete_messages(
        self, ref: QueueRef, receipt_handles: Sequence[str]
    ) -> list[QueueError | None]:
        """Delete by receipt handle. A handle this queue never issued is an error; a stale
        one (the message was received again, or is gone) succeeds and changes nothing."""
        queue = await self.registry.require(ref)
        out: list[QueueError | None] = []
        leases: list[tuple[int, str]] = []
        for handle in receipt_handles:
            receipt = decode_receipt(handle)
            if receipt is None or receipt.queue_id != queue.id:
                out.append(ReceiptHandleIsInvalid(handle))
            else:
                out.append(None)
                leases.append((receipt.seq, receipt.token))
        if leases:
            await self.store.delete_messages(queue.id, leases)
            if queue.is_fifo:
                self.arrivals.notify(queue.id)  # the next message of the group may go now
        return out

    async def change_visibility(
        self, ref: QueueRef, entries: Sequence[tuple[str, int]]
    ) -> list[QueueError | None]:
        """Set the visibility timeout (from now) of in-flight messages by receipt handle."""
        queue = await self.registry.require(ref)
        now = self.clock()
        out: list[QueueError | None] = []
        changes: list[tuple[int, VisibilityChange]] = []
        for index, (handle, timeout_s) in enumerate(entries):
            receipt = decode_receipt(handle)
            if receipt is None or receipt.queue_id != queue.id:
                out.append(ReceiptHandleIsInvalid(handle))
                continue
            try:
                _check_range(
                    timeout_s,
                    "VisibilityTimeout",
                    0,
                    MAX_VISIBILITY_S,
                    f"Must be between 0 and {MAX_VISIBILITY_S}.",
                )
            except QueueError as exc:
                out.append(exc)
                continue
            out.append(None)
            change = VisibilityChange(
                seq=receipt.seq, receipt=receipt.token, visible_at=now + timeout_s
            )
            changes.append((index, change))
        if not changes:
            return out
        outcomes = await self.store.change_visibility(queue.id, [c for _, c in changes], now=now)
        for (index, _), outcome in zip(changes, outcomes, strict=True):
            if outcome is ChangeOutcome.NOT_FOUND:
                out[index] = InvalidParameterValue(
                    f"Value {entries[index][0]} for parameter ReceiptHandle is invalid. Reason:"
                    " Message does not exist or is not available for visibility timeout change."
                )
            elif outcome is ChangeOutcome.NOT_IN_FLIGHT:
                out[index] = MessageNotInflight()
        self.arrivals.notify(queue.id)
        return out

    # ---- lifecycle ----
    def start(self) -> None:
        self._closing = False
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="sendoff-sqs-sweeper")

    async def stop(self) -> None:
        self._closing = True
        self.arrivals.notify_all()
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None

    async def sweep(self) -> int:
        """Delete the expired messages (and deduplication keys) of every queue."""
        deleted = 0
        for queue in await self.registry.all():
            now = self.clock()
            deleted += await self.store.expire_messages(
                queue.id, sent_after=now - queue.retention_s, now=now
            )
        return deleted

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_interval_s)  # a periodic timer, not a poll
            try:
                expired = await self.sweep()
            except Exception:
                log.exception("sweeping expired messages failed")
                continue
            if expired:
                log.info("deleted %d expired message(s)", expired)
