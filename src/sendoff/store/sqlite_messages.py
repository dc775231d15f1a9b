"""SQLite message queues (filled in by the SQS service work)."""

from __future__ import annotations

from sendoff.store.messages import MessageStore
from sendoff.store.sqlite_db import SqliteDatabase


class SqliteMessages(MessageStore):
    db: SqliteDatabase

    def __init__(self) -> None:
        super().__init__()
