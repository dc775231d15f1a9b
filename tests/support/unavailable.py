"""What a test does when PostgreSQL or Redis cannot be reached: skip on a laptop, fail
under CI (``CI=true``), where the services must be up."""

from __future__ import annotations

import os

import pytest


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"backend unavailable under CI: {reason}")
    pytest.skip(reason)
