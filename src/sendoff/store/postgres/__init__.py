"""The PostgreSQL backend (``postgresql://...``; extra ``postgres``).

``store.py``      documents, blobs, the job queue, slots, logs (:class:`PostgresStore`)
``messages.py``   message queues
``retention.py``  pruning of finished history
``db.py``         URL, connection pool, migrations, group commit, advisory locks
``wakeups.py``    the LISTEN connection that hears other processes' work
``sql/``          numbered migrations (``NNNN_name.sql``) and the named queries (``queries.sql``)
"""

from sendoff.store.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
