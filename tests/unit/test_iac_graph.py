"""Dependency order, implied dependencies by literal names, unknown references, cycles."""

from __future__ import annotations

from typing import Any

import pytest

from sendoff.iac.errors import TemplateError
from sendoff.iac.graph import arn_name, build_graph, find_cycle, implied_dependencies


def res(type_name: str = "AWS::SQS::Queue", depends: Any = None, **props: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {"Type": type_name, "Properties": props}
    if depends is not None:
        resource["DependsOn"] = depends
    return resource


@pytest.mark.parametrize(
    ("resources", "order"),
    [
        ({"A": res(), "B": res(), "C": res()}, ("A", "B", "C")),
        ({"A": res(X={"Ref": "B"}), "B": res()}, ("B", "A")),
        ({"A": res(X={"Fn::GetAtt": ["C", "Arn"]}), "B": res(), "C": res()}, ("B", "C", "A")),
        ({"A": res(X={"Fn::Sub": "${B.Arn}"}), "B": res(depends="C"), "C": res()}, ("C", "B", "A")),
        ({"A": res(depends=["B", "C"]), "B": res(), "C": res(X={"Ref": "B"})}, ("B", "C", "A")),
        ({"A": res(X={"Ref": "P"}, Y={"Ref": "AWS::Region"}), "B": res()}, ("A", "B")),
    ],
)
def test_creation_order(resources: dict[str, Any], order: tuple[str, ...]) -> None:
    graph = build_graph(resources, parameters=frozenset({"P"}))
    assert graph.order == order
    assert graph.deletion_order() == tuple(reversed(order))


def test_the_taken_branch_of_if_counts() -> None:
    resources = {"A": res(X={"Fn::If": ["On", {"Ref": "B"}, {"Ref": "Gone"}]}), "B": res()}
    assert build_graph(resources, conditions={"On": True}).order == ("B", "A")
    with pytest.raises(TemplateError, match="unresolved reference 'Gone'"):
        build_graph(resources, conditions={"On": False})


@pytest.mark.parametrize(
    ("resources", "messages"),
    [
        (
            {"A": res(X={"Ref": "Nope"})},
            [
                "Resources.A.Properties.X: unresolved reference 'Nope': no such parameter or "
                "resource"
            ],
        ),
        ({"A": res(depends="Nope")}, ["Resources.A.DependsOn: depends on unknown resource 'Nope'"]),
        (
            {
                "A": res(X={"Ref": "B"}),
                "B": res(X={"Fn::GetAtt": ["C", "Arn"]}),
                "C": res(depends="A"),
            },
            ["Resources.A: circular dependency between resources: A -> B -> C -> A"],
        ),
        ({"A": res(depends="A")}, ["Resources.A: circular dependency between resources: A -> A"]),
    ],
)
def test_graph_errors(resources: dict[str, Any], messages: list[str]) -> None:
    with pytest.raises(TemplateError) as caught:
        build_graph(resources)
    assert [str(p) for p in caught.value.problems] == messages


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        ("arn:aws:lambda:us-east-1:123456789012:function:Fn", ("lambda", "Fn")),
        ("arn:aws:lambda:us-east-1:123456789012:function:Fn:live", ("lambda", "Fn")),
        ("arn:aws:sns:us-east-1:123456789012:Topic", ("sns", "Topic")),
        ("arn:aws:sqs:us-east-1:123456789012:q.fifo", ("sqs", "q.fifo")),
        ("arn:aws:events:us-east-1:123456789012:event-bus/bus", ("events", "bus")),
        ("arn:aws:iam::123456789012:role/r", None),
        ("not-an-arn", None),
    ],
)
def test_arn_names(arn: str, expected: tuple[str, str] | None) -> None:
    assert arn_name(arn) == expected


ANNOUNCEMENT = {
    # the announcement's snippet names everything by literal names and ARNs
    "EventInvokeConfig": res(
        "AWS::Lambda::EventInvokeConfig",
        FunctionName="YourLambdaFunctionWithEventInvokeConfig",
        Qualifier="$LATEST",
        DestinationConfig={
            "OnSuccess": {
                "Destination": "arn:aws:sns:us-east-1:123456789012:YourSNSTopicOnSuccess"
            },
            "OnFailure": {
                "Destination": "arn:aws:lambda:us-east-1:123456789012:function:"
                "YourLambdaFunctionOnFailure"
            },
        },
    ),
    "Tester": res("AWS::Lambda::Function", FunctionName="YourLambdaFunctionWithEventInvokeConfig"),
    "Topic": res("AWS::SNS::Topic", TopicName="YourSNSTopicOnSuccess"),
    "OnFailure": res("AWS::Lambda::Function", FunctionName="YourLambdaFunctionOnFailure"),
}


def test_literal_names_imply_dependencies() -> None:
    assert implied_dependencies(ANNOUNCEMENT) == {
        "EventInvokeConfig": {"Tester", "Topic", "OnFailure"}
    }
    assert build_graph(ANNOUNCEMENT).order == ("Tester", "Topic", "OnFailure", "EventInvokeConfig")


def test_implied_dependencies_never_make_a_cycle() -> None:
    resources = {
        "Fn": res("AWS::Lambda::Function", FunctionName="f", Environment={"Q": {"Ref": "Q"}}),
        "Q": res("AWS::SQS::Queue", QueueName="q", Tags=[{"Key": "FunctionName", "Value": "f"}]),
    }
    assert build_graph(resources).order == ("Q", "Fn")


def test_find_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"b"}}) == ["b", "c", "b"]
