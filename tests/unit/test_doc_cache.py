"""The document cache: own writes seen at once, other writers within the TTL."""

from __future__ import annotations

from sendoff.store.base import Doc
from sendoff.store.cache import DocCache
from sendoff.store.memory import MemoryStore


async def test_reads_are_cached_until_the_ttl() -> None:
    now = [0.0]
    store = MemoryStore()
    cache = DocCache(store, ttl_s=1.0, clock=lambda: now[0])
    await store.put("function", "k", {"v": 1})
    doc = await cache.get("function", "k")
    assert doc is not None and doc.value == {"v": 1}
    await store.put("function", "k", {"v": 2})  # another process's write
    doc = await cache.get("function", "k")
    assert doc is not None and doc.value == {"v": 1}
    now[0] = 1.0
    doc = await cache.get("function", "k")
    assert doc is not None and doc.value == {"v": 2}


async def test_own_writes_and_deletes_are_seen_at_once() -> None:
    cache = DocCache(MemoryStore(), ttl_s=60, clock=lambda: 0.0)
    await cache.put("function", "k", {"v": 1})
    await cache.get("function", "k")
    await cache.put("function", "k", {"v": 2})
    doc = await cache.get("function", "k")
    assert doc is not None and doc.value == {"v": 2}
    assert await cache.delete("function", "k")
    assert await cache.get("function", "k") is None


async def test_decoded_once_per_read_and_anew_after_a_recreate() -> None:
    now = [0.0]
    store = MemoryStore()
    cache = DocCache(store, ttl_s=1.0, clock=lambda: now[0])
    calls: list[int] = []

    def decode(doc: Doc) -> int:
        calls.append(doc.value["v"])
        return int(doc.value["v"])

    await cache.put("function", "k", {"v": 1})
    assert await cache.get_decoded("function", "k", decode) == 1
    assert await cache.get_decoded("function", "k", decode) == 1
    assert calls == [1]
    # deleted and created again elsewhere: the same revision (1), another value
    await store.delete("function", "k")
    await store.put("function", "k", {"v": 2})
    now[0] = 1.0
    assert await cache.get_decoded("function", "k", decode) == 2
    await cache.delete("function", "k")
    assert await cache.get_decoded("function", "k", decode) is None
    assert calls == [1, 2]
