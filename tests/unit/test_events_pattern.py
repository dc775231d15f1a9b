"""Table tests for the EventBridge event-pattern language (sendoff.services.events_pattern).

Expected outcomes follow the EventBridge user guide and the behaviour of AWS Event Ruler.
Several rows mirror cases that other projects recorded against real AWS (noted "AWS-recorded").
"""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

import pytest

from sendoff.errors import SendoffError
from sendoff.services.events_pattern import (
    EventPattern,
    InvalidEventPattern,
    PatternError,
    compile_pattern,
    matches,
)

EC2_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "012345679012",
    "time": "2017-10-02T16:24:49Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
    "detail": {
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.33",
        "instance-id": "i-000000aaaaaa00000",
        "state": "running",
        "eventVersion": "",
        "responseElements": None,
        "flag": True,
        "tags": ["blue", "green"],
        "nested": {"level": {"deep": "value"}},
    },
}


def ev(**detail: Any) -> dict[str, Any]:
    """A minimal event whose detail is exactly ``detail``."""
    return {"source": "test", "detail": detail}


# (id, pattern, event, expected)
MATCH_CASES: list[tuple[str, Any, Any, bool]] = [
    # --- exact values, structure, AND/OR
    ("exact-source", {"source": ["aws.ec2"]}, EC2_EVENT, True),
    ("exact-source-miss", {"source": ["aws.s3"]}, EC2_EVENT, False),
    ("exact-one-of-many", {"source": ["aws.s3", "aws.ec2"]}, EC2_EVENT, True),
    ("exact-case-sensitive", {"source": ["AWS.EC2"]}, EC2_EVENT, False),
    ("key-case-sensitive", {"Source": ["aws.ec2"]}, EC2_EVENT, False),
    ("nested-exact", {"detail": {"state": ["running"]}}, EC2_EVENT, True),
    ("nested-exact-miss", {"detail": {"state": ["stopped"]}}, EC2_EVENT, False),
    ("deep-nested", {"detail": {"nested": {"level": {"deep": ["value"]}}}}, EC2_EVENT, True),
    (
        "and-all-fields",
        {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]},
        EC2_EVENT,
        True,
    ),
    ("and-one-fails", {"source": ["aws.ec2"], "region": ["eu-west-1"]}, EC2_EVENT, False),
    ("missing-field", {"detail": {"nope": ["x"]}}, EC2_EVENT, False),
    ("missing-parent", {"nope": {"deeper": ["x"]}}, EC2_EVENT, False),
    ("ignores-other-fields", {"region": ["us-east-1"]}, EC2_EVENT, True),
    ("pattern-leaf-event-object", {"detail": {"nested": ["value"]}}, EC2_EVENT, False),
    ("pattern-object-event-scalar", {"detail": {"state": {"x": ["running"]}}}, EC2_EVENT, False),
    # --- numbers, booleans, null, empty string
    ("number-exact", {"detail": {"c-count": [5]}}, EC2_EVENT, True),
    ("number-int-vs-float", {"detail": {"c-count": [5.0]}}, EC2_EVENT, True),
    ("number-exponent", {"detail": {"x-limit": [3.018e2]}}, EC2_EVENT, True),
    ("number-not-string", {"detail": {"c-count": ["5"]}}, EC2_EVENT, False),
    ("string-not-number", {"a": [5]}, {"a": "5"}, False),
    ("big-account-number", {"account": [123456789012]}, {"account": 123456789012}, True),
    ("bool-true", {"detail": {"flag": [True]}}, EC2_EVENT, True),
    ("bool-not-string", {"detail": {"flag": ["true"]}}, EC2_EVENT, False),
    ("bool-not-one", {"a": [1]}, {"a": True}, False),
    ("one-not-bool", {"a": [True]}, {"a": 1}, False),
    ("null-value", {"detail": {"responseElements": [None]}}, EC2_EVENT, True),
    ("null-not-empty-string", {"detail": {"responseElements": [""]}}, EC2_EVENT, False),
    ("empty-string", {"detail": {"eventVersion": [""]}}, EC2_EVENT, True),
    ("empty-string-not-null", {"detail": {"eventVersion": [None]}}, EC2_EVENT, False),
    ("null-not-missing", {"detail": {"absent": [None]}}, EC2_EVENT, False),
    # --- event arrays
    ("array-any-element", {"detail": {"tags": ["green"]}}, EC2_EVENT, True),
    ("array-none", {"detail": {"tags": ["red"]}}, EC2_EVENT, False),
    ("array-intersection", {"resources": ["x", EC2_EVENT["resources"][0]]}, EC2_EVENT, True),
    ("array-empty-null", {"resources": [None]}, {"resources": []}, False),  # AWS-recorded
    ("array-nested-lists", {"a": [3]}, {"a": [[1, 2], [3]]}, True),
    (
        "array-of-objects",
        {"employees": {"firstName": ["Anna"]}},
        {"employees": [{"firstName": "John"}, {"firstName": "Anna"}]},
        True,
    ),
    (
        "array-consistency",
        {"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}},
        {
            "employees": [
                {"firstName": "Anna", "lastName": "Smith"},
                {"firstName": "Peter", "lastName": "Jones"},
            ]
        },
        False,
    ),
    (
        "array-consistency-same-element",
        {"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}},
        {"employees": [{"firstName": "Anna", "lastName": "Smith"}, {"firstName": "Peter"}]},
        True,
    ),
    # --- prefix / suffix / equals-ignore-case
    ("prefix", {"time": [{"prefix": "2017-10-02"}]}, EC2_EVENT, True),
    ("prefix-miss", {"time": [{"prefix": "2018"}]}, EC2_EVENT, False),
    ("prefix-empty-matches-strings", {"a": [{"prefix": ""}]}, {"a": ""}, True),
    ("prefix-not-number", {"detail": {"c-count": [{"prefix": "5"}]}}, EC2_EVENT, False),
    (
        "prefix-ignore-case",
        {"a": [{"prefix": {"equals-ignore-case": "EventB"}}]},
        {"a": "eventbridge"},
        True,
    ),
    (
        "prefix-ignore-case-miss",
        {"a": [{"prefix": {"equals-ignore-case": "EventB"}}]},
        {"a": "xeventb"},
        False,
    ),
    ("suffix", {"f": [{"suffix": ".png"}]}, {"f": "image.png"}, True),
    ("suffix-case", {"f": [{"suffix": ".png"}]}, {"f": "image.PNG"}, False),
    (
        "suffix-ignore-case",
        {"f": [{"suffix": {"equals-ignore-case": ".png"}}]},
        {"f": "A.PNG"},
        True,
    ),
    ("equals-ignore-case", {"source": [{"equals-ignore-case": "AWS.Ec2"}]}, EC2_EVENT, True),
    ("equals-ignore-case-miss", {"source": [{"equals-ignore-case": "aws.ec"}]}, EC2_EVENT, False),
    ("equals-ignore-case-empty", {"a": [{"equals-ignore-case": ""}]}, {"a": ""}, True),
    # --- wildcard
    ("wildcard", {"a": [{"wildcard": "Simple*Service"}]}, {"a": "SimpleNotificationService"}, True),
    ("wildcard-empty-run", {"a": [{"wildcard": "Simple*Service"}]}, {"a": "SimpleService"}, True),
    ("wildcard-miss", {"a": [{"wildcard": "Simple*Service"}]}, {"a": "SimpleServices"}, False),
    ("wildcard-multi", {"a": [{"wildcard": "*/lib/*.jar"}]}, {"a": "/usr/lib/x.jar"}, True),
    ("wildcard-escaped-star", {"a": [{"wildcard": "a\\*b"}]}, {"a": "a*b"}, True),
    ("wildcard-escaped-star-literal", {"a": [{"wildcard": "a\\*b"}]}, {"a": "axxb"}, False),
    ("wildcard-escaped-backslash", {"a": [{"wildcard": "a\\\\*"}]}, {"a": "a\\tail"}, True),
    ("wildcard-regex-chars-literal", {"a": [{"wildcard": "a.c*"}]}, {"a": "abc"}, False),
    ("wildcard-multiline", {"a": [{"wildcard": "x*y"}]}, {"a": "x\ny"}, True),
    ("wildcard-not-number", {"a": [{"wildcard": "*"}]}, {"a": 5}, False),
    (
        "wildcard-repeating",  # AWS-recorded
        {"f": [{"wildcard": "/Users/*/dir/dir/dir/dir/dir/doc.txt"}]},
        {"f": "/Users/ls_user/dir/dir/dir/dir/dir/doc.txt"},
        True,
    ),
    ("wildcard-overlap-ends", {"a": [{"wildcard": "ab*ba"}]}, {"a": "aba"}, False),
    ("wildcard-exact-ends", {"a": [{"wildcard": "ab*ba"}]}, {"a": "abba"}, True),
    ("wildcard-only-star", {"a": [{"wildcard": "*"}]}, {"a": ""}, True),
    ("wildcard-no-star", {"a": [{"wildcard": "abc"}]}, {"a": "abcd"}, False),
    ("wildcard-pieces-in-order", {"a": [{"wildcard": "*b*a*"}]}, {"a": "ab"}, False),
    ("wildcard-pieces-leftmost", {"a": [{"wildcard": "x*ab*abc"}]}, {"a": "xabababc"}, True),
    ("wildcard-trailing-star", {"a": [{"wildcard": "*a*a*a*a*"}]}, {"a": "aaaa"}, True),
    # --- anything-but
    ("ab-string", {"detail": {"state": [{"anything-but": "initializing"}]}}, EC2_EVENT, True),
    ("ab-string-excluded", {"detail": {"state": [{"anything-but": "running"}]}}, EC2_EVENT, False),
    ("ab-null-matches", {"s": [{"anything-but": "init"}]}, {"s": None}, True),  # AWS-recorded
    ("ab-missing-no-match", {"s": [{"anything-but": "init"}]}, {"t": 1}, False),  # AWS-recorded
    ("ab-other-type", {"s": [{"anything-but": "5"}]}, {"s": 5}, True),
    ("ab-number", {"x": [{"anything-but": 123}]}, {"x": 124}, True),
    ("ab-number-numeric-equality", {"x": [{"anything-but": 123}]}, {"x": 123.0}, False),
    (
        "ab-number-list",
        {"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}},
        EC2_EVENT,
        True,
    ),
    ("ab-number-list-hit", {"x": [{"anything-but": [100, 200, 300]}]}, {"x": 300}, False),
    ("ab-number-zero", {"x": [{"anything-but": 0}]}, {"x": 0}, False),
    (
        "ab-string-list",
        {"s": [{"anything-but": ["stopped", "overloaded"]}]},
        {"s": "running"},
        True,
    ),
    (
        "ab-string-list-hit",
        {"s": [{"anything-but": ["stopped", "overloaded"]}]},
        {"s": "stopped"},
        False,
    ),
    ("ab-array-any-outside", {"p": [{"anything-but": [100, 500]}]}, {"p": [100, 50]}, True),
    ("ab-array-all-inside", {"p": [{"anything-but": [100, 500]}]}, {"p": [100, 500]}, False),
    ("ab-prefix", {"s": [{"anything-but": {"prefix": "init"}}]}, {"s": "running"}, True),
    ("ab-prefix-hit", {"s": [{"anything-but": {"prefix": "init"}}]}, {"s": "initializing"}, False),
    (
        "ab-prefix-number",
        {"s": [{"anything-but": {"prefix": "init"}}]},
        {"s": 12},
        True,
    ),  # AWS-recorded
    (
        "ab-prefix-null",
        {"s": [{"anything-but": {"prefix": "init"}}]},
        {"s": None},
        True,
    ),  # AWS-recorded
    ("ab-prefix-list", {"s": [{"anything-but": {"prefix": ["a", "b"]}}]}, {"s": "bee"}, False),
    ("ab-suffix", {"f": [{"anything-but": {"suffix": ".png"}}]}, {"f": "a.jpg"}, True),
    ("ab-suffix-hit", {"f": [{"anything-but": {"suffix": ".png"}}]}, {"f": "a.png"}, False),
    (
        "ab-ignore-case",
        {"s": [{"anything-but": {"equals-ignore-case": "INIT"}}]},
        {"s": "Init"},
        False,
    ),
    (
        "ab-ignore-case-other",
        {"s": [{"anything-but": {"equals-ignore-case": ["a", "b"]}}]},
        {"s": "c"},
        True,
    ),
    ("ab-wildcard", {"p": [{"anything-but": {"wildcard": "*/lib/*"}}]}, {"p": "/usr/bin/x"}, True),
    (
        "ab-wildcard-hit",
        {"p": [{"anything-but": {"wildcard": "*/lib/*"}}]},
        {"p": "/usr/lib/x"},
        False,
    ),
    (
        "ab-wildcard-empty",
        {"p": [{"anything-but": {"wildcard": ""}}]},
        {"p": "dir/file"},
        True,
    ),  # AWS-recorded
    # --- numeric
    ("numeric-range", {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}}, EC2_EVENT, True),
    (
        "numeric-open-top",
        {"detail": {"c-count": [{"numeric": [">", 0, "<", 5]}]}},
        EC2_EVENT,
        False,
    ),
    ("numeric-lt", {"detail": {"d-count": [{"numeric": ["<", 10]}]}}, EC2_EVENT, True),
    ("numeric-lte-edge", {"a": [{"numeric": ["<=", 10]}]}, {"a": 10}, True),
    ("numeric-gt-edge", {"a": [{"numeric": [">", 10]}]}, {"a": 10}, False),
    ("numeric-gte-edge", {"a": [{"numeric": [">=", 10]}]}, {"a": 10.0}, True),
    ("numeric-eq", {"detail": {"x-limit": [{"numeric": ["=", 3.018e2]}]}}, EC2_EVENT, True),
    ("numeric-eq-int-float", {"a": [{"numeric": ["=", 5]}]}, {"a": 5.0}, True),
    ("numeric-decimal-exact", {"a": [{"numeric": ["=", 0.3]}]}, {"a": 0.3}, True),
    ("numeric-negative", {"a": [{"numeric": ["<", 0]}]}, {"a": -0.5}, True),
    ("numeric-string-no", {"a": [{"numeric": [">", 0]}]}, {"a": "5"}, False),  # AWS-recorded
    ("numeric-null-no", {"a": [{"numeric": [">", 0]}]}, {"a": None}, False),  # AWS-recorded
    ("numeric-bool-no", {"a": [{"numeric": [">", 0]}]}, {"a": True}, False),
    ("numeric-array", {"a": [{"numeric": [">", 10]}]}, {"a": [1, 2, 30]}, True),
    ("numeric-beyond-limit", {"a": [{"numeric": [">", 0]}]}, {"a": 6e9}, False),
    (
        "numeric-or-anything-but",
        {"a": [{"numeric": [">", 100]}, {"anything-but": 5}]},
        {"a": 4},
        True,
    ),
    # --- exists
    ("exists-true", {"detail": {"state": [{"exists": True}]}}, EC2_EVENT, True),
    ("exists-true-missing", {"detail": {"nope": [{"exists": True}]}}, EC2_EVENT, False),
    ("exists-true-null", {"detail": {"responseElements": [{"exists": True}]}}, EC2_EVENT, True),
    (
        "exists-true-empty-array",
        {"resources": [{"exists": True}]},
        {"resources": []},
        False,
    ),  # AWS-recorded
    (
        "exists-true-object",
        {"d": {"k": [{"exists": True}]}},
        {"d": {"k": {"S": "x"}}},
        False,
    ),  # AWS-recorded
    ("exists-false", {"detail": {"nope": [{"exists": False}]}}, EC2_EVENT, True),
    ("exists-false-present", {"detail": {"state": [{"exists": False}]}}, EC2_EVENT, False),
    ("exists-false-object", {"detail": {"nested": [{"exists": False}]}}, EC2_EVENT, True),
    ("exists-false-empty-array", {"resources": [{"exists": False}]}, {"resources": []}, True),
    (
        "exists-false-missing-parents",  # AWS-recorded
        {"detail": {"l1": {"l2:": {"l3": {"l4": [{"exists": False}]}}}}},
        {"detail": {"l1": {"l2": "l2 value"}}},
        True,
    ),
    (
        "exists-false-deep-present",  # AWS-recorded
        {"detail": {"l1": {"l2": {"l3": [{"exists": False}]}}}},
        {"detail": {"l1": {"l2": {"l3": "v"}}}},
        False,
    ),
    (
        "exists-in-array-of-objects",  # AWS-recorded
        {"detail": {"automations": {"id": [{"exists": True}]}}},
        {"detail": {"automations": [{"k": "v"}, {"id": "match"}, {"k2": "v2"}]}},
        True,
    ),
    (
        "exists-false-or-anything-but",  # AWS-recorded
        {
            "dynamodb": {
                "NewImage": {"homemade": {"S": [{"anything-but": ["roses"]}, {"exists": False}]}}
            }
        },
        {"dynamodb": {"NewImage": {"purchased": {"N": "789"}}}},
        True,
    ),
    # --- cidr and IP addresses
    ("cidr-v4", {"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}, EC2_EVENT, True),
    ("cidr-v4-miss", {"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}}, EC2_EVENT, False),
    ("cidr-v4-top-edge", {"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": "10.0.0.255"}, True),
    ("cidr-v4-wide", {"ip": [{"cidr": "10.0.0.0/8"}]}, {"ip": "10.200.3.4"}, True),
    ("cidr-v6", {"ip": [{"cidr": "2001:db8::/32"}]}, {"ip": "2001:db8:1234::1"}, True),
    ("cidr-v6-miss", {"ip": [{"cidr": "2001:db8::/32"}]}, {"ip": "2001:db9::1"}, False),
    ("cidr-v6-vs-v4", {"ip": [{"cidr": "::/0"}]}, {"ip": "10.0.0.1"}, False),
    ("cidr-not-ip", {"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": "hello"}, False),
    ("cidr-number", {"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": 123}, False),  # AWS-recorded
    ("exact-ip-equivalent-v6", {"ip": ["2001:db8::1"]}, {"ip": "2001:0db8:0:0:0:0:0:1"}, True),
    ("exact-ip-plain", {"ip": ["10.0.0.1"]}, {"ip": "10.0.0.1"}, True),
    # --- $or
    (
        "or-top-level",
        {"$or": [{"source": ["aws.s3"]}, {"region": ["us-east-1"]}]},
        EC2_EVENT,
        True,
    ),
    ("or-none", {"$or": [{"source": ["aws.s3"]}, {"region": ["eu"]}]}, EC2_EVENT, False),
    (
        "or-with-and",
        {"source": ["aws.s3"], "$or": [{"region": ["us-east-1"]}, {"account": ["x"]}]},
        EC2_EVENT,
        False,
    ),
    (
        "or-nested-level",
        {"detail": {"$or": [{"c-count": [{"numeric": [">", 10]}]}, {"d-count": [3]}]}},
        EC2_EVENT,
        True,
    ),
    (
        "or-branch-with-and",
        {"$or": [{"source": ["aws.ec2"], "region": ["eu"]}, {"id": ["nope"]}]},
        EC2_EVENT,
        False,
    ),
    (
        "or-nested-or",
        {
            "source": ["aws.ec2"],
            "$or": [
                {"region": ["eu"]},
                {"detail": {"$or": [{"state": ["stopped"]}, {"flag": [True]}]}},
            ],
        },
        EC2_EVENT,
        True,
    ),
    (
        "or-parallel",
        {
            "$or": [{"source": ["aws.ec2"]}, {"region": ["eu"]}],
            "detail": {"$or": [{"state": ["x"]}, {"c-count": [6]}]},
        },
        EC2_EVENT,
        False,
    ),
    (
        "or-exists-false",
        {"$or": [{"detail": {"nope": [{"exists": False}]}}, {"source": ["x"]}]},
        EC2_EVENT,
        True,
    ),
    # --- complex example from the user guide
    (
        "complex-example",
        {
            "time": [{"prefix": "2017-10-02"}],
            "detail": {
                "state": [{"anything-but": "initializing"}],
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"anything-but": [100, 200, 300]}],
                "source-ip": [{"cidr": "10.0.0.0/8"}],
            },
        },
        EC2_EVENT,
        True,
    ),
    (
        "complex-example-miss",  # AWS-recorded: x-limit 300 is excluded
        {
            "detail": {
                "state": [{"anything-but": "initializing"}],
                "x-limit": [{"anything-but": [100, 200, 300]}],
            }
        },
        ev(state="processing", **{"x-limit": 300}),
        False,
    ),
    ("mixed-value-kinds", {"a": ["x", 1, None, {"prefix": "pre"}]}, {"a": "prefix"}, True),
]


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [case[1:] for case in MATCH_CASES],
    ids=[case[0] for case in MATCH_CASES],
)
def test_pattern_matching(pattern: Any, event: Any, expected: bool) -> None:
    assert compile_pattern(pattern).matches(event) is expected
    # The JSON-text form compiles to the same thing.
    assert compile_pattern(json.dumps(pattern)).matches(event) is expected


@pytest.mark.timeout(20)
def test_wildcard_cost_is_linear_in_the_value() -> None:
    """Issue #17: ``*a*a*a*a*b`` on 250 x "a" took 6.5 s as a backtracking regex and stalled
    every request. Matched piece by piece it is linear; 200,000 characters would never
    finish with the regex (the timeout is a hang guard, not a performance target)."""
    pattern = compile_pattern({"detail": {"x": [{"wildcard": "*a*a*a*a*b"}]}})
    assert not pattern.matches({"detail": {"x": "a" * 200_000}})
    assert pattern.matches({"detail": {"x": "a" * 200_000 + "b"}})


def test_case_ids_are_unique() -> None:
    ids = [case[0] for case in MATCH_CASES]
    assert len(ids) == len(set(ids))


MIXED = (
    "Inside anything but list, either all values are number or string, mixed type is not supported"
)

# (id, pattern, reason)
INVALID_CASES: list[tuple[str, Any, str]] = [
    (
        "not-object",
        '["not", "a", "dict"]',
        'Filter is not an object\n at [Source: (String)"["not", "a", "dict"]"; line: 1, column: 2]',
    ),
    ("not-object-mapping", 42, "Filter is not an object"),
    ("empty-object", {}, "Empty objects are not allowed"),
    ("empty-nested-object", {"detail": {}}, "Empty objects are not allowed"),
    ("scalar-int", {"int": 42}, '"int" must be an object or an array'),
    ("scalar-string", {"string": "my-value"}, '"string" must be an object or an array'),
    ("empty-array", {"resources": []}, "Empty arrays are not allowed"),
    ("nested-array", {"a": [["x"]]}, "Match value must be String, number, true, false, or null"),
    ("empty-match-expression", {"a": [{}]}, "Match expression name not found"),
    ("unknown-op", {"a": [{"contains": "x"}]}, "Unrecognized match type contains"),
    ("op-case-exists", {"my_key": [{"EXISTS": True}]}, "Unrecognized match type EXISTS"),
    ("op-case-numeric", {"e": [{"NUMERIC": ["=", 5]}]}, "Unrecognized match type NUMERIC"),
    (
        "two-keys",
        {"a": [{"prefix": "a", "suffix": "b"}]},
        "Only one key allowed in match expression",
    ),
    ("prefix-int", {"time": [{"prefix": 123}]}, "prefix match pattern must be a string"),
    ("prefix-list", {"time": [{"prefix": ["2022"]}]}, "prefix match pattern must be a string"),
    ("suffix-int", {"f": [{"suffix": 123}]}, "suffix match pattern must be a string"),
    (
        "prefix-bad-inner",
        {"a": [{"prefix": {"wildcard": "x"}}]},
        "Unsupported prefix pattern: wildcard",
    ),
    ("suffix-bad-inner", {"a": [{"suffix": {"x": "y"}}]}, "Unsupported suffix pattern: x"),
    ("prefix-empty-inner", {"a": [{"prefix": {}}]}, "Prefix expression name not found"),
    (
        "prefix-eic-int",
        {"a": [{"prefix": {"equals-ignore-case": 1}}]},
        "equals-ignore-case match pattern must be a string",
    ),
    (
        "eic-list",
        {"a": [{"equals-ignore-case": ["x"]}]},
        "equals-ignore-case match pattern must be a string",
    ),
    (
        "eic-object",
        {"a": [{"equals-ignore-case": {"prefix": "ec2"}}]},
        "equals-ignore-case match pattern must be a string",
    ),
    ("wildcard-int", {"a": [{"wildcard": 123}]}, "wildcard match pattern must be a string"),
    ("wildcard-list", {"a": [{"wildcard": ["*"]}]}, "wildcard match pattern must be a string"),
    (
        "wildcard-consecutive",  # AWS-recorded position
        {"a": [{"wildcard": "arn:aws:events:us-east-1:**:event-bus/*"}]},
        "Consecutive wildcard characters at pos 26",
    ),
    ("wildcard-bad-escape", {"a": [{"wildcard": "a\\b"}]}, "Invalid escape character at pos 2"),
    (
        "wildcard-trailing-escape",
        {"a": [{"wildcard": "ab\\"}]},
        "Invalid escape character at pos 3",
    ),
    (
        "exists-string",
        {"a": [{"exists": "true"}]},
        "exists match pattern must be either true or false.",
    ),
    (
        "exists-two-keys",
        {"a": [{"exists": True, "x": 1}]},
        "Only one key allowed in match expression",
    ),
    ("numeric-not-array", {"a": [{"numeric": 5}]}, "Value of numeric must be an array."),
    ("numeric-empty", {"a": [{"numeric": []}]}, "Invalid member in numeric match: ]"),
    ("numeric-first-number", {"a": [{"numeric": [5]}]}, "Invalid member in numeric match: 5"),
    ("numeric-bad-op", {"a": [{"numeric": ["!=", 5]}]}, "Unrecognized numeric range operator: !="),
    ("numeric-eq-string", {"a": [{"numeric": ["=", "5"]}]}, "Value of equals must be numeric"),
    ("numeric-lt-missing", {"c": [{"numeric": [">", 0, "<"]}]}, "Value of < must be numeric"),
    ("numeric-gte-string", {"a": [{"numeric": [">=", "x"]}]}, "Value of >= must be numeric"),
    ("numeric-bad-top-op", {"c": [{"numeric": [">", 0, ">", 0]}]}, "Bad numeric range operator: >"),
    ("numeric-bad-top-value", {"c": [{"numeric": [">", 0, 5]}]}, "Bad value in numeric range: 5"),
    (
        "numeric-eq-extra",
        {"a": [{"numeric": ["=", 1, "<", 2]}]},
        "Too many elements in numeric expression",
    ),
    (
        "numeric-lt-extra",
        {"a": [{"numeric": ["<", 1, ">", 0]}]},
        "Too many elements in numeric expression",
    ),
    (
        "numeric-too-many-terms",
        {"a": [{"numeric": [">", 0, "<", 5, "x"]}]},
        "Too many terms in numeric range expression",
    ),
    ("numeric-inverted", {"a": [{"numeric": [">", 5, "<", 1]}]}, "Bottom must be less than top"),
    (
        "numeric-empty-range",
        {"a": [{"numeric": [">=", 5, "<=", 5]}]},
        "Bottom must be less than top",
    ),
    (
        "numeric-out-of-range",
        {"a": [{"numeric": ["<", 6e9]}]},
        "Value must be between -5.0E9 and 5.0E9, inclusive",
    ),
    (
        "numeric-precision",
        {"a": [{"numeric": ["=", 0.0000001]}]},
        "Only values upto 6 decimals are supported",
    ),
    (
        "numeric-extra-key",
        {"a": [{"numeric": [">", 0], "prefix": "x"}]},
        "Too many elements in numeric expression",
    ),
    (
        "ab-null",
        {"a": [{"anything-but": None}]},
        "Value of anything-but must be an array or single string/number value.",
    ),
    (
        "ab-bool",
        {"a": [{"anything-but": True}]},
        "Value of anything-but must be an array or single string/number value.",
    ),
    (
        "ab-list-null",
        {"a": [{"anything-but": ["x", None]}]},
        "Inside anything but list, start|null|boolean is not supported.",
    ),
    (
        "ab-list-object",
        {"a": [{"anything-but": [{"wildcard": "*x"}]}]},
        "Inside anything but list, start|null|boolean is not supported.",
    ),
    (
        "ab-list-mixed",
        {"a": [{"anything-but": ["x", 1]}]},
        MIXED,
    ),
    (
        "ab-list-empty",
        {"a": [{"anything-but": []}]},
        MIXED,
    ),
    ("ab-empty-object", {"a": [{"anything-but": {}}]}, "Anything-But expression name not found"),
    (
        "ab-unsupported",
        {"a": [{"anything-but": {"numeric": [">", 1]}}]},
        "Unsupported anything-but pattern: numeric",
    ),
    (
        "ab-prefix-int",
        {"s": [{"anything-but": {"prefix": 123}}]},
        "prefix/suffix match pattern must be a string",
    ),
    (
        "ab-suffix-list-int",
        {"s": [{"anything-but": {"suffix": [123, ".txt"]}}]},
        "prefix/suffix match pattern must be a string",
    ),
    (
        "ab-prefix-empty",
        {"s": [{"anything-but": {"prefix": ""}}]},
        "Null prefix/suffix not allowed",
    ),
    (
        "ab-prefix-ignore-case",  # AWS-recorded
        {"f": [{"anything-but": {"prefix": {"equals-ignore-case": "file"}}}]},
        "Value of anything-but must be an array or single string/number value.",
    ),
    (
        "ab-eic-number",  # AWS-recorded
        {"s": [{"anything-but": {"equals-ignore-case": 123}}]},
        "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
    ),
    (
        "ab-wildcard-list-int",  # AWS-recorded
        {"s": [{"anything-but": {"wildcard": [123, "*/dir/*"]}}]},
        "wildcard match pattern must be a string",
    ),
    (
        "ab-wildcard-bad",
        {"s": [{"anything-but": {"wildcard": "a**"}}]},
        "Consecutive wildcard characters at pos 2",
    ),
    (
        "ab-number-out-of-range",
        {"s": [{"anything-but": [1e10]}]},
        "Value must be between -5.0E9 and 5.0E9, inclusive",
    ),
    (
        "ab-two-keys",
        {"s": [{"anything-but": {"prefix": "a", "suffix": "b"}}]},
        "Too many elements in numeric expression",
    ),
    ("cidr-type", {"ip": [{"cidr": ["bad-type"]}]}, "prefix match pattern must be a string"),
    ("cidr-no-slash", {"ip": [{"cidr": "10.0.0.0"}]}, "Malformed CIDR, one '/' required"),
    ("cidr-two-slashes", {"ip": [{"cidr": "10.0.0.0/8/8"}]}, "Malformed CIDR, one '/' required"),
    (
        "cidr-bad-mask",
        {"ip": [{"cidr": "10.0.0.0/x"}]},
        "Malformed CIDR, mask bits must be an integer",
    ),
    (
        "cidr-negative-mask",
        {"ip": [{"cidr": "10.0.0.0/-1"}]},
        "Malformed CIDR, mask bits must not be negative",
    ),
    ("cidr-bad-ip", {"ip": [{"cidr": "xx.11.xx/24"}]}, "Nonstandard IP address: xx.11.xx"),
    (
        "cidr-bad-ip-v6",  # AWS-recorded
        {"ip": [{"cidr": "xxxx:db8:1234:1a00::/64"}]},
        "Nonstandard IP address: xxxx:db8:1234:1a00::",
    ),
    ("cidr-invalid-ip", {"ip": [{"cidr": "999.1.1.1/8"}]}, "Invalid IP address: 999.1.1.1"),
    ("cidr-v4-mask", {"ip": [{"cidr": "10.0.0.0/32"}]}, "IPv4 mask bits must be < 32"),
    ("cidr-v6-mask", {"ip": [{"cidr": "::/128"}]}, "IPv6 mask bits must be < 128"),
    ("or-not-array", {"$or": {"a": ["x"]}}, "It must be an Array followed with $or."),
    (
        "or-one-branch",
        {"$or": [{"a": ["x"]}]},
        "There must have at least 2 Objects in $or relationship.",
    ),
    ("or-empty", {"$or": []}, "There must have at least 2 Objects in $or relationship."),
    (
        "or-scalar-branch",
        {"$or": [{"a": ["x"]}, "b"]},
        "Only JSON object is allowed in array of $or relationship.",
    ),
    (
        "or-reserved-name",
        {"$or": [{"numeric": [1]}, {"prefix": ["x"]}]},
        "numeric is Ruler reserved fieldName which cannot be used inside $or.",
    ),
    (
        "or-reserved-nested",
        {"$or": [{"a": {"exists": ["x"]}}, {"b": ["y"]}]},
        "exists is Ruler reserved fieldName which cannot be used inside $or.",
    ),
    ("or-empty-branch", {"$or": [{}, {"a": ["x"]}]}, "Empty objects are not allowed"),
]


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [case[1:] for case in INVALID_CASES],
    ids=[case[0] for case in INVALID_CASES],
)
def test_invalid_patterns(pattern: Any, reason: str) -> None:
    with pytest.raises(InvalidEventPattern) as info:
        compile_pattern(pattern)
    assert info.value.reason == reason
    assert str(info.value) == f"Event pattern is not valid. Reason: {reason}"


def test_invalid_case_ids_are_unique() -> None:
    ids = [case[0] for case in INVALID_CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    "text",
    ["this is not json", "{'bad': 'quotation'}", '{"not": closed mark"', '{"a": [NaN]}', ""],
)
def test_malformed_json_is_invalid(text: str) -> None:
    with pytest.raises(InvalidEventPattern, match=r"^Event pattern is not valid\. Reason: "):
        compile_pattern(text)


def test_error_hierarchy() -> None:
    with pytest.raises(SendoffError):
        compile_pattern({})
    assert issubclass(InvalidEventPattern, PatternError)


def test_reserved_names_allowed_outside_or() -> None:
    assert matches({"numeric": ["x"]}, {"numeric": "x"})


def test_dollar_or_inside_a_leaf_is_an_unknown_match_type() -> None:
    with pytest.raises(InvalidEventPattern, match="Unrecognized match type \\$or"):
        compile_pattern({"a": [{"$or": [1, 2]}]})


def test_duplicate_keys_last_one_wins() -> None:
    # AWS-recorded: with a key given twice, the last occurrence is the one that counts.
    text = '{"detail": {"location": [{"prefix": "us-"}], "location": [{"anything-but": "x"}]}}'
    assert compile_pattern(text).matches({"detail": {"location": "eu-central-1"}})


def test_json_text_keeps_decimals_exact() -> None:
    pattern = compile_pattern('{"a": [{"numeric": ["=", 0.1]}], "b": [0.30]}')
    assert pattern.matches({"a": 0.1, "b": Decimal("0.3")})
    assert not pattern.matches({"a": 0.1000001, "b": 0.3})


def test_matches_convenience_accepts_every_form() -> None:
    pattern = {"source": ["aws.ec2"]}
    compiled = compile_pattern(pattern)
    assert matches(pattern, EC2_EVENT)
    assert matches(json.dumps(pattern), EC2_EVENT)
    assert matches(compiled, EC2_EVENT)
    assert not matches(compiled, {"source": "aws.s3"})


def test_compiled_pattern_is_frozen_and_reusable() -> None:
    compiled = compile_pattern({"detail": {"state": ["running"]}})
    assert isinstance(compiled, EventPattern)
    with pytest.raises(dataclasses.FrozenInstanceError):
        compiled.root = compiled.root  # type: ignore[misc]
    assert all(compiled.matches(EC2_EVENT) for _ in range(3))
    assert hash(compiled) == hash(compile_pattern({"detail": {"state": ["running"]}}))


def test_non_mapping_event_parts_do_not_raise() -> None:
    compiled = compile_pattern({"detail": {"a": {"b": [{"exists": False}]}}})
    assert compiled.matches({"detail": "scalar"})
    assert compiled.matches({"detail": [1, "two", None]})
    assert not compiled.matches({"detail": [{"a": {"b": 1}}]})
