"""SNS (query): every implemented action, generated from botocore's model."""

from __future__ import annotations

import httpx

from tests.fuzz.model import implemented
from tests.fuzz.runner import Resources, examples, fuzz_operations, report


def test_sns_actions(http: httpx.Client, resources: Resources) -> None:
    problems = fuzz_operations(http, implemented("sns"), resources, examples(600))
    assert not problems, report(problems)
