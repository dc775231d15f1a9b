"""Filter patterns, with the examples of AWS's "Filter pattern syntax for metric filters,
subscription filters, and filter log events" (the events and the patterns as documented)."""

from __future__ import annotations

import json

import pytest

from sendoff.services.logs.filter_pattern import InvalidFilterPattern, parse
from sendoff.store.base import AllOf, AnyOf, Contains, JsonTest, Prefilter

UNSTRUCTURED = [
    "[ERROR 400] BAD REQUEST",
    "[ERROR 401] UNAUTHORIZED REQUEST",
    "[ERROR 419] MISSING ARGUMENTS",
    "[ERROR 420] INVALID ARGUMENTS",
]


def matching(pattern: str, events: list[str]) -> list[int]:
    compiled = parse(pattern)
    return [i for i, message in enumerate(events) if compiled.match(message)]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("", [0, 1, 2, 3]),
        ('""', [0, 1, 2, 3]),
        ("ERROR", [0, 1, 2, 3]),
        ("ERROR ARGUMENTS", [2, 3]),
        ("?ARGUMENTS ?REQUEST", [0, 1, 2, 3]),
        ("?BAD ?MISSING", [0, 2]),
        ('"INVALID ARGUMENTS"', [3]),
        ("ERROR -ARGUMENTS", [0, 1]),
        ("-ARGUMENTS", [0, 1]),
        ("error", []),  # case-sensitive
        ('"[ERROR 401]"', [1]),
        ("%4[01][019]\\]%", [0, 1, 2]),  # %regex%
        ("%ERROR 4(19|20)%", [2, 3]),
    ],
)
def test_terms(pattern: str, expected: list[int]) -> None:
    assert matching(pattern, UNSTRUCTURED) == expected


def test_prefilter_of_terms() -> None:
    assert parse("ERROR ARGUMENTS").prefilter == AllOf((Contains("ERROR"), Contains("ARGUMENTS")))
    assert parse('"INVALID ARGUMENTS" -x').prefilter == Contains("INVALID ARGUMENTS")
    assert parse("?a ?b").prefilter == AnyOf((Contains("a"), Contains("b")))
    assert parse("?a ?%b+%").prefilter is None  # a regular expression: no literal
    assert parse("-x").prefilter is None
    assert parse("").prefilter is None
    assert [parse(p).exact for p in ("a b", '"a b" ?c ?d', "a -b", "?a ?%b%", "%a%")] == [
        True, True, False, False, False]  # fmt: skip


JSON_EVENT = json.dumps(
    {
        "eventType": "UpdateTrail",
        "sourceIPAddress": "111.111.111.111",
        "arrayKey": ["value", "another value"],
        "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
        "SomeObject": None,
        "ThisFlag": True,
        "bandwidth": 80,
        "latency": 40,
        "user": {"id": 1, "email": "John.Stiles@example.com"},
        "users": [{"id": 2, "email": "John.Doe@example.com"}],
        "actions": ["GET", "PUT", "DELETE"],
        "coordinates": [[0, 10], [20, 30]],
    }
)


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        ('{ $.eventType = "UpdateTrail" }', True),
        ('{ $.eventType = "Update*" }', True),
        ('{ $.eventType = "*Trail" }', True),
        ("{ $.eventType = UpdateTrail }", True),
        ('{ $.eventType = "updatetrail" }', False),
        ("{ $.sourceIPAddress != 123.123.* }", True),
        ("{ $.sourceIPAddress != 111.111.* }", False),
        ('{ $.arrayKey[0] = "value" }', True),
        ('{ $.arrayKey[1] = "value" }', False),
        ("{ $.objectList[1].id = 2 }", True),
        ("{ $.objectList[0].id = 2 }", False),
        ("{ $.SomeObject IS NULL }", True),
        ("{ $.SomeOtherObject IS NULL }", False),
        ("{ $.SomeOtherObject NOT EXISTS }", True),
        ("{ $.SomeObject NOT EXISTS }", False),
        ("{ $.eventType EXISTS }", True),
        ("{ $.ThisFlag IS TRUE }", True),
        ("{ $.ThisFlag IS FALSE }", False),
        ("{ $.bandwidth > 75 }", True),
        ("{ $.latency < 50 }", True),
        ("{ $.latency >= 41 }", False),
        ("{ $.bandwidth <= 80 }", True),
        ("{ $.bandwidth = 80.0 }", True),
        ("{ $.bandwidth != 80 }", False),
        ('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', True),
        (
            '{ $.user.id = 2 && $.users[0].email = "John.Doe@example.com"'
            ' || $.actions[2] = "GET" }',
            False,
        ),
        (
            '{ $.user.id = 2 && $.users[0].email = "John.Doe@example.com"'
            ' || $.actions[2] = "DELETE" }',
            True,
        ),
        (
            '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch")'
            ' && $.actions[2] = "nomatch" }',
            False,
        ),
        (
            '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch")'
            ' && $.actions[2] = "DELETE" }',
            True,
        ),
        ("{ $.coordinates[1][0] = 20 }", True),
        ('{ $.actions[*] = "PUT" }', True),
        ('{ $.missing.deeper = "x" }', False),
    ],
)
def test_json(pattern: str, matches: bool) -> None:
    assert parse(pattern).match(JSON_EVENT) is matches


