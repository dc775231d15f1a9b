"""The in-memory backend (``memory://``), for fast tests.

``store.py``     documents, blobs, the job queue, slots, logs, retention (:class:`MemoryStore`)
``messages.py``  message queues: the reference implementation of the message contract
"""

from sendoff.store.memory.store import MemoryStore

__all__ = ["MemoryStore"]
