"""Template parsing: short-form tags, JSON, line numbers, structure checks, parameters."""

from __future__ import annotations

from typing import Any

import pytest

from sendoff.iac.errors import TemplateError
from sendoff.iac.parameters import parse_overrides, resolve_parameters
from sendoff.iac.template import check_structure, parse_template


@pytest.mark.parametrize(
    ("yaml_value", "expected"),
    [
        ("!Ref Queue", {"Ref": "Queue"}),
        ("!GetAtt Queue.Arn", {"Fn::GetAtt": ["Queue", "Arn"]}),
        ("!GetAtt Fn.Alias.Arn", {"Fn::GetAtt": ["Fn", "Alias.Arn"]}),
        ("!GetAtt [Queue, Arn]", {"Fn::GetAtt": ["Queue", "Arn"]}),
        ("!Sub '${AWS::StackName}-x'", {"Fn::Sub": "${AWS::StackName}-x"}),
        ("!Sub ['${A}', {A: b}]", {"Fn::Sub": ["${A}", {"A": "b"}]}),
        ("!Join ['-', [a, b]]", {"Fn::Join": ["-", ["a", "b"]]}),
        ("!Select [0, !GetAZs '']", {"Fn::Select": [0, {"Fn::GetAZs": ""}]}),
        ("!GetAZs", {"Fn::GetAZs": ""}),
        ("!Split [',', 'a,b']", {"Fn::Split": [",", "a,b"]}),
        ("!If [C, a, !Ref AWS::NoValue]", {"Fn::If": ["C", "a", {"Ref": "AWS::NoValue"}]}),
        ("!Equals [a, b]", {"Fn::Equals": ["a", "b"]}),
        (
            "!And [!Condition A, !Condition B]",
            {"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]},
        ),
        (
            "!Or [!Condition A, !Not [!Condition B]]",
            {"Fn::Or": [{"Condition": "A"}, {"Fn::Not": [{"Condition": "B"}]}]},
        ),
        ("!Base64 hello", {"Fn::Base64": "hello"}),
        ("!FindInMap [M, k1, k2]", {"Fn::FindInMap": ["M", "k1", "k2"]}),
        ("!ImportValue shared-queue", {"Fn::ImportValue": "shared-queue"}),
        ("2012-10-17", "2012-10-17"),  # a date stays a string
    ],
)
def test_short_form_tags(yaml_value: str, expected: Any) -> None:
    template = parse_template(
        f"Resources:\n  Q:\n    Type: T\n    Properties:\n      V: {yaml_value}\n"
    )
    assert template.resources["Q"]["Properties"]["V"] == expected


def test_json_templates_parse_too() -> None:
    template = parse_template('{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}')
    assert template.resources == {"Q": {"Type": "AWS::SQS::Queue"}}


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("Resources:\n  Q:\n    Type: [unclosed\n", "invalid YAML", 4),
        ("Resources:\n  Q: {Type: A}\n  Q: {Type: B}\n", "duplicate key 'Q' (first at line 2)", 3),
        ('{"Resources": {\n"Q": 1,}}', "invalid JSON", 2),
        ('{"Resources": {"Q": 1, "Q": 2}}', "duplicate key 'Q'", None),
        ("- just\n- a list\n", "a template must be a mapping", None),
    ],
)
def test_syntax_errors_name_the_line(text: str, message: str, line: int | None) -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template(text, source="t.yaml")
    (problem,) = caught.value.problems
    assert message in problem.message
    assert problem.line == line
    assert str(caught.value).startswith("t.yaml: ")


STRUCTURE = """
Parameters:
  Good: {Type: String}
  Bad: {Default: x}
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Propertes: {}
  bad-id:
    Type: AWS::SQS::Queue
  NoType:
    Properties: {}
  Gated:
    Type: AWS::SQS::Queue
    Condition: Missing
    DeletionPolicy: Keep
Outputs:
  Out: {Description: no value}
Sideways: {}
"""


