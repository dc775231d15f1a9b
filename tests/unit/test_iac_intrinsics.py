"""Intrinsic functions, conditions and pseudo parameters (pure, table-driven)."""

from __future__ import annotations

from typing import Any

import pytest

from sendoff.iac.intrinsics import (
    NO_VALUE,
    Context,
    IntrinsicError,
    Placeholders,
    Unknown,
    evaluate_conditions,
    references,
    resolve,
)


class Deployed:
    """Resources with known values."""

    def has(self, name: str) -> bool:
        return name in ("Queue", "Fn")

    def ref(self, name: str) -> Any:
        return {"Queue": "http://q/url", "Fn": "my-fn"}[name]

    def get_att(self, name: str, attribute: str) -> Any:
        if (name, attribute) == ("Queue", "Arn"):
            return "arn:aws:sqs:eu-west-1:123456789012:q"
        raise LookupError(f"{name} has no attribute {attribute!r}")


CTX = Context(
    account_id="123456789012",
    region="eu-west-1",
    stack_name="shop",
    parameters={"Stage": "prod", "Zones": ["a", "b", "c"], "Count": "3"},
    conditions={"IsProd": True, "IsDev": False},
    mappings={"Sizes": {"prod": {"Memory": 1024}, "123456789012": {"Memory": 256}}},
    exports={"shared-topic": "arn:aws:sns:eu-west-1:123456789012:t"},
    resources=Deployed(),
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Stage"}, "prod"),
        ({"Ref": "Queue"}, "http://q/url"),
        ({"Ref": "AWS::AccountId"}, "123456789012"),
        ({"Ref": "AWS::Region"}, "eu-west-1"),
        ({"Ref": "AWS::StackName"}, "shop"),
        ({"Ref": "AWS::Partition"}, "aws"),
        ({"Ref": "AWS::URLSuffix"}, "amazonaws.com"),
        ({"Ref": "AWS::NotificationARNs"}, []),
        ({"Fn::GetAtt": ["Queue", "Arn"]}, "arn:aws:sqs:eu-west-1:123456789012:q"),
        ({"Fn::GetAtt": "Queue.Arn"}, "arn:aws:sqs:eu-west-1:123456789012:q"),
        ({"Fn::Sub": "${AWS::StackName}-${Stage}"}, "shop-prod"),
        ({"Fn::Sub": "${Queue.Arn}|${Fn}"}, "arn:aws:sqs:eu-west-1:123456789012:q|my-fn"),
        ({"Fn::Sub": "${!Literal}-${Stage}"}, "${Literal}-prod"),
        ({"Fn::Sub": ["${A}-${B}", {"A": "x", "B": {"Ref": "Stage"}}]}, "x-prod"),
        (
            {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:q"},
            "arn:aws:sqs:eu-west-1:123456789012:q",
        ),
        ({"Fn::Join": ["-", ["a", {"Ref": "Stage"}, 3]]}, "a-prod-3"),
        ({"Fn::Join": [",", {"Ref": "Zones"}]}, "a,b,c"),
        ({"Fn::Select": [1, {"Ref": "Zones"}]}, "b"),
        ({"Fn::Select": ["2", ["x", "y", "z"]]}, "z"),
        ({"Fn::Split": [",", "a,b,,c"]}, ["a", "b", "", "c"]),
        ({"Fn::Select": [0, {"Fn::Split": ["/", {"Fn::Sub": "${Stage}/x"}]}]}, "prod"),
        ({"Fn::If": ["IsProd", "big", "small"]}, "big"),
        ({"Fn::If": ["IsDev", "big", {"Ref": "Stage"}]}, "prod"),
        ({"Fn::GetAZs": ""}, ["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
        ({"Fn::GetAZs": "us-east-2"}, ["us-east-2a", "us-east-2b", "us-east-2c"]),
        ({"Fn::GetAZs": {"Ref": "AWS::Region"}}, ["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
        ({"Fn::Base64": "hello"}, "aGVsbG8="),
        ({"Fn::Base64": {"Fn::Sub": "${Stage}"}}, "cHJvZA=="),
        ({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}, 1024),
        ({"Fn::FindInMap": ["Sizes", {"Ref": "AWS::AccountId"}, "Memory"]}, 256),
        ({"Fn::ImportValue": "shared-topic"}, "arn:aws:sns:eu-west-1:123456789012:t"),
        ({"A": {"Fn::If": ["IsDev", 1, {"Ref": "AWS::NoValue"}]}, "B": 2}, {"B": 2}),
        ([1, {"Ref": "AWS::NoValue"}, 3], [1, 3]),
        ({"Fn::If": ["IsDev", "x", {"Ref": "AWS::NoValue"}]}, NO_VALUE),
        (
            {"Nested": [{"Ref": "Stage"}, {"K": {"Fn::Join": ["", ["a", "b"]]}}]},
            {"Nested": ["prod", {"K": "ab"}]},
        ),
        ("plain", "plain"),
        (42, 42),
    ],
)
def test_resolve(value: Any, expected: Any) -> None:
    assert resolve(value, CTX) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Ref": "Nope"}, "unresolved reference 'Nope': no such parameter or resource"),
        ({"Fn::GetAtt": ["Nope", "Arn"]}, "unresolved reference 'Nope' in Fn::GetAtt"),
        ({"Fn::GetAtt": ["Queue", "Url"]}, "Queue has no attribute 'Url'"),
        ({"Fn::GetAtt": ["Queue"]}, "Fn::GetAtt takes a list of 2 items"),
        ({"Fn::Sub": "${Nope}"}, "unresolved reference 'Nope'"),
        ({"Fn::Sub": "${Nope.Arn}"}, "unresolved reference ${Nope.Arn} in Fn::Sub"),
        ({"Fn::Sub": "${Zones}"}, "${Zones} is a list; Fn::Sub needs a string"),
        ({"Fn::Join": ["-", "notalist"]}, "Fn::Join takes [delimiter, [values]]"),
        ({"Fn::Join": ["-", [{"a": 1}]]}, "Fn::Join values must be a string, not dict"),
        ({"Fn::Select": [5, ["a"]]}, "Fn::Select index 5 is out of range (1)"),
        ({"Fn::Select": ["x", ["a"]]}, "Fn::Select index must be a number, not 'x'"),
        ({"Fn::Split": ["", "a"]}, "Fn::Split takes [delimiter, string]"),
        ({"Fn::If": ["Nope", 1, 2]}, "Fn::If names unknown condition 'Nope'"),
        ({"Fn::FindInMap": ["Sizes", "dev", "Memory"]}, "no mapping entry 'Sizes.dev'"),
        ({"Fn::ImportValue": "nope"}, "Fn::ImportValue: no stack exports 'nope'"),
        ({"Fn::Cidr": ["10.0.0.0/16", 2, 8]}, "Fn::Cidr is not supported by sendoff"),
        ({"Fn::Bogus": 1}, "unknown intrinsic function Fn::Bogus"),
    ],
)
def test_resolve_errors_name_the_place(value: Any, message: str) -> None:
    with pytest.raises(IntrinsicError) as caught:
        resolve({"Properties": {"X": value}}, CTX)
    assert message in caught.value.problem.message
    assert caught.value.problem.path[:2] == ("Properties", "X")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Queue"}, Unknown("Queue")),
        ({"Fn::GetAtt": ["Queue", "Arn"]}, Unknown("Queue.Arn")),
        ({"Fn::Sub": "${Queue.Arn}/x"}, Unknown("Fn::Sub(Queue.Arn)")),
        ({"Fn::Join": ["", ["a", {"Ref": "Queue"}]]}, Unknown("Fn::Join(Queue)")),
        ({"Fn::Select": [0, {"Fn::Split": [",", {"Ref": "Queue"}]}]}, Unknown("Fn::Select")),
        ({"Fn::Sub": "${Stage}"}, "prod"),
    ],
)
def test_placeholders_before_deployment(value: Any, expected: Any) -> None:
    ctx = CTX.with_resources(Placeholders(["Queue"]))
    assert resolve(value, ctx) == expected


