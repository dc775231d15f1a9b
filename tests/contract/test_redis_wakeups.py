"""Redis only: work written by one process wakes the listeners of every other process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from sendoff.store.base import EventRecord, EventState
from sendoff.store.messages import DeadLetterTarget, QueuedMessage
from sendoff.store.redis import RedisStore
from tests.contract.conftest import unavailable
from tests.support.backend_redis import admin, fresh_prefix

DEADLINE_S = 10.0


@pytest.fixture
async def url() -> AsyncIterator[str]:
    async with fresh_prefix(unavailable) as url:
        yield url


@pytest.fixture
async def pair(url: str) -> AsyncIterator[tuple[RedisStore, RedisStore]]:
    """A listening store and another store (another process) on the same prefix."""
    listening, other = RedisStore(url), RedisStore(url)
    await listening.open()
    await other.open()
    yield listening, other
    await listening.close()
    await other.close()


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while not await check():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)  # poll interval, not a fixed wait


async def subscribers(store: RedisStore) -> int:
    counts = await store.conn.text.pubsub_numsub(store.conn.channel)
    return int(counts[0][1])


async def heard(topics: asyncio.Queue[str], expected: str) -> None:
    async with asyncio.timeout(DEADLINE_S):
        while (topic := await topics.get()) != expected:
            pass
    assert topic == expected


def job(i: int) -> EventRecord:
    return EventRecord(
        id=f"e{i}", function_key="a/r/f", state=EventState.QUEUED, due_at=0.0,
        enqueued_at=0.0, body={},
    )  # fmt: skip


def message(mid: str) -> QueuedMessage:
    return QueuedMessage(id=mid, body="b", meta={}, sent_at=0.0, visible_at=0.0)


async def subscribed(store: RedisStore, count: int = 1) -> None:
    async def check() -> bool:
        return await subscribers(store) >= count

    await eventually(check, "the wake-up subscription")


async def test_jobs_and_messages_wake_other_processes(
    pair: tuple[RedisStore, RedisStore],
) -> None:
    listening, other = pair
    topics: asyncio.Queue[str] = asyncio.Queue()
    listening.add_wakeup_listener(topics.put_nowait)  # after open: starts the subscriber
    await subscribed(listening)

    await other.enqueue([job(1)])
    await heard(topics, "jobs")
    await other.put_messages("q1", [message("m")], now=0.0, dedup_window_s=300)
    await heard(topics, "messages/q1")

    (leased,) = await other.lease(owner="w", now=0.0, limit=1, lease_s=30)
    await other.reschedule(
        leased.id, token=leased.lease_token, due_at=5.0, body={}, state=EventState.RETRYING
    )
    await heard(topics, "jobs")

    target = DeadLetterTarget(queue_id="dlq", max_receive_count=1, source="src")
    await other.receive_messages("q1", now=0.0, limit=1, visibility_s=0, sent_after=-1)
    got = await other.receive_messages(
        "q1", now=1.0, limit=1, visibility_s=0, sent_after=-1, dead_letter=target
    )
    assert got.moved == 1
    await heard(topics, "messages/dlq")


async def test_a_failing_listener_does_not_silence_the_others(
    pair: tuple[RedisStore, RedisStore],
) -> None:
    listening, other = pair

    def broken(topic: str) -> None:
        raise RuntimeError("listener bug")

    topics: asyncio.Queue[str] = asyncio.Queue()
    listening.add_wakeup_listener(broken)
    listening.add_wakeup_listener(topics.put_nowait)
    await subscribed(listening)
    await other.enqueue([job(1)])
    await heard(topics, "jobs")


async def test_listeners_registered_before_open_hear_after_open(url: str) -> None:
    listening, other = RedisStore(url), RedisStore(url)
    topics: asyncio.Queue[str] = asyncio.Queue()
    listening.add_wakeup_listener(topics.put_nowait)
    await listening.open()
    await other.open()
    try:
        await subscribed(listening)
        await other.put_messages("q", [message("m")], now=0.0, dedup_window_s=300)
        await heard(topics, "messages/q")
    finally:
        await listening.close()
        await other.close()


async def test_subscriber_reconnects_after_its_connection_is_killed(
    pair: tuple[RedisStore, RedisStore],
) -> None:
    listening, other = pair
    topics: asyncio.Queue[str] = asyncio.Queue()
    listening.add_wakeup_listener(topics.put_nowait)
    await subscribed(listening)

    client = admin()
    try:
        name = (await listening.conn.text.client_info())["name"]
        victims = [
            c["id"] for c in await client.client_list() if c["name"] == name and "P" in c["flags"]
        ]
        assert len(victims) == 1
        await client.client_kill_filter(_id=victims[0])
    finally:
        await client.aclose()

    await heard(topics, "jobs")  # wake-ups may have been missed: listeners poll once

    async def hears_a_send() -> bool:
        # pub/sub drops what is published while the subscription is being re-established
        await other.put_messages("q", [message("m")], now=0.0, dedup_window_s=300)
        try:
            async with asyncio.timeout(0.2):
                while await topics.get() != "messages/q":
                    pass
        except TimeoutError:
            return False
        return True

    await eventually(hears_a_send, "a wake-up after resubscribing")
