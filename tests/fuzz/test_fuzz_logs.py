"""CloudWatch Logs (JSON 1.1): every implemented operation, generated from botocore's model."""

from __future__ import annotations

import httpx

from tests.fuzz.model import implemented
from tests.fuzz.runner import Resources, examples, fuzz_operations, report


def test_logs_operations(http: httpx.Client, resources: Resources) -> None:
    problems = fuzz_operations(http, implemented("logs"), resources, examples(400))
    assert not problems, report(problems)
