"""Jackson's wording for malformed JSON (sendoff.services.json_errors), table-driven.

Rows marked AWS were recorded from EventBridge TestEventPattern or SNS
SetSubscriptionAttributes/Subscribe (/work/shared/aws-recordings); the others follow
Jackson's ReaderBasedJsonParser messages.
"""

from __future__ import annotations

import pytest

from sendoff.services.events_pattern import InvalidEventPattern, compile_pattern, load_json
from sendoff.services.json_errors import jackson_error, source_location

VALUES = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"

CASES: list[tuple[str, str, int, int]] = [
    # AWS
    (
        "this is valid json but not a dict",
        f"Unrecognized token 'this': was expecting {VALUES}",
        1,
        5,
    ),
    ('{"not": closed mark"', f"Unrecognized token 'closed': was expecting {VALUES}", 1, 15),
    ("invalid-json", f"Unrecognized token 'invalid': was expecting {VALUES}", 1, 8),
    (
        "{'bad': 'quotation'}",
        "Unexpected character (''' (code 39)): was expecting double-quote to start field name",
        1,
        2,
    ),
    (
        "{invalidjson}",
        "Unexpected character ('i' (code 105)): was expecting double-quote to start field name",
        1,
        2,
    ),
    # Jackson
    (
        '{"a" 1}',
        "Unexpected character ('1' (code 49)): was expecting a colon to separate field name"
        " and value",
        1,
        6,
    ),
    (
        '{"a": [1 2]}',
        "Unexpected character ('2' (code 50)): was expecting comma to separate Array entries",
        1,
        10,
    ),
    (
        '{"a": [1]\n "b": [2]}',
        "Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries",
        2,
        2,
    ),
    (
        '{"a": [1,]}',
        f"Unexpected character (']' (code 93)): expected a valid value {VALUES}",
        1,
        10,
    ),
    ('{"a": "x', "Unexpected end-of-input: was expecting closing quote for a string value", 1, 9),
    (
        '{"a": [NaN]}',
        "Non-standard token 'NaN': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow",
        1,
        11,
    ),
    ('{"a": [01]}', "Invalid numeric value: Leading zeroes not allowed", 1, 9),
    ("", "No content to map due to end-of-input", 1, 1),
]


@pytest.mark.parametrize(("text", "reason", "line", "column"), CASES)
def test_jackson_reason_and_location(text: str, reason: str, line: int, column: int) -> None:
    with pytest.raises(ValueError):
        load_json(text)  # what sendoff parses with: Python refuses it too
    fault = jackson_error(text)
    assert fault is not None
    assert (fault.reason, fault.line, fault.column) == (reason, line, column)


def test_unclosed_array_names_its_start_marker() -> None:
    fault = jackson_error('{"a": [1')
    assert fault is not None
    assert fault.reason == (
        "Unexpected end-of-input: expected close marker for ARRAY (start marker at "
        '[Source: (String)"{"a": [1"; line: 1, column: 7])'
    )
    assert (fault.line, fault.column) == (1, 9)


def test_event_pattern_message_is_awss() -> None:
    # AWS: test_invalid_json_event_pattern[this is valid json but not a dict]
    with pytest.raises(InvalidEventPattern) as info:
        compile_pattern("this is valid json but not a dict")
    assert str(info.value) == (
        f"Event pattern is not valid. Reason: Unrecognized token 'this': was expecting {VALUES}"
        '\n at [Source: (String)"this is valid json but not a dict"; line: 1, column: 5]'
    )


def test_long_sources_are_cut_as_jackson_cuts_them() -> None:
    assert source_location("x" * 501) == '(String)"' + "x" * 500 + '"[truncated 1 chars]'
