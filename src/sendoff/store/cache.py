"""A read-through cache of hot documents (functions, versions, aliases, invoke configs).

Every invoke and every async attempt resolves its function; reading and decoding the same
few documents thousands of times a second is most of the cost. Writes made through the
cache update it at once, so a process always sees its own changes. Changes made by other
processes sharing the store are seen within ``ttl_s`` (1 s by default), which is shorter
than AWS's own propagation of a configuration change (LastUpdateStatus InProgress).
Cached values are shared: callers must not mutate them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from sendoff.model.json_types import JSON
from sendoff.store.base import Doc, Store

T = TypeVar("T")


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

    def forget(self, kind: str, key: str) -> None:
        """Drop one cached document: the next read goes to the store (a change another
        process made must be seen now, not within ``ttl_s``)."""
        self._entries.pop((kind, key), None)

    async def put(self, kind: str, key: str, value: JSON, *, expect: int | None = None) -> Doc:
        self._entries.pop((kind, key), None)
        doc = await self.store.put(kind, key, value, expect=expect)
        self._remember(kind, key, doc, self.clock())
        return doc

    async def delete(self, kind: str, key: str, *, expect: int | None = None) -> bool:
        self._entries.pop((kind, key), None)
        return await self.store.delete(kind, key, expect=expect)

    def _remember(self, kind: str, key: str, doc: Doc, now: float) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[(kind, key)] = (now, doc)
