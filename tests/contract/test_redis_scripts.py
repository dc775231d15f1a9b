"""Redis only: URLs and prefixes, the lazy import, and scripts surviving SCRIPT FLUSH."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from sendoff.errors import ConfigError, ConflictError
from sendoff.store import open_store
from sendoff.store.base import EventRecord, EventState
from sendoff.store.messages import QueuedMessage
from sendoff.store.redis import RedisStore
from sendoff.store.redis.connection import split_url
from tests.contract.conftest import unavailable
from tests.support.backend_redis import admin, fresh_prefix


def test_prefix_comes_from_the_url_and_is_kept_from_redis_py() -> None:
    assert split_url("redis://h:6379/2?prefix=blue&socket_timeout=5") == (
        "redis://h:6379/2?socket_timeout=5",
        "blue",
    )
    assert split_url("rediss://:pw@h/0") == ("rediss://:pw@h/0", "sendoff")
    with pytest.raises(ConfigError):
        split_url("redis://h/0?prefix=")


def test_open_store_picks_redis_by_scheme_without_connecting() -> None:
    assert isinstance(open_store("redis://127.0.0.1:1/0?prefix=x"), RedisStore)
    assert isinstance(open_store("rediss://127.0.0.1:1/0"), RedisStore)


def test_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(sys.modules):
        if name == "redis" or name.startswith(("redis.", "sendoff.store.redis")):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "redis", None)  # import redis -> ModuleNotFoundError
    with pytest.raises(ConfigError, match=r"pip install 'sendoff\[redis\]'"):
        open_store("redis://127.0.0.1/0")


async def test_scripts_are_reloaded_after_script_flush() -> None:
    async with fresh_prefix(unavailable) as url:
        store = RedisStore(url)
        await store.open()
        client = admin()
        try:
            await store.put("fn", "k", {"v": 1})
            await client.script_flush()
            assert (await store.put("fn", "k", {"v": 2}, expect=1)).revision == 2
            await client.script_flush()
            event = EventRecord(
                id="e", function_key="a/r/f", state=EventState.QUEUED, due_at=0.0,
                enqueued_at=0.0, body={},
            )  # fmt: skip
            await store.enqueue([event])
            (leased,) = await store.lease(owner="w", now=1.0, limit=1, lease_s=5)
            await client.script_flush()
            assert await store.finish(
                "e", token=leased.lease_token, state=EventState.SUCCEEDED, body={}
            )
        finally:
            await client.aclose()
            await store.close()


async def test_prefixes_isolate_installations() -> None:
    async with fresh_prefix(unavailable) as blue_url, fresh_prefix(unavailable) as green_url:
        blue, green = RedisStore(blue_url), RedisStore(green_url)
        await blue.open()
        await green.open()
        try:
            await blue.put("fn", "k", {})
            await blue.put_messages(
                "q",
                [QueuedMessage(id="m", body="", meta={}, sent_at=0.0, visible_at=0.0)],
                now=0.0,
                dedup_window_s=1,
            )
            assert await green.get("fn", "k") is None
            assert (await green.count_messages("q", now=0.0, sent_after=-1)).visible == 0

            def keys(store: RedisStore) -> AsyncIterator[str]:
                return store.conn.text.scan_iter(match=f"{store.conn.prefix}:*")

            assert [k async for k in keys(blue)]
            assert [k async for k in keys(green)] == []  # opening a store writes nothing
        finally:
            await blue.close()
            await green.close()


async def test_enqueue_retried_after_a_lost_reply_is_harmless() -> None:
    async with fresh_prefix(unavailable) as url:
        store = RedisStore(url)
        await store.open()
        try:
            event = EventRecord(
                id="e", function_key="a/r/f", state=EventState.QUEUED, due_at=1.5,
                enqueued_at=1.25, body={"n": 1},
            )  # fmt: skip
            await store.enqueue([event])
            await store.enqueue([event])  # same event again: a retry, not a conflict
            assert await store.count_events() == 1
            with pytest.raises(ConflictError):
                await store.enqueue([replace(event, body={"n": 2})])
        finally:
            await store.close()


def test_passwords_stay_out_of_logs() -> None:
    store = RedisStore("redis://app:s3cret@127.0.0.1:1/0?prefix=x")
    assert store.conn.safe_url == "redis://app:***@127.0.0.1:1/0"