def test_json_patterns_never_match_text_and_read_a_lambda_prefix() -> None:
    pattern = parse('{ $.level = "ERROR" }')
    assert not pattern.match("level = ERROR")
    assert pattern.match('{"level": "ERROR"}')
    lambda_line = '2026-01-01T00:00:00.000Z\tabc-123\tINFO\t{"level": "ERROR", "n": 1}'
    assert pattern.match(lambda_line)


def test_json_prefilter_only_where_sure() -> None:
    brace = Contains("{")

    def inner(pattern: str) -> Prefilter | None:
        found = parse(pattern).prefilter
        if found == brace:
            return None
        assert isinstance(found, AllOf) and found.parts[0] == brace
        return found.parts[1]

    level = JsonTest(("level",), "=", "ERROR")
    assert inner('{ $.level = "ERROR" && $.n > 3 }') == AllOf(
        (AllOf((Contains("ERROR"), level)), JsonTest(("n",), ">", 3.0))
    )
    assert inner('{ $.level = "ERR*" }') is None
    assert inner('{ $.level != "ERROR" }') is None
    assert inner("{ $.a IS NULL }") is None
    assert inner('{ $.a = "x" || $.b IS TRUE }') is None
    assert inner("{ $.a[0] = 1 }") is None  # 1 may be written 1.0 or 1e0
    assert inner("{ $.a[0] = x || $.b < 2 }") == AnyOf((Contains("x"), JsonTest(("b",), "<", 2.0)))
    assert inner("{ $.a[*] > 1 }") is None


APACHE = [
    '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534',
    '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324',
    '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355',
    '127.0.0.2 - bob [10/Oct/2000:13:51:35 -0700] "GET /index.html HTTP/1.0" 404 80',
]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("[ip, user, username, timestamp, request, status_code, bytes]", [0, 1, 2, 3]),
        ("[ip, user, username, timestamp, request, status_code = 500, bytes]", [1]),
        ("[ip, user, username, timestamp, request, status_code = 5*, bytes]", [1]),
        ("[ip, user, username, timestamp, request, status_code != 200, bytes]", [1, 3]),
        (
            "[ip, user, username, timestamp, request,"
            " status_code = 404 || status_code = 500, bytes]",
            [1, 3],
        ),
        ("[ip, user, username, timestamp, request, status_code, bytes > 5000]", [1]),
        (
            "[ip, user, username, timestamp, request, status_code, bytes >= 1000 && bytes < 5000]",
            [0, 2],
        ),
        ("[ip = 127.0.0.2, ...]", [3]),
        ("[..., status_code = 200, bytes]", [0, 2]),
        ('[ip, user, username = "bob", ...]', [3]),
        ("[ip, user, username, timestamp, request = *html*, ...]", [3]),
        ("[ip, user, username, timestamp]", []),  # fewer fields than words, no "..."
    ],
)
def test_space_delimited(pattern: str, expected: list[int]) -> None:
    assert matching(pattern, APACHE) == expected


def test_hostile_regular_expressions_are_refused() -> None:
    for pattern in ("%(a+)+$%", "%(a|aa)*b%", "%(x*)*%", "%(a)\\1%", "%a(?=b)%"):
        with pytest.raises(InvalidFilterPattern):
            parse(pattern)
    assert parse("%a+b*[0-9]{2,3}%").match("xaab12")


def test_wildcards_match_without_backtracking() -> None:
    pattern = parse('{ $.a = "*a*a*a*a*a*a*a*a*a*a*a*a*b" }')
    assert not pattern.match(json.dumps({"a": "a" * 20_000}))
    assert pattern.match(json.dumps({"a": "a" * 12 + "b"}))
    assert parse('{ $.a = "ab*ba" }').match('{"a": "aba"}') is False  # parts may not overlap
    assert parse('{ $.a = "ab*ba" }').match('{"a": "abba"}')
    assert parse('{ $.a = "*" }').match('{"a": ""}')


def test_many_ellipses_match_in_linear_time() -> None:
    pattern = parse("[" + ", ".join(["...", "x = 1"] * 30) + ", last = 2]")
    words = " ".join(["0"] * 3000)
    assert not pattern.match(words)
    assert pattern.match(" ".join(["1"] * 30 + ["2"]))


@pytest.mark.parametrize(
    "pattern",
    ['{ $.a = "x" ', "{ $.a = }", "{ $.a ?? 3 }", "{ $.a IS MAYBE }", "[a, b", '"unclosed',
     "{ a = 1 }", "%(%"],
)  # fmt: skip
def test_invalid_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(InvalidFilterPattern):
        parse(pattern)
