"""The SQLite backend (``sqlite:///path.db``), the embedded default.

``store.py``      documents, blobs, the job queue, slots, logs (:class:`SqliteStore`)
``messages.py``   message queues
``retention.py``  pruning of finished history
``db.py``         the connection: WAL, one writer, migrations, group commit
``wakeups.py``    hears other processes' commits (``PRAGMA data_version``)
``sql/``          numbered migrations (``NNNN_name.sql``)
"""

from sendoff.store.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
