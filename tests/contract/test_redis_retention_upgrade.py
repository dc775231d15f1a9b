"""Redis only: a store written before the finish-time index gets its terminal events
indexed once, before the first prune (kept one more window), and never its live ones."""

from __future__ import annotations

import time

from sendoff.store.base import EventRecord, EventState
from sendoff.store.redis import RedisStore
from tests.contract.conftest import unavailable
from tests.support.backend_redis import admin, fresh_prefix


def event(name: str, due: float) -> EventRecord:
    return EventRecord(id=name, function_key="a/r/f", state=EventState.QUEUED, due_at=due,
                       enqueued_at=0.0, body={})  # fmt: skip


async def test_terminal_events_of_an_older_store_are_indexed_then_pruned() -> None:
    async with fresh_prefix(unavailable) as url:
        store = RedisStore(url)
        await store.open()
        client = admin()
        try:
            await store.enqueue([event(f"old-{i}", 0.0) for i in range(1500)])
            await store.enqueue([event("live", 1e12)])
            for job in await store.lease(owner="w", now=1.0, limit=2000, lease_s=30):
                state = EventState.FAILED if job.id.endswith("7") else EventState.SUCCEEDED
                assert await store.finish(job.id, token=job.lease_token, state=state, body={})
            prefix = store.conn.prefix
            await client.delete(f"{prefix}:events:finished")  # as an older sendoff wrote it
            before_upgrade = time.time()

            assert await store.prune_events(finished_before=before_upgrade, limit=5000) == 0
            assert await client.zcard(f"{prefix}:events:finished") == 1500
            assert await client.exists(f"{prefix}:events:finished:backfilled")
            assert await store.prune_events(finished_before=time.time() + 1, limit=5000) == 1500
            assert [e.id for e in await store.list_events(limit=10)] == ["live"]
        finally:
            await client.aclose()
            await store.close()
