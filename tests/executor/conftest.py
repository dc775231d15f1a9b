"""Fixtures for the executor tests. Every test here starts real processes; an autouse
fixture checks that none outlives its test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.executor.executor_harness import Harness, child_pids


@pytest.fixture(autouse=True)
def no_leaked_processes() -> Iterator[None]:
    before = child_pids()
    yield
    leaked = child_pids() - before
    assert not leaked, f"processes left behind: {sorted(leaked)}"


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return Harness(tmp_path)
