"""Documents, blobs and logs behave the same on every backend."""

from __future__ import annotations

import pytest

from sendoff.errors import ConflictError
from sendoff.store import LogEvent, Store


async def test_put_get_revisions(store: Store) -> None:
    assert await store.get("function", "a/b/f") is None
    doc = await store.put("function", "a/b/f", {"x": 1}, expect=0)
    assert doc.revision == 1
    doc = await store.put("function", "a/b/f", {"x": 2}, expect=1)
    assert doc.revision == 2
    got = await store.get("function", "a/b/f")
    assert got is not None and got.value == {"x": 2} and got.revision == 2


async def test_compare_and_swap_conflicts(store: Store) -> None:
    await store.put("function", "k", {"v": 1}, expect=0)
    with pytest.raises(ConflictError):
        await store.put("function", "k", {"v": 2}, expect=0)
    with pytest.raises(ConflictError):
        await store.put("function", "k", {"v": 2}, expect=5)
    got = await store.get("function", "k")
    assert got is not None and got.value == {"v": 1}


async def test_returned_values_are_copies(store: Store) -> None:
    await store.put("function", "k", {"list": [1]})
    got = await store.get("function", "k")
    assert got is not None
    got.value["list"].append(2)
    again = await store.get("function", "k")
    assert again is not None and again.value == {"list": [1]}


async def test_scan_prefix_order_and_paging(store: Store) -> None:
    for key in ["a/2", "a/1", "b/1", "a/3", "a0"]:
        await store.put("fn", key, {"k": key})
    await store.put("other", "a/9", {})
    keys = [d.key for d in await store.scan("fn", "a/")]
    assert keys == ["a/1", "a/2", "a/3"]
    page = await store.scan("fn", "a/", limit=2)
    assert [d.key for d in page] == ["a/1", "a/2"]
    rest = await store.scan("fn", "a/", after="a/2")
    assert [d.key for d in rest] == ["a/3"]
    assert [d.key for d in await store.scan("fn")] == ["a/1", "a/2", "a/3", "a0", "b/1"]


async def test_delete(store: Store) -> None:
    await store.put("fn", "k", {})
    assert await store.delete("fn", "k") is True
    assert await store.delete("fn", "k") is False
    assert await store.scan("fn") == []


async def test_blobs(store: Store) -> None:
    assert await store.get_blob("x") is None
    await store.put_blob("x", b"\x00zip")
    await store.put_blob("x", b"\x00zip")
    assert await store.get_blob("x") == b"\x00zip"
    await store.put_blob("y", b"other")
    await store.delete_blob("x")
    await store.delete_blob("x")  # nothing to delete: no error
    assert await store.get_blob("x") is None
    assert await store.get_blob("y") == b"other"


async def test_logs_append_and_read_after(store: Store) -> None:
    await store.append_logs("g", "s1", [LogEvent(timestamp_ms=1, message="a")])
    await store.append_logs("g", "s2", [LogEvent(timestamp_ms=2, message="b")])
    await store.append_logs("other", "s1", [LogEvent(timestamp_ms=3, message="z")])
    rows = await store.read_logs("g")
    assert [(s, e.message) for s, e in rows] == [("s1", "a"), ("s2", "b")]
    after = await store.read_logs("g", after_seq=rows[0][1].seq)
    assert [e.message for _, e in after] == ["b"]
    only = await store.read_logs("g", stream="s2")
    assert [e.message for _, e in only] == ["b"]
