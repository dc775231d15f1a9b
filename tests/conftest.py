"""Shared fixtures: a real server process per session, boto3 clients bound to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.support.server import ServerProcess, start_server

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


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
