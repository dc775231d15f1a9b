"""Jackson's messages for payloads that are not UTF-8 (api.jackson_errors)."""

from __future__ import annotations

import pytest

from sendoff.api.jackson_errors import SOURCE, VALID_VALUES, invalid_utf8_message


def at(line: int, column: int) -> str:
    return f"\n at [Source: {SOURCE}; line: {line}, column: {column}]"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # the two recorded cases (test_lambda_invoke_payload_encoding_error)
        (b"n\x87r\x9e\xe9\xb5\xd7I\xee\x9bmt", "Invalid UTF-8 start byte 0x87" + at(1, 3)),
        (
            b"\x99\xeb,j\x07\xa1zYh",
            f"Unexpected character ((CTRL-CHAR, code 153)): {VALID_VALUES}" + at(1, 1),
        ),
        # a printable Latin-1 character that cannot start a value, after whitespace
        (b"  \xa7x", f"Unexpected character ('\xa7' (code 167)): {VALID_VALUES}" + at(1, 3)),
        # inside a string, on the second line: columns count bytes from the line's start
        (b'{\n "a": "x\xff"}', "Invalid UTF-8 start byte 0xff" + at(2, 10)),
        # a lead byte without its continuation
        (b'"\xc3("', "Invalid UTF-8 middle byte 0x28" + at(1, 4)),
    ],
)
def test_messages(raw: bytes, expected: str) -> None:
    assert invalid_utf8_message(raw) == expected


def test_utf8_is_not_this_modules_business() -> None:
    assert invalid_utf8_message('{"a": "é"}'.encode()) is None
    assert invalid_utf8_message(b"{nope") is None
