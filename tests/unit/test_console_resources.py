"""The console's resource lists come from the destination kinds and the trigger sources
(sendoff.destinations.kinds, sendoff.console.triggers), on the memory store."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sendoff.config.settings import Settings
from sendoff.console.context import Console
from sendoff.console.resources import destination_choices, exists
from sendoff.console.triggers import sources, triggers_of
from sendoff.destinations.registry import kinds
from sendoff.model.function import FunctionConfig
from sendoff.server import build_core
from sendoff.services.events.model import Target
from sendoff.services.events.service import RuleSpec

ACCOUNT, REGION = "000000000000", "us-east-1"
FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    services = build_core(Settings(store_url="memory://", data_dir=tmp_path / "data"))
    await services.store.open()
    try:
        yield Console.build(services)
    finally:
        await services.store.close()


def code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


async def add_function(console: Console, name: str) -> None:
    zipped = code()
    config = FunctionConfig(
        name=name, version="$LATEST", runtime="python3.12", handler="app.handler",
        role=f"arn:aws:iam::{ACCOUNT}:role/r", code_size=len(zipped),
        code_sha256=base64.b64encode(hashlib.sha256(zipped).digest()).decode(),
    )  # fmt: skip
    await console.services.registry.create(console.scope, config, zipped, tags={})


async def test_every_kind_lists_its_resources_and_the_function_is_left_out(
    console: Console,
) -> None:
    s, scope = console.services, console.scope
    assert s.queues and s.topics and s.buses
    await add_function(console, "f")
    await add_function(console, "g")
    queue = await s.queues.create_queue(scope, "q")
    topic = await s.topics.topics.create(scope, "t")
    await s.buses.create_event_bus(scope, "b")
    choices = await destination_choices(console, exclude_function="f")
    assert list(choices) == [k.service for k in kinds()]
    assert choices["sqs"] == [queue.arn]
    assert choices["sns"] == [topic.name.arn]
    assert choices["lambda"] == [FN + "g"]
    assert set(choices["events"]) == {
        f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}" for name in ("b", "default")
    }
    assert FN + "f" in (await destination_choices(console, exclude_function=""))["lambda"]


async def test_exists_asks_the_kind_and_only_for_the_consoles_scope(console: Console) -> None:
    s, scope = console.services, console.scope
    assert s.queues and s.topics and s.buses
    await add_function(console, "f")
    queue = await s.queues.create_queue(scope, "q")
    topic = await s.topics.topics.create(scope, "t")
    assert await exists(console, queue.arn) is True
    assert await exists(console, queue.arn + "x") is False
    assert await exists(console, topic.name.arn) is True
    assert await exists(console, topic.name.arn + "x") is False
    assert await exists(console, FN + "f") is True
    assert await exists(console, FN + "f:$LATEST") is True
    assert await exists(console, FN + "nope") is False
    assert await exists(console, f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default") is True
    assert await exists(console, f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/nope") is False
    assert await exists(console, f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q") is None  # elsewhere
    assert await exists(console, "arn:aws:s3:::bucket") is None  # no S3 service built here
    assert await exists(console, "not-an-arn") is None


async def test_triggers_come_from_every_source_in_rank_order(console: Console) -> None:
    s, scope = console.services, console.scope
    assert s.topics and s.buses
    assert [type(source).__name__ for source in sources()] == [
        "TopicSubscriptions", "RuleTargets", "BucketNotifications", "QueueMappings",
    ]  # fmt: skip
    await add_function(console, "f")
    topic = await s.topics.topics.create(scope, "t")
    await s.topics.subscriptions.subscribe(scope, topic.name.arn, "lambda", FN + "f:live")
    await s.buses.put_rule(scope, RuleSpec(name="r", event_pattern='{"source": ["x"]}'))
    await s.buses.put_targets(scope, "r", None, [Target(id="1", arn=FN + "f")])
    await s.buses.put_targets(scope, "r", None, [Target(id="2", arn=FN + "fx")])
    found = await triggers_of(console, "f")
    assert [(t.kind, t.name, t.detail) for t in found] == [
        ("SNS topic", "t", "subscription"),
        ("EventBridge rule", "r", "on bus default"),
    ]
    assert await triggers_of(console, "g") == []
