"""A read-through cache of hot documents (functions, versions, aliases, invoke configs).

Every invoke and every async attempt resolves its function; reading and decoding the same
few documents thousands of times a second is most of the cost. Writes made through the
cache update it at once, so a process always sees its own changes. Changes made by other
processes sharing the store are seen within ``ttl_s`` (1 s by default), which is shorter
than AWS's own propagation of a configuration change (LastUpdateStatus InProgress).
Cached values are shared: callers must not mutate them.

A worker must do better than "within a second": a user who updates a function and then
invokes it asynchronously expects the new code, and the event may be run by a worker
process whose cache read the old one a moment ago. So every write through a cache also
changes one token in the store, the :class:`CacheEpoch`; the scheduler reads it after
each lease that brought jobs (scheduler/loop.py) and, when it changed, every cache of the
process on that store starts afresh. A change that committed before an event was
accepted is thus seen by whichever worker runs the event. The read is one small document
per lease, not per job.
"""

from __future__ import annotations

import time
import uuid
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from sendoff.model.json_types import JSON
from sendoff.store.base import Doc, Store

T = TypeVar("T")

EPOCH_KIND = "doc-cache"
EPOCH_KEY = "epoch"


class CacheEpoch:
    """The token every cached write changes, and the caches of this process on one store
    (``epoch_of``)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.caches: weakref.WeakSet[DocCache] = weakref.WeakSet()
        self._seen: str | None = None

    async def bump(self) -> None:
        """A cached document was written: other processes' caches must start afresh."""
        # this process's next sync clears its own caches too: cheap (changes are rare),
        # and remembering our token as seen could hide another process's earlier change
        await self.store.put(EPOCH_KIND, EPOCH_KEY, {"token": uuid.uuid4().hex})

    async def sync(self) -> None:
        """Read the token; if another process changed it, clear every cache."""
        doc = await self.store.get(EPOCH_KIND, EPOCH_KEY)
        token = None if doc is None else str(doc.value.get("token"))
        if token != self._seen:
            self._seen = token
            for cache in list(self.caches):
                cache.clear()


_EPOCHS: weakref.WeakKeyDictionary[Store, CacheEpoch] = weakref.WeakKeyDictionary()


def epoch_of(store: Store) -> CacheEpoch:
    epoch = _EPOCHS.get(store)
    if epoch is None:
        epoch = _EPOCHS[store] = CacheEpoch(store)
    return epoch


class DocCache:
    def __init__(
        self,
        store: Store,
        *,
        ttl_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 50_000,
    ) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.clock = clock
        self.max_entries = max_entries
        self._entries: dict[tuple[str, str], tuple[float, Doc]] = {}
        # what get_decoded made of each cached Doc object (one decoder per kind)
        self._decoded: dict[tuple[str, str], tuple[Doc, Any]] = {}
        self.epoch = epoch_of(store)
        self.epoch.caches.add(self)

    async def get(self, kind: str, key: str) -> Doc | None:
        entry = self._entries.get((kind, key))
        now = self.clock()
        if entry is not None and now - entry[0] < self.ttl_s:
            return entry[1]
        doc = await self.store.get(kind, key)
        if doc is None:
            self._entries.pop((kind, key), None)
        else:
            self._remember(kind, key, doc, now)
        return doc

    async def get_decoded(self, kind: str, key: str, decode: Callable[[Doc], T]) -> T | None:
        """``decode(doc)``, computed once per document read rather than once per call: the
        cache hands out the same Doc object until it reads the document again, so a new
        read (a change, a re-created document at revision 1 again) is decoded anew."""
        doc = await self.get(kind, key)
        if doc is None:
            self._decoded.pop((kind, key), None)
            return None
        known = self._decoded.get((kind, key))
        if known is not None and known[0] is doc:
            value: T = known[1]
            return value
        value = decode(doc)
        if len(self._decoded) >= self.max_entries:
            self._decoded.clear()
        self._decoded[(kind, key)] = (doc, value)
        return value

    def clear(self) -> None:
        self._entries.clear()
        self._decoded.clear()

    async def changed(self, kind: str, key: str) -> None:
        """A document this cache serves was written to the store directly: drop it here
        and tell other processes' caches (the :class:`CacheEpoch`)."""
        self._entries.pop((kind, key), None)
        await self.epoch.bump()

    def forget(self, kind: str, key: str) -> None:
        """Drop one cached document: the next read goes to the store (a change another
        process made must be seen now, not within ``ttl_s``)."""
        self._entries.pop((kind, key), None)

    async def put(self, kind: str, key: str, value: JSON, *, expect: int | None = None) -> Doc:
        self._entries.pop((kind, key), None)
        doc = await self.store.put(kind, key, value, expect=expect)
        self._remember(kind, key, doc, self.clock())
        await self.epoch.bump()
        return doc

    async def delete(self, kind: str, key: str, *, expect: int | None = None) -> bool:
        self._entries.pop((kind, key), None)
        deleted = await self.store.delete(kind, key, expect=expect)
        if deleted:
            await self.epoch.bump()
        return deleted

    def _remember(self, kind: str, key: str, doc: Doc, now: float) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[(kind, key)] = (now, doc)
