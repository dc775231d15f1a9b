"""Event source mappings (sources.mappings) behave the same on every backend: kept as
documents per account and region, listed in UUID order by function and by queue, updated
with compare-and-swap, deleted with their status; MaximumConcurrency slots shared."""

from __future__ import annotations

import time

import pytest

from sendoff.functions.errors import InvalidParameterValue, ResourceConflict, ResourceNotFound
from sendoff.functions.registry import FunctionRegistry
from sendoff.model.function import FunctionConfig
from sendoff.model.scope import Scope
from sendoff.services.sqs.service import QueueService
from sendoff.sources.mapping import STATUS_KIND, MappingInput, State
from sendoff.sources.mappings import Mappings
from sendoff.store import Store

SCOPE = Scope(account_id="111111111111", region="us-east-1")


async def setup(store: Store) -> tuple[Mappings, str, str]:
    registry = FunctionRegistry(store)
    for name in ("f", "g"):
        config = FunctionConfig(
            name=name, version="$LATEST", runtime="python3.12", handler="app.handler",
            role="arn:aws:iam::111111111111:role/r", code_sha256="c2hh", code_size=3,
        )  # fmt: skip
        await registry.create(SCOPE, config, b"zip", tags={})
    queues = QueueService(store, account_id=SCOPE.account_id, region=SCOPE.region)
    first = await queues.create_queue(SCOPE, "one")
    second = await queues.create_queue(SCOPE, "two")
    return Mappings(store, registry, queues), first.arn, second.arn


async def test_mapping_documents(store: Store) -> None:
    mappings, one, two = await setup(store)
    made = [
        await mappings.create(SCOPE, MappingInput(function_name=fn, event_source_arn=queue))
        for fn, queue in (("f", one), ("g", one), ("f", two))
    ]
    with pytest.raises(ResourceConflict):
        await mappings.create(SCOPE, MappingInput(function_name="f", event_source_arn=one))
    uuids = sorted(m.uuid for m in made)
    assert [m.uuid for m in await mappings.in_scope(SCOPE)] == uuids
    assert len(await mappings.in_scope(SCOPE, function_name="f")) == 2
    assert len(await mappings.in_scope(SCOPE, source_arn=one)) == 2
    other = Scope(account_id="222222222222", region="us-east-1")
    assert await mappings.in_scope(other) == []
    with pytest.raises(InvalidParameterValue):  # another account's queue is missing to it
        await mappings.create(other, MappingInput(function_name="f", event_source_arn=two))

    target = made[0]
    updated, state = await mappings.update(
        SCOPE, target.uuid, MappingInput(batch_size=50, window_s=2, enabled=False)
    )
    assert state == State.DISABLING
    stored = await mappings.get(SCOPE, target.uuid)
    assert (stored.batch_size, stored.window_s, stored.state) == (50, 2, State.DISABLED)
    assert stored == updated
    assert len(await mappings.everywhere()) == 3

    await store.put(STATUS_KIND, target.key, {"result": "OK", "at": time.time()})
    assert (await mappings.last_result(target))[0] == "OK"
    await mappings.delete(SCOPE, target.uuid)
    with pytest.raises(ResourceNotFound):
        await mappings.get(SCOPE, target.uuid)
    assert await store.get(STATUS_KIND, target.key) is None
    assert (await mappings.last_result(target))[0] == "No records processed"


async def test_maximum_concurrency_slots(store: Store) -> None:
    now = time.time()
    taken = [
        await store.acquire_slot("esm/u", holder=f"p{i}", limit=2, now=now, expires_at=now + 60)
        for i in range(3)
    ]
    assert taken == [True, True, False]
    await store.release_slot("esm/u", holder="p0")
    assert await store.acquire_slot("esm/u", holder="p2", limit=2, now=now, expires_at=now + 60)
