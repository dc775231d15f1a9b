"""The composition root: a worker process builds the core services only, a server adds
the HTTP edge; both start and stop through wiring.lifecycle."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sendoff.config.settings import Settings
from sendoff.errors import ConfigError
from sendoff.server import build_core, build_http
from sendoff.wiring import lifecycle
from sendoff.wiring.services import built


def tasks() -> set[str]:
    return {task.get_name() for task in asyncio.all_tasks() if not task.done()}


def settings(tmp_path: Path) -> Settings:
    return Settings(store_url="memory://", data_dir=tmp_path / "data")


def test_the_core_has_every_domain_service_and_no_http_edge(tmp_path: Path) -> None:
    services = build_core(settings(tmp_path))
    assert services.queues and services.topics and services.buses and services.roles
    assert services.lambda_async and services.event_sources and services.event_configs
    assert {"sqs", "sns", "lambda", "events", "sns-http", "lambda-event"} <= set(
        services.deliveries.transports
    )
    assert services.routes == [] and services.fast_routes == []


def test_a_server_adds_the_lambda_api_the_protocols_and_the_console(tmp_path: Path) -> None:
    services = build_http(build_core(settings(tmp_path)))
    paths = {getattr(route, "path", "") for route in services.routes}
    assert "/2015-03-31/functions" in paths and "/console" in paths
    assert services.fast_routes


async def test_one_start_and_stop_for_a_worker(tmp_path: Path) -> None:
    services = build_core(settings(tmp_path))
    await lifecycle.start(services, work=True)
    try:
        assert "sendoff-scheduler" in tasks()
    finally:
        await lifecycle.stop(services)
    assert "sendoff-scheduler" not in tasks()


def test_an_install_that_needs_another_names_it() -> None:
    with pytest.raises(ConfigError, match="the SQS service is not built"):
        built(None, "the SQS service")
