"""What a test does when PostgreSQL or Redis cannot be reached, or a tool it drives (the
SAM CLI) is not installed: skip on a laptop, fail under CI (``CI=true``), where the
services must be up and the tools installed (.ci/run)."""

from __future__ import annotations

import os

import pytest


def unavailable(reason: str, *, what: str = "backend") -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} unavailable under CI: {reason}")
    pytest.skip(reason)
