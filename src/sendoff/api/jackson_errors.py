"""The parse errors AWS's JSON front end (Jackson) gives for payloads that are not UTF-8.

The usual source is the AWS CLI v2, which base64-decodes ``--payload`` unless told
``--cli-binary-format raw-in-base64-out``: Lambda then receives bytes like
``n\\x87r\\x9e...``. AWS answers (``test_lambda TestLambdaErrors::
test_lambda_invoke_payload_encoding_error``)::

    Invalid UTF-8 start byte 0x87
     at [Source: REDACTED (...); line: 1, column: 3]
    Unexpected character ((CTRL-CHAR, code 153)): expected a valid value (JSON String, Number,
    Array, Object or token 'null', 'true' or 'false')
     at [Source: REDACTED (...); line: 1, column: 1]

This module reproduces the cases Jackson's byte parser reaches first: a first value that
starts with a byte that cannot start a value, a ``true``/``false``/``null`` broken by a
non-UTF-8 byte, and otherwise the first byte that is not UTF-8. Columns count bytes, as
Jackson's do: an unexpected character is reported at its own column, a bad UTF-8 byte
at the column after it (Jackson has consumed it).
"""

from __future__ import annotations

import unicodedata

SOURCE = "REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)"
VALID_VALUES = (
    "expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
)
_WHITESPACE = b" \t\r\n"
_KEYWORDS = {ord("t"): b"true", ord("f"): b"false", ord("n"): b"null"}
_VALUE_STARTS = frozenset(b'{["-0123456789tfn')


def invalid_utf8_message(raw: bytes) -> str | None:
    """Jackson's message for ``raw`` if it is not UTF-8; None when it is."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = exc.start
    else:
        return None
    start = 0
    while start < len(raw) and raw[start] in _WHITESPACE:
        start += 1
    first = raw[start]
    if first not in _VALUE_STARTS and first >= 0x80 and not _identifier_start(first):
        return _at(
            f"Unexpected character ({_char_description(first)}): {VALID_VALUES}", raw, start, 1
        )
    if first in _KEYWORDS:
        keyword = _KEYWORDS[first]
        index = start
        while index - start < len(keyword) and index < len(raw):
            if raw[index] != keyword[index - start]:
                break
            index += 1
        if index < len(raw) and raw[index] >= 0x80:
            bad = index  # Jackson decodes the rest of the token to show it, and fails here
    return _bad_byte(raw, bad)


def _bad_byte(raw: bytes, index: int) -> str:
    byte = raw[index]
    width = _sequence_length(byte)
    if width == 0:
        return _at(f"Invalid UTF-8 start byte 0x{byte:x}", raw, index, 2)
    for offset in range(1, width):
        at = index + offset
        if at >= len(raw):
            return _at("Unexpected end-of-input in character escape sequence", raw, at, 1)
        if raw[at] & 0xC0 != 0x80:
            return _at(f"Invalid UTF-8 middle byte 0x{raw[at]:x}", raw, at, 2)
    # a well-formed sequence Python refuses (an overlong form, a surrogate): Jackson takes
    # these; report the byte where Python stopped, as the nearest thing
    return _at(f"Invalid UTF-8 start byte 0x{byte:x}", raw, index, 2)


def _sequence_length(byte: int) -> int:
    """How many bytes a UTF-8 sequence starting with ``byte`` has (Jackson's test); 0 if it
    cannot start one (a continuation byte, 0xF8 and above)."""
    if byte & 0xE0 == 0xC0:
        return 2
    if byte & 0xF0 == 0xE0:
        return 3
    if byte & 0xF8 == 0xF0:
        return 4
    return 0


def _at(message: str, raw: bytes, index: int, offset: int) -> str:
    line_start = raw.rfind(b"\n", 0, index) + 1
    line = raw.count(b"\n", 0, index) + 1
    column = index - line_start + offset
    return f"{message}\n at [Source: {SOURCE}; line: {line}, column: {column}]"


def _identifier_start(byte: int) -> bool:
    """Java's Character.isJavaIdentifierStart for a Latin-1 code point."""
    char = chr(byte)
    return unicodedata.category(char) in ("Lu", "Ll", "Lt", "Lm", "Lo", "Nl", "Sc", "Pc")


def _char_description(byte: int) -> str:
    """Jackson's ``_getCharDesc``."""
    char = chr(byte)
    if unicodedata.category(char) == "Cc":
        return f"(CTRL-CHAR, code {byte})"
    return f"'{char}' (code {byte})"
