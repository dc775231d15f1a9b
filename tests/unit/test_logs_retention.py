"""Log groups' retention policies, applied by the pruner on the memory store: a policy
shortens ``--log-retention``, never lengthens it."""

from __future__ import annotations

import time

from sendoff.functions.log_writer import LogWriter
from sendoff.model.log_names import Scope, lines_key
from sendoff.services.logs.groups import LogGroups
from sendoff.services.logs.retention import expire_by_policy
from sendoff.store import LogEvent
from sendoff.store.memory import MemoryStore
from sendoff.store.retention import Pruner, RetentionPolicy

DAY = 86_400
SCOPE = Scope(account_id="000000000000", region="us-east-1")


async def _group(groups: LogGroups, name: str, days: int | None, now: float) -> str:
    await groups.create(SCOPE, name)
    if days is not None:
        await groups.put_retention(SCOPE, name, days)
    key = lines_key(SCOPE, name)
    ages = (3 * DAY, 2 * DAY, 60)  # seconds old
    lines = [LogEvent(timestamp_ms=int((now - age) * 1000), message=f"{age}") for age in ages]
    await groups.store.append_logs(key, "s", lines)
    return key


async def test_a_policy_shortens_the_server_window() -> None:
    store = MemoryStore()
    groups = LogGroups(store, LogWriter(store))
    now = time.time()
    short = await _group(groups, "/short", 1, now)
    long = await _group(groups, "/long", 30, now)
    none = await _group(groups, "/none", None, now)
    deleted = await expire_by_policy(store, groups, now=now, max_retention_s=7 * DAY)
    assert deleted == 2
    assert [e.message for _, e in await store.read_logs(short)] == ["60"]
    assert len(await store.read_logs(long)) == len(await store.read_logs(none)) == 3


async def test_the_pruner_runs_the_policy_pass_with_the_server_window() -> None:
    store = MemoryStore()
    groups = LogGroups(store, LogWriter(store))
    now = time.time()
    short = await _group(groups, "/short", 1, now)
    long = await _group(groups, "/long", 30, now)
    pruner = Pruner(store, RetentionPolicy(log_retention_s=2.5 * DAY), clock=lambda: now)

    async def expire(at: float) -> int:
        return await expire_by_policy(store, groups, now=at, max_retention_s=2.5 * DAY)

    pruner.extra_log_passes.append(expire)
    report = await pruner.prune_once()
    assert report.log_lines == 3  # /short: two by its policy; /long: one by the server's
    assert [e.message for _, e in await store.read_logs(short)] == ["60"]
    assert [e.message for _, e in await store.read_logs(long)] == [str(2 * DAY), "60"]
