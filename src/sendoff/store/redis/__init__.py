"""The Redis backend (``redis://host/0?prefix=sendoff``; extra ``redis``).

``store.py``       documents, blobs, the job queue, slots, logs (:class:`RedisStore`)
``messages.py``    message queues
``retention.py``   pruning of finished history
``connection.py``  URL and prefix, clients, script loading, cancellation safety
``wakeups.py``     the pub/sub relay behind ``add_wakeup_listener``
``lua/``           one script per multi-step operation, its keys documented at its top
"""

from sendoff.store.redis.store import RedisStore

__all__ = ["RedisStore"]