CONDITIONS = {
    "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
    "IsEu": {"Fn::Equals": ["eu-west-1", {"Ref": "AWS::Region"}]},
    "ProdInEu": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "IsEu"}]},
    "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
    "Either": {"Fn::Or": [{"Condition": "NotProd"}, {"Fn::Equals": [{"Ref": "Count"}, 3]}]},
    "Neither": {"Fn::And": [{"Condition": "NotProd"}, {"Condition": "IsEu"}]},
}


def test_conditions() -> None:
    assert evaluate_conditions(CONDITIONS, CTX) == {
        "IsProd": True,
        "IsEu": True,
        "ProdInEu": True,
        "NotProd": False,
        "Either": True,
        "Neither": False,
    }


@pytest.mark.parametrize(
    ("definitions", "message"),
    [
        (
            {"A": {"Fn::Not": [{"Condition": "B"}]}, "B": {"Fn::Not": [{"Condition": "A"}]}},
            "circular condition: A -> B -> A",
        ),
        ({"A": {"Fn::And": [{"Condition": "Nope"}, True]}}, "unknown condition 'Nope'"),
        ({"A": {"Fn::Equals": [{"Ref": "Queue"}, "x"]}}, "conditions cannot refer to resources"),
        ({"A": {"Fn::And": [True]}}, "Fn::And takes 2 to 10 conditions"),
        ({"A": "maybe"}, "a condition must be Fn::Equals, Fn::And, Fn::Or or Fn::Not"),
    ],
)
def test_condition_errors(definitions: dict[str, Any], message: str) -> None:
    ctx = CTX.with_resources(Placeholders(["Queue"]))
    with pytest.raises(IntrinsicError) as caught:
        evaluate_conditions(definitions, ctx)
    assert message in caught.value.problem.message


@pytest.mark.parametrize(
    ("value", "conditions", "expected"),
    [
        ({"Ref": "A"}, None, {"A"}),
        ({"Fn::GetAtt": ["B", "Arn"]}, None, {"B"}),
        ({"Fn::GetAtt": "B.Arn"}, None, {"B"}),
        ({"Fn::Sub": "${C}-${D.Arn}-${!E}-${AWS::Region}"}, None, {"C", "D", "AWS::Region"}),
        ({"Fn::Sub": ["${X}-${Y}", {"X": {"Ref": "F"}}]}, None, {"F", "Y"}),
        ({"Fn::If": ["On", {"Ref": "G"}, {"Ref": "H"}]}, None, {"G", "H"}),
        ({"Fn::If": ["On", {"Ref": "G"}, {"Ref": "H"}]}, {"On": False}, {"H"}),
        ({"K": [{"Ref": "I"}, {"L": {"Fn::Join": ["", [{"Ref": "J"}]]}}]}, None, {"I", "J"}),
    ],
)
def test_references(value: Any, conditions: dict[str, bool] | None, expected: set[str]) -> None:
    assert references(value, conditions) == expected