def test_structure_problems_are_all_reported_with_lines() -> None:
    template = parse_template(STRUCTURE)
    problems = {(".".join(map(str, p.path)), p.message) for p in check_structure(template)}
    assert problems == {
        ("Sideways", "unknown top-level section 'Sideways'"),
        ("Resources.bad-id", "logical ids must be alphanumeric (A-Za-z0-9)"),
        ("Resources.Queue.Propertes", "unknown resource attribute 'Propertes'"),
        ("Resources.NoType.Type", "every resource needs a Type"),
        ("Resources.Gated.Condition", "unknown condition 'Missing'"),
        (
            "Resources.Gated.DeletionPolicy",
            "must be one of ['Delete', 'Retain', 'RetainExceptOnCreate', 'Snapshot']",
        ),
        ("Parameters.Bad.Type", "every parameter needs a Type"),
        ("Outputs.Out.Value", "every output needs a Value"),
    }
    error = template.located(check_structure(template))
    lines = {".".join(map(str, p.path)): p.line for p in error.problems}
    assert lines["Resources.Queue.Propertes"] == 8
    assert lines["Resources.Gated.DeletionPolicy"] == 16
    assert lines["Parameters.Bad.Type"] == 4  # the nearest known place: the parameter


def test_locate_gives_no_line_for_generated_resources() -> None:
    template = parse_template("Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n")
    assert template.locate(("Resources", "Fn", "Properties")) == 2
    assert template.locate(("Resources", "FnRole", "Properties")) is None


def test_a_template_needs_resources() -> None:
    problems = check_structure(parse_template("Description: nothing\n"))
    assert [p.message for p in problems] == [
        "a template needs a Resources section with at least one resource"
    ]


DECLARED = {
    "Name": {"Type": "String", "AllowedPattern": "[a-z]+", "MaxLength": 8},
    "Stage": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
    "Retries": {"Type": "Number", "Default": 2, "MinValue": 0, "MaxValue": 2},
    "Zones": {"Type": "CommaDelimitedList", "Default": "a,b"},
    "Sizes": {"Type": "List<Number>", "Default": "1,2"},
    "Secret": {"Type": "String", "Default": "s3cret", "NoEcho": True},
    "Version": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/cdk/version"},
}


@pytest.mark.parametrize(
    ("overrides", "previous", "expected"),
    [
        (
            {"Name": "abc"},
            None,
            {
                "Name": "abc",
                "Stage": "dev",
                "Retries": "2",
                "Zones": ["a", "b"],
                "Sizes": ["1", "2"],
                "Secret": "s3cret",
            },
        ),
        ({"Name": "abc", "Stage": "prod", "Zones": "x"}, None, {"Stage": "prod", "Zones": ["x"]}),
        ({}, {"Name": "old", "Retries": "0"}, {"Name": "old", "Retries": "0", "Stage": "dev"}),
        ({"Name": "new"}, {"Name": "old"}, {"Name": "new"}),
        ({"Name": "abc", "Version": "6"}, None, {"Version": "6"}),
    ],
)
def test_parameter_values(
    overrides: dict[str, str], previous: dict[str, str] | None, expected: dict[str, Any]
) -> None:
    values = resolve_parameters(DECLARED, overrides, previous)
    assert {k: values.values[k] for k in expected} == expected
    assert values.shown()["Secret"] == "****"


def test_unresolvable_ssm_parameters_are_reported_only_when_used() -> None:
    values = resolve_parameters(DECLARED, {"Name": "abc"})
    assert "Version" not in values.values
    assert (
        "give its value with --parameter-overrides Version=VALUE" in values.unavailable["Version"]
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, "Parameters.Name: no value: give it with --parameter-overrides Name=VALUE"),
        ({"Name": "ABC"}, "Parameters.Name: 'ABC' must match pattern [a-z]+"),
        ({"Name": "abcdefghij"}, "Parameters.Name: 'abcdefghij' is longer than MaxLength 8"),
        (
            {"Name": "a", "Stage": "qa"},
            "Parameters.Stage: 'qa' is not one of the AllowedValues ['dev', 'prod']",
        ),
        ({"Name": "a", "Retries": "x"}, "Parameters.Retries: 'x' is not a Number"),
        ({"Name": "a", "Retries": "3"}, "Parameters.Retries: 3 is greater than MaxValue 2"),
        ({"Name": "a", "Sizes": "1,x"}, "Parameters.Sizes: 'x' is not a Number"),
        ({"Name": "a", "Nope": "1"}, "Parameters: override for undeclared parameter 'Nope'"),
    ],
)
def test_parameter_problems(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        resolve_parameters(DECLARED, overrides)
    assert message in [str(p) for p in caught.value.problems]


def test_parse_overrides_accepts_both_spellings() -> None:
    assert parse_overrides(["A=1", "B=x=y", "ParameterKey=C,ParameterValue=3"]) == {
        "A": "1",
        "B": "x=y",
        "C": "3",
    }
    with pytest.raises(TemplateError):
        parse_overrides(["novalue"])
