"""The document cache: own writes seen at once, other writers within the TTL, or at the
next epoch sync (a worker's lease)."""

from __future__ import annotations

from pathlib import Path

from sendoff.store import open_store
from sendoff.store.base import Doc
from sendoff.store.cache import EPOCH_KEY, EPOCH_KIND, DocCache, epoch_of
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


async def test_another_processes_write_is_seen_after_an_epoch_sync(tmp_path: Path) -> None:
    """Two store objects on one SQLite file are two processes: the API server's writes
    through its cache reach the worker's cache at its next sync (a lease), not a TTL
    later."""
    api_store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    worker_store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    await api_store.open()
    await worker_store.open()
    try:
        api = DocCache(api_store, ttl_s=60, clock=lambda: 0.0)
        worker = DocCache(worker_store, ttl_s=60, clock=lambda: 0.0)
        other = DocCache(worker_store, ttl_s=60, clock=lambda: 0.0)  # the worker's SQS cache
        await api.put("function", "k", {"v": 1})
        await api.put("queue", "q", {"v": 1})
        await epoch_of(worker_store).sync()
        assert (await worker.get("function", "k")).value == {"v": 1}  # type: ignore[union-attr]
        assert (await other.get("queue", "q")).value == {"v": 1}  # type: ignore[union-attr]

        await api.put("function", "k", {"v": 2})
        assert (await worker.get("function", "k")).value == {"v": 1}  # type: ignore[union-attr]
        await epoch_of(worker_store).sync()
        assert (await worker.get("function", "k")).value == {"v": 2}  # type: ignore[union-attr]

        assert await other.get("queue", "q") is not None  # cached again after that sync
        await api.delete("queue", "q")
        assert await other.get("queue", "q") is not None
        await epoch_of(worker_store).sync()
        assert await other.get("queue", "q") is None

        # nothing changed since: a sync keeps what the caches hold
        assert (await worker.get("function", "k")).value == {"v": 2}  # type: ignore[union-attr]
        await worker_store.put("function", "k", {"v": 3})  # not through a cache
        await epoch_of(worker_store).sync()
        assert (await worker.get("function", "k")).value == {"v": 2}  # type: ignore[union-attr]
    finally:
        await api_store.close()
        await worker_store.close()


async def test_a_failed_delete_changes_no_epoch() -> None:
    store = MemoryStore()
    cache = DocCache(store)
    assert not await cache.delete("function", "absent")
    assert await store.get(EPOCH_KIND, EPOCH_KEY) is None
    await cache.put("function", "k", {"v": 1})
    assert await store.get(EPOCH_KIND, EPOCH_KEY) is not None
