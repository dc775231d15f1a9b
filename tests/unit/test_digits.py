"""``is_digits``: ASCII digits only (``str.isdigit`` also takes "²", which ``int`` refuses)."""

from __future__ import annotations

import pytest

from sendoff.model.digits import is_digits


@pytest.mark.parametrize(("text", "expected"), [
    ("0", True), ("0123456789", True), ("", False), ("-1", False), ("1.5", False),
    ("²", False), ("1²", False), ("①", False), ("١٢", False), (" 1", False),
])  # fmt: skip
def test_is_digits(text: str, expected: bool) -> None:
    assert is_digits(text) is expected
    if expected:
        assert int(text) >= 0
