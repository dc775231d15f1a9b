"""Table tests for SNS subscription filter policies (sendoff.services.sns_filter)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from sendoff.errors import SendoffError
from sendoff.services.events_pattern import PatternError
from sendoff.services.sns_filter import (
    FilterPolicy,
    InvalidFilterPolicy,
    compile_filter_policy,
)


def s(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def n(value: str) -> dict[str, str]:
    return {"DataType": "Number", "StringValue": value}


def arr(values: list[Any]) -> dict[str, str]:
    return {"DataType": "String.Array", "StringValue": json.dumps(values)}


def b(value: bytes = b"\x00") -> dict[str, Any]:
    return {"DataType": "Binary", "BinaryValue": value}


# The message from the SNS developer guide's filter-policy walkthrough.
ATTRS: dict[str, dict[str, Any]] = {
    "customer_interests": arr(["soccer", "rugby", "hockey"]),
    "store": s("example_corp"),
    "event": s("order_placed"),
    "price_usd": n("210.75"),
    "encrypted": b(),
}

# (id, policy, attributes, expected)
ATTRIBUTE_CASES: list[tuple[str, Any, Any, bool]] = [
    ("exact", {"store": ["example_corp"]}, ATTRS, True),
    ("exact-miss", {"store": ["other_corp"]}, ATTRS, False),
    ("exact-case-sensitive", {"store": ["Example_Corp"]}, ATTRS, False),
    ("one-of", {"event": ["order_cancelled", "order_placed"]}, ATTRS, True),
    ("and", {"store": ["example_corp"], "event": ["order_placed"]}, ATTRS, True),
    ("and-one-fails", {"store": ["example_corp"], "event": ["x"]}, ATTRS, False),
    ("missing-attribute", {"color": ["red"]}, ATTRS, False),
    ("string-array-any", {"customer_interests": ["rugby"]}, ATTRS, True),
    ("string-array-none", {"customer_interests": ["golf"]}, ATTRS, False),
    ("string-array-prefix", {"customer_interests": [{"prefix": "hock"}]}, ATTRS, True),
    ("string-array-numbers", {"sizes": [10]}, {"sizes": arr([5, 10])}, True),
    ("string-array-bool", {"flags": [True]}, {"flags": arr([False, True])}, True),
    ("string-array-null", {"flags": [None]}, {"flags": arr([None])}, True),
    (
        "string-array-invalid-json",
        {"x": ["a"]},
        {"x": {"DataType": "String.Array", "StringValue": "[a"}},
        False,
    ),
    (
        "string-array-not-array",
        {"x": ["a"]},
        {"x": {"DataType": "String.Array", "StringValue": '"a"'}},
        False,
    ),
    ("number-exact", {"price_usd": [210.75]}, ATTRS, True),
    (
        "number-exponent",
        {"price_usd": [{"numeric": ["=", 301.5]}]},
        {"price_usd": n("3.015e2")},
        True,
    ),
    ("number-range", {"price_usd": [{"numeric": [">", 100, "<=", 300]}]}, ATTRS, True),
    ("number-range-miss", {"price_usd": [{"numeric": ["<", 100]}]}, ATTRS, False),
    ("number-vs-string-policy", {"price_usd": ["210.75"]}, ATTRS, False),
    ("string-vs-number-policy", {"size": [5]}, {"size": s("5")}, False),
    ("numeric-on-string", {"size": [{"numeric": [">", 1]}]}, {"size": s("5")}, False),
    (
        "number-custom-type",
        {"p": [{"numeric": [">", 1]}]},
        {"p": {"DataType": "Number.float", "StringValue": "2.5"}},
        True,
    ),
    (
        "string-custom-type",
        {"c": ["red"]},
        {"c": {"DataType": "String.color", "StringValue": "red"}},
        True,
    ),
    ("number-unparseable", {"p": [{"exists": True}]}, {"p": n("abc")}, False),
    ("binary-ignored", {"encrypted": [{"exists": True}]}, ATTRS, False),
    ("binary-exists-false", {"encrypted": [{"exists": False}]}, ATTRS, True),
    ("prefix", {"event": [{"prefix": "order_"}]}, ATTRS, True),
    ("suffix", {"event": [{"suffix": "_placed"}]}, ATTRS, True),
    ("suffix-miss", {"event": [{"suffix": "_shipped"}]}, ATTRS, False),
    ("equals-ignore-case", {"store": [{"equals-ignore-case": "EXAMPLE_CORP"}]}, ATTRS, True),
    ("anything-but-list", {"event": [{"anything-but": ["order_cancelled"]}]}, ATTRS, True),
    ("anything-but-hit", {"event": [{"anything-but": "order_placed"}]}, ATTRS, False),
    ("anything-but-prefix", {"event": [{"anything-but": {"prefix": "order_"}}]}, ATTRS, False),
    ("anything-but-number", {"price_usd": [{"anything-but": [100, 500]}]}, ATTRS, True),
    (
        "anything-but-number-hit",
        {"price": [{"anything-but": [100, 500]}]},
        {"price": n("100")},
        False,
    ),
    (
        "anything-but-array",
        {"price": [{"anything-but": [100, 500]}]},
        {"price": arr([100, 50])},
        True,
    ),
    ("anything-but-missing", {"color": [{"anything-but": "red"}]}, ATTRS, False),
    ("exists-true", {"store": [{"exists": True}]}, ATTRS, True),
    ("exists-true-missing", {"color": [{"exists": True}]}, ATTRS, False),
    ("exists-false", {"color": [{"exists": False}]}, ATTRS, True),
    ("exists-false-present", {"store": [{"exists": False}]}, ATTRS, False),
    ("exists-false-no-attributes", {"color": [{"exists": False}]}, {}, False),
    ("cidr", {"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": s("10.0.0.7")}, True),
    ("cidr-miss", {"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": s("10.0.1.7")}, False),
    ("cidr-v6", {"ip": [{"cidr": "2001:db8::/48"}]}, {"ip": s("2001:db8::5")}, True),
    ("or", {"$or": [{"store": ["x"]}, {"event": ["order_placed"]}]}, ATTRS, True),
    ("or-none", {"$or": [{"store": ["x"]}, {"event": ["y"]}]}, ATTRS, False),
    (
        "or-with-and",
        {
            "store": ["example_corp"],
            "$or": [{"price_usd": [{"numeric": [">", 500]}]}, {"event": ["x"]}],
        },
        ATTRS,
        False,
    ),
    ("empty-policy-matches-all", {}, {}, True),
    (
        "notification-shape",
        {"store": ["example_corp"]},
        {"store": {"Type": "String", "Value": "example_corp"}},
        True,
    ),
    ("null-policy-value", {"store": [None]}, ATTRS, False),
]


@pytest.mark.parametrize(
    ("policy", "attributes", "expected"),
    [case[1:] for case in ATTRIBUTE_CASES],
    ids=[case[0] for case in ATTRIBUTE_CASES],
)
def test_attribute_policies(policy: Any, attributes: Any, expected: bool) -> None:
    compiled = compile_filter_policy(policy, "MessageAttributes")
    assert compiled.matches_attributes(attributes) is expected
    assert compiled.matches_message(attributes=attributes) is expected


BODY: dict[str, Any] = {
    "store": "example_corp",
    "event": "order_placed",
    "customer_interests": ["soccer", "rugby", "hockey"],
    "price_usd": 210.75,
    "shipped": None,
    "gift": False,
    "delivery": {"address": {"city": "Seattle", "zip": "98101"}, "method": "drone"},
    "items": [{"sku": "A1", "qty": 2}, {"sku": "B7", "qty": 1}],
}

# (id, policy, body, expected)
BODY_CASES: list[tuple[str, Any, Any, bool]] = [
    ("exact", {"store": ["example_corp"]}, BODY, True),
    ("nested", {"delivery": {"method": ["drone"]}}, BODY, True),
    ("deep-nested", {"delivery": {"address": {"city": ["Seattle"]}}}, BODY, True),
    ("deep-nested-miss", {"delivery": {"address": {"city": ["Portland"]}}}, BODY, False),
    ("array-any", {"customer_interests": ["hockey"]}, BODY, True),
    ("array-of-objects", {"items": {"sku": ["B7"]}}, BODY, True),
    ("array-of-objects-consistent", {"items": {"sku": ["A1"], "qty": [1]}}, BODY, False),
    ("number", {"price_usd": [{"numeric": [">=", 210.75]}]}, BODY, True),
    ("number-int-float", {"qty": [2]}, {"qty": 2.0}, True),
    ("null", {"shipped": [None]}, BODY, True),
    ("bool", {"gift": [False]}, BODY, True),
    ("prefix", {"delivery": {"address": {"zip": [{"prefix": "981"}]}}}, BODY, True),
    ("anything-but-null", {"shipped": [{"anything-but": "yes"}]}, BODY, True),
    ("exists-nested", {"delivery": {"address": {"zip": [{"exists": True}]}}}, BODY, True),
    ("exists-false-nested", {"delivery": {"eta": [{"exists": False}]}}, BODY, True),
    (
        "or-nested",
        {"delivery": {"$or": [{"method": ["truck"]}, {"address": {"zip": ["98101"]}}]}},
        BODY,
        True,
    ),
    ("json-text-body", {"store": ["example_corp"]}, json.dumps(BODY), True),
    ("json-bytes-body", {"store": ["example_corp"]}, json.dumps(BODY).encode(), True),
    ("non-json-body", {"x": [{"exists": False}]}, "plain text message", False),
    ("json-array-body", {"x": [{"exists": False}]}, "[1, 2]", False),
    ("json-object-exists-false", {"x": [{"exists": False}]}, "{}", True),
    ("empty-policy", {}, "anything at all", True),
]


@pytest.mark.parametrize(
    ("policy", "body", "expected"),
    [case[1:] for case in BODY_CASES],
    ids=[case[0] for case in BODY_CASES],
)
def test_body_policies(policy: Any, body: Any, expected: bool) -> None:
    compiled = compile_filter_policy(json.dumps(policy), "MessageBody")
    assert compiled.matches_body(body) is expected
    assert compiled.matches_message(body=body) is expected


def test_case_ids_are_unique() -> None:
    for cases in (ATTRIBUTE_CASES, BODY_CASES, INVALID_CASES):
        ids = [case[0] for case in cases]
        assert len(ids) == len(set(ids))


NESTED = (
    "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy"
)

# (id, policy, scope, message)
INVALID_CASES: list[tuple[str, Any, str, str]] = [
    (
        "not-object",
        "[1, 2]",
        "MessageAttributes",
        "Invalid parameter: FilterPolicy: Filter is not an object",
    ),
    (
        "scalar",
        {"store": "x"},
        "MessageAttributes",
        'Invalid parameter: FilterPolicy: "store" must be an object or an array',
    ),
    (
        "empty-array",
        {"store": []},
        "MessageAttributes",
        "Invalid parameter: FilterPolicy: Empty arrays are not allowed",
    ),
    (
        "nested-attributes",
        {"a": {"b": ["x"]}},
        "MessageAttributes",
        NESTED,
    ),
    (
        "nested-in-or-attributes",
        {"$or": [{"a": {"b": ["x"]}}, {"c": ["y"]}]},
        "MessageAttributes",
        NESTED,
    ),
    (
        "wildcard-unsupported",
        {"a": [{"wildcard": "x*"}]},
        "MessageBody",
        "Invalid parameter: FilterPolicy: Unrecognized match type wildcard",
    ),
    (
        "unknown-op",
        {"a": [{"contains": "x"}]},
        "MessageAttributes",
        "Invalid parameter: FilterPolicy: Unrecognized match type contains",
    ),
    (
        "prefix-object",
        {"a": [{"prefix": {"equals-ignore-case": "x"}}]},
        "MessageAttributes",
        "Invalid parameter: FilterPolicy: prefix match pattern must be a string",
    ),
    (
        "anything-but-wildcard",
        {"a": [{"anything-but": {"wildcard": "x*"}}]},
        "MessageAttributes",
        "Invalid parameter: FilterPolicy: Unsupported anything-but pattern: wildcard",
    ),
    (
        "anything-but-mixed",
        {"a": [{"anything-but": ["x", 1]}]},
        "MessageAttributes",
        "Invalid parameter: FilterPolicy: Inside anything but list, either all values are number "
        "or string, mixed type is not supported",
    ),
    (
        "numeric-range-limit",
        {"a": [{"numeric": ["<", 2e9]}]},
        "MessageAttributes",
        "Invalid parameter: FilterPolicy: Value must be between -1.0E9 and 1.0E9, inclusive",
    ),
    (
        "numeric-precision",
        {"a": [{"numeric": ["=", 1.000001]}]},
        "MessageAttributes",
        "Invalid parameter: FilterPolicy: Only values upto 5 decimals are supported",
    ),
    (
        "numeric-bad-op",
        {"a": [{"numeric": [">", 0, ">", 5]}]},
        "MessageAttributes",
        "Invalid parameter: FilterPolicy: Bad numeric range operator: >",
    ),
    (
        "exists-string",
        {"a": [{"exists": "yes"}]},
        "MessageAttributes",
        "Invalid parameter: FilterPolicy: exists match pattern must be either true or false.",
    ),
    (
        "cidr-malformed",
        {"a": [{"cidr": "10.0.0.1"}]},
        "MessageAttributes",
        "Invalid parameter: FilterPolicy: Malformed CIDR, one '/' required",
    ),
    (
        "or-single",
        {"$or": [{"a": ["x"]}]},
        "MessageAttributes",
        "Invalid parameter: FilterPolicy: There must have at least 2 Objects in $or relationship.",
    ),
    (
        "too-many-keys",
        {k: ["x"] for k in "abcdef"},
        "MessageAttributes",
        "Invalid parameter: FilterPolicy: Filter policy can not have more than 5 keys",
    ),
    (
        "too-many-nested-keys",
        {"a": {"b": ["x"], "c": ["x"], "d": ["x"]}, "e": {"f": ["x"], "g": ["x"], "h": ["x"]}},
        "MessageBody",
        "Invalid parameter: FilterPolicy: Filter policy can not have more than 5 keys",
    ),
    (
        "too-complex",
        {"a": list(range(10)), "b": list(range(10)), "c": list(range(2))},
        "MessageAttributes",
        "Invalid parameter: FilterPolicy: Filter policy is too complex",
    ),
    (
        "too-complex-nested",
        {"a": {"b": list(range(10))}, "c": {"d": list(range(4))}},
        "MessageBody",
        "Invalid parameter: FilterPolicy: Filter policy is too complex",
    ),
    # AWS-recorded (test_sns_filter_policy.snapshot.json)
    (
        "anything-but-suffix",
        {"key": [{"anything-but": {"suffix": "test"}}]},
        "MessageAttributes",
        "Invalid parameter: FilterPolicy: Unsupported anything-but pattern: suffix",
    ),
    (
        "anything-but-prefix-not-a-string",
        {"key": [{"anything-but": {"prefix": False}}]},
        "MessageAttributes",
        "Invalid parameter: FilterPolicy: prefix match pattern must be a string",
    ),
    (
        "operator-object-not-a-list",
        {"key": {"suffix": "value"}},
        "MessageAttributes",
        'Invalid parameter: FilterPolicy: "suffix" must be an object or an array',
    ),
    (
        "bad-scope",
        {"a": ["x"]},
        "Everything",
        "Invalid parameter: FilterPolicyScope: Invalid value [Everything]. "
        "Please use either MessageBody or MessageAttributes",
    ),
]


@pytest.mark.parametrize(
    ("policy", "scope", "message"),
    [case[1:] for case in INVALID_CASES],
    ids=[case[0] for case in INVALID_CASES],
)
def test_invalid_policies(policy: Any, scope: Any, message: str) -> None:
    with pytest.raises(InvalidFilterPolicy) as info:
        compile_filter_policy(policy, scope)
    assert str(info.value) == message


def test_malformed_json() -> None:
    with pytest.raises(InvalidFilterPolicy, match=r"^Invalid parameter: FilterPolicy: "):
        compile_filter_policy('{"a": [', "MessageAttributes")


def test_nested_policy_is_fine_for_body_scope() -> None:
    assert compile_filter_policy({"a": {"b": ["x"]}}, "MessageBody").matches_body({"a": {"b": "x"}})


def test_limits_within_bounds_are_accepted() -> None:
    compile_filter_policy({k: ["x"] for k in "abcde"}, "MessageAttributes")
    compile_filter_policy({"a": list(range(10)), "b": list(range(15))}, "MessageAttributes")
    # 3 values at depth 3 times 2 values at depth 2: 9 x 4 = 36 combinations.
    compile_filter_policy({"a": {"b": {"c": [1, 2, 3]}}, "d": {"e": [1, 2]}}, "MessageBody")


def test_default_scope_is_message_attributes() -> None:
    policy = compile_filter_policy('{"store": ["example_corp"]}')
    assert policy.scope == "MessageAttributes"
    assert policy.matches_message(attributes=ATTRS, body="ignored")
    assert not policy.matches_message(attributes=None)


def test_error_hierarchy_and_reason() -> None:
    with pytest.raises(SendoffError):
        compile_filter_policy({"a": "x"})
    with pytest.raises(PatternError) as info:
        compile_filter_policy({"a": []})
    assert info.value.reason == "Empty arrays are not allowed"


def test_policy_is_frozen() -> None:
    policy = compile_filter_policy({"a": ["x"]})
    assert isinstance(policy, FilterPolicy)
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.scope = "MessageBody"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("policy", "body", "expected"),
    [
        # AWS-recorded: test_filter_policy_on_message_body_dot_attribute
        ({"object.nested": ["string.value"]}, {"object": {"nested": "string.value"}}, True),
        ({"object.nested": ["string.value"]}, {"object.nested": "string.value"}, True),
        ({"object.nested": ["string.value"]}, {"object": {"nested": "test-auto"}}, False),
        ({"object.nested.test": ["v"]}, {"object": {"nested": {"test": "v"}}}, True),
        ({"object.nested.test": ["v"]}, {"object.nested.test": "v"}, True),
        ({"object.nested.test": ["v"]}, {"object.nested": {"test": "v"}}, True),
        ({"object.nested.test": ["v"]}, {"object": {"nested.test": "v"}}, True),
        ({"object.nested.test": ["v"]}, {"object": {"nested": {"test": "x"}}}, False),
    ],
)
def test_body_keys_join_with_dots(policy: Any, body: Any, expected: bool) -> None:
    compiled = compile_filter_policy(policy, "MessageBody")
    assert compiled.matches_body(body) is expected


def test_dotted_attribute_names_still_match() -> None:
    compiled = compile_filter_policy({"a.b": ["x"]}, "MessageAttributes")
    assert compiled.matches_attributes({"a.b": {"DataType": "String", "StringValue": "x"}})
    assert not compiled.matches_attributes({"a.b": {"DataType": "String", "StringValue": "y"}})
