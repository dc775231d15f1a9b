"""Losing connections: the pool replaces a dropped connection instead of failing a call."""

from __future__ import annotations

import uuid

from sendoff.store import EventRecord
from sendoff.store.base import EventState
from tests.contract.conftest import unavailable
from tests.support.backend_postgres import admin, eventually, shared_stores


async def terminate(application_name: str) -> int:
    """Kill the store's server connections (as a restart would) and wait until they are
    gone; returns how many there were."""
    conn = await admin(unavailable)
    async with conn:
        query = "SELECT pid FROM pg_stat_activity WHERE application_name = %s"
        cur = await conn.execute(query, (application_name,))
        pids = [row[0] for row in await cur.fetchall()]
        for pid in pids:
            await conn.execute("SELECT pg_terminate_backend(%s)", (pid,))

        async def gone() -> bool:
            cur = await conn.execute(query, (application_name,))
            return not await cur.fetchall()

        await eventually(gone)
        return len(pids)


async def test_every_connection_dropped_then_calls_still_succeed() -> None:
    name = f"sendoff-test-{uuid.uuid4().hex[:8]}"
    async with shared_stores(unavailable, 1, application_name=name) as (store,):
        await store.put("fn", "k", {"v": 1})
        assert await terminate(name) >= 1
        got = await store.get("fn", "k")  # a read
        assert got is not None and got.value == {"v": 1}
        assert await terminate(name) >= 1
        await store.enqueue(
            [
                EventRecord(
                    id="e1",
                    function_key="a/r/f",
                    state=EventState.QUEUED,
                    due_at=0,
                    enqueued_at=0,
                    body={},
                )
            ]
        )  # a group-committed write
        assert await terminate(name) >= 1
        (leased,) = await store.lease(owner="w", now=0, limit=1, lease_s=5)
        assert leased.id == "e1"
