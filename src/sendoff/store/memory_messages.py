"""In-memory message queues (filled in by the SQS service work)."""

from __future__ import annotations

from sendoff.store.messages import MessageStore


class MemoryMessages(MessageStore):
    def __init__(self) -> None:
        super().__init__()
