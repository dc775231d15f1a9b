"""Every backend runs the same contract suite.

memory and sqlite always run. postgres and redis run against the services on loopback
(``SENDOFF_TEST_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/test``;
``SENDOFF_TEST_REDIS_URL``, default ``redis://127.0.0.1:6379/14``). When a service cannot be
reached the test skips on a laptop and fails under CI (``CI=true``). The per-backend set-up
(a fresh schema or key prefix per test) lives in tests/support/backend_<name>.py.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sendoff.store import Store, open_store
from tests.support.unavailable import unavailable

BACKENDS = ["memory", "sqlite", "postgres", "redis"]


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    backend = request.param
    if backend in ("memory", "sqlite"):
        url = "memory://" if backend == "memory" else f"sqlite:///{tmp_path}/contract.db"
        s = open_store(url)
        await s.open()
        yield s
        await s.close()
        return
    try:
        support = importlib.import_module(f"tests.support.backend_{backend}")
    except ModuleNotFoundError:
        unavailable(f"the {backend} backend's test support is missing")
    async with support.fresh_store(unavailable) as s:
        yield s
