"""The asynchronous invocation queue: enqueue, lease with expiry, settle."""

from __future__ import annotations

from sendoff.store import EventRecord, Store
from sendoff.store.base import EventState


def event(i: int, *, due: float = 0.0) -> EventRecord:
    return EventRecord(
        id=f"e{i:04d}",
        function_key="acct/r/f",
        state=EventState.QUEUED,
        due_at=due,
        enqueued_at=float(i),
        body={"n": i},
    )


async def test_lease_takes_due_events_in_order(store: Store) -> None:
    await store.enqueue([event(2, due=2), event(1, due=1), event(3, due=50)])
    leased = await store.lease(owner="w1", now=10, limit=10, lease_s=30)
    assert [e.id for e in leased] == ["e0001", "e0002"]
    assert all(e.state is EventState.RUNNING and e.lease_owner == "w1" for e in leased)
    assert await store.lease(owner="w2", now=10, limit=10, lease_s=30) == []
    assert await store.next_due_at() == 40  # e1/e2 leases expire at 40, e3 due at 50


async def test_expired_lease_is_taken_again_and_old_token_loses(store: Store) -> None:
    await store.enqueue([event(1)])
    (first,) = await store.lease(owner="w1", now=0, limit=1, lease_s=5)
    (second,) = await store.lease(owner="w2", now=6, limit=1, lease_s=5)
    assert second.lease_token == first.lease_token + 1
    assert not await store.finish(
        first.id, token=first.lease_token, state=EventState.SUCCEEDED, body={}
    )
    assert await store.finish(
        second.id, token=second.lease_token, state=EventState.SUCCEEDED, body={"done": 1}
    )
    got = await store.get_event("e0001")
    assert got is not None and got.state is EventState.SUCCEEDED and got.body == {"done": 1}
    assert await store.next_due_at() is None


async def test_reschedule_makes_it_due_later(store: Store) -> None:
    await store.enqueue([event(1)])
    (leased,) = await store.lease(owner="w", now=0, limit=1, lease_s=5)
    assert await store.reschedule(
        leased.id,
        token=leased.lease_token,
        due_at=60,
        body={"attempts": 1},
        state=EventState.RETRYING,
    )
    assert await store.lease(owner="w", now=59, limit=1, lease_s=5) == []
    (again,) = await store.lease(owner="w", now=60, limit=1, lease_s=5)
    assert again.body == {"attempts": 1}


async def test_every_lease_adds_one_to_the_token(store: Store) -> None:
    """Duplicate-execution detection (model/job.py) counts the leases between settles."""
    await store.enqueue([event(1)])
    (first,) = await store.lease(owner="w", now=0, limit=1, lease_s=5)
    assert first.lease_token == 1
    (expired,) = await store.lease(owner="w2", now=10, limit=1, lease_s=5)  # first was lost
    assert expired.lease_token == 2
    assert await store.release_leases("w2", now=10) == 1
    (released,) = await store.lease(owner="w3", now=10, limit=1, lease_s=5)
    assert released.lease_token == 3
    assert await store.reschedule(released.id, token=3, due_at=10, body={},
                                  state=EventState.RETRYING)  # fmt: skip
    (again,) = await store.lease(owner="w3", now=10, limit=1, lease_s=5)
    assert again.lease_token == 4


async def test_list_and_count(store: Store) -> None:
    await store.enqueue([event(i) for i in range(5)])
    (leased,) = await store.lease(owner="w", now=0, limit=1, lease_s=5)
    await store.finish(leased.id, token=leased.lease_token, state=EventState.FAILED, body={})
    assert await store.count_events() == 5
    assert await store.count_events(states=[EventState.FAILED]) == 1
    queued = await store.list_events(states=[EventState.QUEUED], limit=2)
    assert [e.id for e in queued] == ["e0001", "e0002"]
    page2 = await store.list_events(states=[EventState.QUEUED], after_id="e0002")
    assert [e.id for e in page2] == ["e0003", "e0004"]
    assert await store.list_events(function_key_prefix="other/") == []


async def test_heartbeat_extends_lease(store: Store) -> None:
    await store.enqueue([event(1)])
    (leased,) = await store.lease(owner="w1", now=0, limit=1, lease_s=5)
    assert await store.extend_lease(leased.id, token=leased.lease_token, expires_at=100)
    assert await store.lease(owner="w2", now=50, limit=1, lease_s=5) == []
    assert not await store.extend_lease(leased.id, token=99, expires_at=200)


async def test_release_leases_of_a_dead_owner(store: Store) -> None:
    await store.enqueue([event(1), event(2), event(3)])
    await store.lease(owner="dead", now=0, limit=2, lease_s=1000)
    await store.lease(owner="alive", now=0, limit=1, lease_s=1000)
    assert await store.lease_owners() == ["alive", "dead"]
    assert await store.release_leases("dead", now=10) == 2
    again = await store.lease(owner="new", now=10, limit=10, lease_s=5)
    assert sorted(e.id for e in again) == ["e0001", "e0002"]


async def test_concurrency_slots(store: Store) -> None:
    assert await store.acquire_slot("f", holder="a", limit=2, now=0, expires_at=10)
    assert await store.acquire_slot("f", holder="b", limit=2, now=0, expires_at=10)
    assert not await store.acquire_slot("f", holder="c", limit=2, now=1, expires_at=10)
    assert await store.acquire_slot("other", holder="c", limit=1, now=1, expires_at=10)
    await store.release_slot("f", holder="a")
    assert await store.acquire_slot("f", holder="c", limit=2, now=1, expires_at=10)
    assert not await store.acquire_slot("f", holder="d", limit=2, now=5, expires_at=10)
    assert await store.acquire_slot("f", holder="d", limit=2, now=10, expires_at=20)  # expired
    assert not await store.acquire_slot("zero", holder="x", limit=0, now=0, expires_at=1)


async def test_enqueue_already_leased(store: Store) -> None:
    from dataclasses import replace

    job = replace(
        event(1), state=EventState.RUNNING, lease_owner="me", lease_expires_at=30.0, lease_token=1
    )
    await store.enqueue([job])
    assert await store.lease(owner="other", now=10, limit=5, lease_s=5) == []
    assert await store.lease_owners() == ["me"]
    assert await store.finish(job.id, token=1, state=EventState.SUCCEEDED, body={})
    await store.enqueue([replace(job, id="e0002")])
    (taken,) = await store.lease(owner="other", now=31, limit=5, lease_s=5)  # expired
    assert taken.id == "e0002" and taken.lease_token == 2
