"""Unicode digits in a Lambda request's numbers ("²" passes ``str.isdigit`` and fails
``int``) are answered as any other non-number is, never with a 500 (found by the fuzzer:
tests/fuzz/test_fuzz_lambda.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.functions import create_python, unique
from tests.support.server import ServerProcess


@pytest.mark.parametrize("odd", ["%C2%B2", "%E2%91%A0", "x"])
def test_markers_and_qualifiers_that_are_not_ascii_digits(
    server: ServerProcess, lambda_client: Any, odd: str
) -> None:
    name = unique("digits")
    create_python(lambda_client, name)
    versions = httpx.get(f"{server.url}/2015-03-31/functions/{name}/versions?Marker={odd}")
    assert versions.status_code == 200  # an unknown marker starts at the beginning
    assert [v["Version"] for v in versions.json()["Versions"]] == ["$LATEST"]
    configs = httpx.get(
        f"{server.url}/2019-09-25/functions/{name}/event-invoke-config/list?Marker={odd}"
    )
    assert (configs.status_code, configs.json()["Message"]) == (404, "Invalid marker")
    got = httpx.get(f"{server.url}/2015-03-31/functions/{name}?Qualifier={odd}")
    assert got.status_code == 404
    assert got.json()["Message"].startswith("Function not found: ")
