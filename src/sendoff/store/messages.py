"""The message-queue part of the store contract (used by the SQS service).

A queue is named by an opaque ``queue_id`` (the service gives every queue incarnation a
fresh id, so a deleted and re-created queue never sees old messages or receipts). The
store knows nothing of ARNs, attributes or the wire; it keeps messages and answers:

* ``put_messages``: append messages (each gets a store-wide, strictly increasing ``seq``).
  A message with a ``dedup_id`` seen in the same queue inside the window is not stored
  again; the result names the original instead (FIFO exactly-once sends).
* ``receive_messages``: lease up to ``limit`` visible messages for ``visibility_s``: each
  gets a fresh receipt token, its receive count goes up and it becomes invisible. With
  ``ordered=True`` (FIFO) a message is held back while an earlier message of its group is
  invisible (in flight or delayed), so each group is delivered in order; an earlier
  message whose visibility ran out comes back even while a later one is in flight (AWS
  records this for ChangeMessageVisibility).
  With a :class:`DeadLetterTarget`, every deliverable message already received
  ``max_receive_count`` times is moved to the dead-letter queue in the same transaction
  instead of being returned (it keeps its id and receive count, and becomes visible there).
* ``delete_messages`` and ``change_visibility`` settle a lease, named by ``(seq, receipt)``
  (the receipt handle the service hands out wraps both); a stale receipt changes nothing.
* ``purge_messages``, ``drop_queue_messages``, ``expire_messages``: bulk removal.
* ``count_messages`` and ``next_visible_at``: what GetQueueAttributes and long polling need.

Time is passed in (``now``, epoch seconds) so the rules are testable without sleeping.
Message retention is a cut-off on ``sent_at`` given by the caller (``sent_after``): a
message sent at or before it is expired, invisible to every operation, and later swept.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from sendoff.model.json_types import JSON


@dataclass(frozen=True, kw_only=True)
class QueuedMessage:
    """One message as the store keeps it.

    ``seq`` is assigned by the store: unique across queues, increasing in send order (a
    message moved by redrive gets a new one). ``meta`` is opaque to the store (message
    attributes, system attributes, sender...).
    ``dedup_id`` is the deduplication *key* (the service decides its scope); ``group_id``
    orders delivery when receiving with ``ordered=True``. ``receipt`` is the token of the
    latest receive (None until first received); ``dead_letter_source`` names the queue a
    message was moved from by redrive.
    """

    id: str
    body: str
    meta: JSON
    sent_at: float
    visible_at: float
    group_id: str | None = None
    dedup_id: str | None = None
    seq: int = 0
    receive_count: int = 0
    first_received_at: float | None = None
    receipt: str | None = None
    dead_letter_source: str | None = None


@dataclass(frozen=True, kw_only=True)
class PutResult:
    """Where a sent message ended up: its own id, or the original's when deduplicated."""

    id: str
    seq: int
    duplicate: bool = False


@dataclass(frozen=True, kw_only=True)
class DeadLetterTarget:
    """Redrive rule of a queue: move a message received ``max_receive_count`` times.

    ``source`` is stamped on moved messages (``dead_letter_source``); ``restamp`` resets
    ``sent_at`` to the move time (FIFO queues do; standard queues keep the original).
    """

    queue_id: str
    max_receive_count: int
    source: str
    restamp: bool = False


@dataclass(frozen=True, kw_only=True)
class Received:
    """The outcome of one receive: the leased messages and how many were dead-lettered."""

    messages: list[QueuedMessage]
    moved: int = 0


@dataclass(frozen=True, kw_only=True)
class VisibilityChange:
    seq: int
    receipt: str
    visible_at: float


class ChangeOutcome(enum.StrEnum):
    CHANGED = "changed"
    NOT_FOUND = "not-found"  # deleted, or the receipt is stale
    NOT_IN_FLIGHT = "not-in-flight"  # visible again: nobody holds it


@dataclass(frozen=True, kw_only=True)
class MessageCounts:
    visible: int = 0
    in_flight: int = 0  # received and still invisible
    delayed: int = 0  # never received and not yet visible


class MessageStore(ABC):
    """Durable message queues. Every method is atomic with respect to the others."""

    @abstractmethod
    async def put_messages(
        self,
        queue_id: str,
        messages: Sequence[QueuedMessage],
        *,
        now: float,
        dedup_window_s: float,
    ) -> list[PutResult]:
        """Append messages in order (``seq`` and receive state in the input are ignored).
        Deduplication is by ``dedup_id`` within ``dedup_window_s`` of the first send, and
        also applies between messages of the same call. Durable when this returns."""

    @abstractmethod
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
        """Lease up to ``limit`` visible, unexpired messages (in ``seq`` order when
        ``ordered``; roughly oldest-visible first otherwise)."""

    @abstractmethod
    async def peek_messages(
        self, queue_id: str, *, now: float, sent_after: float, limit: int
    ) -> list[QueuedMessage]:
        """Up to ``limit`` visible, unexpired messages, oldest-visible first, read without
        receiving them: nothing about them changes (the console's "peek")."""

    @abstractmethod
    async def delete_messages(
        self, queue_id: str, handles: Sequence[tuple[int, str]]
    ) -> list[bool]:
        """Delete each ``(seq, receipt)`` whose receipt is the current one.
        True per handle that deleted a message."""

    @abstractmethod
    async def change_visibility(
        self, queue_id: str, changes: Sequence[VisibilityChange], *, now: float
    ) -> list[ChangeOutcome]:
        """Move the visibility deadline of in-flight messages held by these receipts."""

    @abstractmethod
    async def purge_messages(self, queue_id: str) -> int:
        """Delete every message of a queue (deduplication keys are kept)."""

    @abstractmethod
    async def drop_queue_messages(self, queue_id: str) -> None:
        """Forget a deleted queue: its messages and deduplication keys."""

    @abstractmethod
    async def expire_messages(self, queue_id: str, *, sent_after: float, now: float) -> int:
        """Delete messages sent at or before ``sent_after`` and deduplication keys whose
        window ended by ``now``. Returns the number of messages deleted."""

    @abstractmethod
    async def count_messages(
        self, queue_id: str, *, now: float, sent_after: float
    ) -> MessageCounts: ...

    @abstractmethod
    async def next_visible_at(self, queue_id: str, *, now: float) -> float | None:
        """The earliest future time a message of the queue becomes visible, if any."""
