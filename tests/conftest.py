"""Shared fixtures: a real server process per session, boto3 clients bound to it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.support.server import ServerProcess, start_server

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def pytest_configure(config: pytest.Config) -> None:
    """The servers the tests start run every async event in the server process (no
    worker children, the default) even where the environment asks for
    ``--worker-processes auto``, so what a test asserts about warm environments, process
    ids and timing does not depend on which process leased an event. The tests of worker
    processes ask for them (tests/integration/test_worker_processes.py). Set here, not at
    import: bench/ imports this module."""
    os.environ.setdefault("SENDOFF_WORKER_PROCESSES", "0")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path_factory.mktemp("server"), "--time-scale", "0.01")
    yield proc
    code = proc.stop()
    assert code == 0, f"server did not shut down cleanly ({code}):\n{proc.log()[-4000:]}"


def client_for(url: str, service: str, region: str = "us-east-1") -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, read_timeout=120),
    )


@pytest.fixture(scope="session")
def lambda_client(server: ServerProcess) -> Any:
    return client_for(server.url, "lambda")


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path / "srv", "--time-scale", "0.01")
    yield proc
    proc.stop()
