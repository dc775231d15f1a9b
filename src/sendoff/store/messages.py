"""The message-queue part of the store contract (used by the SQS service).

Placeholder: the SQS work fills this in with domain operations (send, receive with
visibility, delete, change visibility, purge, counts, redrive).
"""

from __future__ import annotations

from abc import ABC  # noqa: F401


class MessageStore(ABC):  # noqa: B024 - filled in by the queue service
    """Durable message queues."""
