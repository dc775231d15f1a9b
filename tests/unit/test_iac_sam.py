"""The SAM transform: generated resources and logical ids, Globals, events, errors."""

from __future__ import annotations

from typing import Any

import pytest

from sendoff.iac.errors import TemplateError
from sendoff.iac.sam import merge_globals, transform


def sam(props: dict[str, Any], **extra: Any) -> dict[str, Any]:
    fn = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "Runtime": "python3.12",
            "Handler": "app.handler",
            "CodeUri": "src/",
            **props,
        },
    }
    return {"Transform": "AWS::Serverless-2016-10-31", "Resources": {"Fn": fn}, **extra}


def types(out: dict[str, Any]) -> dict[str, str]:
    return {k: v["Type"] for k, v in out["Resources"].items()}


def test_a_plain_function() -> None:
    out = transform(sam({"Timeout": 10, "Environment": {"Variables": {"A": "1"}}}))
    assert "Transform" not in out
    assert types(out) == {"Fn": "AWS::Lambda::Function", "FnRole": "AWS::IAM::Role"}
    fn = out["Resources"]["Fn"]["Properties"]
    assert fn["Code"] == "src/"
    assert fn["Role"] == {"Fn::GetAtt": ["FnRole", "Arn"]}
    assert fn["Timeout"] == 10 and fn["Environment"] == {"Variables": {"A": "1"}}
    assert fn["Tags"] == [{"Key": "lambda:createdBy", "Value": "SAM"}]
    role = out["Resources"]["FnRole"]["Properties"]
    policy = "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    assert role["ManagedPolicyArns"] == [{"Fn::Sub": policy}]


def test_inline_code_role_and_tracing() -> None:
    out = transform(
        sam({"InlineCode": "x = 1", "Role": "arn:aws:iam::1:role/r", "Tracing": "Active"})
    )
    fn = out["Resources"]["Fn"]["Properties"]
    assert fn["Code"] == {"ZipFile": "x = 1"} and fn["Role"] == "arn:aws:iam::1:role/r"
    assert fn["TracingConfig"] == {"Mode": "Active"}
    assert "FnRole" not in out["Resources"]


@pytest.mark.parametrize(
    ("destinations", "generated", "destination_values"),
    [
        (
            {"OnSuccess": {"Type": "SQS"}, "OnFailure": {"Type": "SNS"}},
            {
                "FnEventInvokeConfigOnSuccessQueue": "AWS::SQS::Queue",
                "FnEventInvokeConfigOnFailureTopic": "AWS::SNS::Topic",
            },
            {
                "OnSuccess": {"Fn::GetAtt": ["FnEventInvokeConfigOnSuccessQueue", "Arn"]},
                "OnFailure": {"Ref": "FnEventInvokeConfigOnFailureTopic"},
            },
        ),
        (
            {
                "OnSuccess": {"Type": "Lambda", "Destination": {"Fn::GetAtt": ["Other", "Arn"]}},
                "OnFailure": {
                    "Type": "EventBridge",
                    "Destination": "arn:aws:events:r:1:event-bus/b",
                },
            },
            {},
            {
                "OnSuccess": {"Fn::GetAtt": ["Other", "Arn"]},
                "OnFailure": "arn:aws:events:r:1:event-bus/b",
            },
        ),
        (
            {"OnFailure": {"Type": "SQS", "Destination": "arn:aws:sqs:r:1:q"}},
            {},
            {"OnFailure": "arn:aws:sqs:r:1:q"},
        ),
    ],
)
def test_event_invoke_config(
    destinations: dict[str, Any], generated: dict[str, str], destination_values: dict[str, Any]
) -> None:
    config = {
        "MaximumRetryAttempts": 0,
        "MaximumEventAgeInSeconds": 60,
        "DestinationConfig": destinations,
    }
    out = transform(sam({"EventInvokeConfig": config}))
    assert types(out) == {
        "Fn": "AWS::Lambda::Function",
        "FnRole": "AWS::IAM::Role",
        "FnEventInvokeConfig": "AWS::Lambda::EventInvokeConfig",
        **generated,
    }
    eic = out["Resources"]["FnEventInvokeConfig"]
    assert "DependsOn" not in eic
    assert eic["Properties"] == {
        "MaximumRetryAttempts": 0,
        "MaximumEventAgeInSeconds": 60,
        "FunctionName": {"Ref": "Fn"},
        "Qualifier": "$LATEST",
        "DestinationConfig": {k: {"Destination": v} for k, v in destination_values.items()},
    }
    policies = {p["PolicyName"] for p in out["Resources"]["FnRole"]["Properties"]["Policies"]}
    assert policies == {f"FnEventInvokeConfig{k}{v['Type']}Policy" for k, v in destinations.items()}


def test_auto_publish_alias_qualifies_the_config_and_the_targets() -> None:
    out = transform(
        sam(
            {
                "AutoPublishAlias": "live",
                "EventInvokeConfig": {"MaximumRetryAttempts": 1},
                "Events": {"Topic": {"Type": "SNS", "Properties": {"Topic": {"Ref": "T"}}}},
            }
        ),
        code_digest=lambda code: "digest-1",
    )
    resources = out["Resources"]
    (version_id,) = [k for k in resources if k.startswith("FnVersion")]
    assert len(version_id) == len("FnVersion") + 10
    assert resources[version_id]["DeletionPolicy"] == "Retain"
    assert resources["FnAliaslive"]["Properties"] == {
        "Name": "live",
        "FunctionName": {"Ref": "Fn"},
        "FunctionVersion": {"Fn::GetAtt": [version_id, "Version"]},
    }
    eic = resources["FnEventInvokeConfig"]
    assert eic["Properties"]["Qualifier"] == "live"
    assert eic["DependsOn"] == ["FnAliaslive"]
    assert resources["FnTopic"]["Properties"]["Endpoint"] == {"Ref": "FnAliaslive"}
    assert resources["FnTopicPermission"]["Properties"]["FunctionName"] == {"Ref": "FnAliaslive"}


def test_a_code_change_publishes_a_new_version() -> None:
    def version_of(digest: str, **props: Any) -> str:
        out = transform(sam({"AutoPublishAlias": "live", **props}), code_digest=lambda c: digest)
        return next(k for k in out["Resources"] if k.startswith("FnVersion"))

    assert version_of("a") == version_of("a")
    assert version_of("a") != version_of("b")
    assert version_of("a", MemorySize=256) != version_of("a")
    assert version_of("a", Timeout=9) == version_of("a")  # as SAM: config other than env/memory


def test_events() -> None:
    out = transform(
        sam(
            {
                "Events": {
                    "Orders": {
                        "Type": "SNS",
                        "Properties": {"Topic": {"Ref": "T"}, "FilterPolicy": {"k": ["v"]}},
                    },
                    "Bus": {
                        "Type": "EventBridgeRule",
                        "Properties": {
                            "Pattern": {"source": ["app"]},
                            "EventBusName": "b",
                            "RuleName": "r",
                            "Input": "{}",
                        },
                    },
                    "Tick": {
                        "Type": "Schedule",
                        "Properties": {"Schedule": "rate(1 minute)", "Enabled": False},
                    },
                }
            }
        )
    )
    r = out["Resources"]
    assert types(out) == {
        "Fn": "AWS::Lambda::Function",
        "FnRole": "AWS::IAM::Role",
        "FnOrders": "AWS::SNS::Subscription",
        "FnOrdersPermission": "AWS::Lambda::Permission",
        "FnBus": "AWS::Events::Rule",
        "FnBusPermission": "AWS::Lambda::Permission",
        "FnTick": "AWS::Events::Rule",
        "FnTickPermission": "AWS::Lambda::Permission",
    }
    assert r["FnOrders"]["Properties"] == {
        "Endpoint": {"Fn::GetAtt": ["Fn", "Arn"]},
        "Protocol": "lambda",
        "TopicArn": {"Ref": "T"},
        "FilterPolicy": {"k": ["v"]},
    }
    assert r["FnBus"]["Properties"] == {
        "EventPattern": {"source": ["app"]},
        "EventBusName": "b",
        "Name": "r",
        "Targets": [
            {"Arn": {"Fn::GetAtt": ["Fn", "Arn"]}, "Id": "FnBusLambdaTarget", "Input": "{}"}
        ],
    }
    assert r["FnTick"]["Properties"]["State"] == "DISABLED"
    assert r["FnBusPermission"]["Properties"] == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Ref": "Fn"},
        "Principal": "events.amazonaws.com",
        "SourceArn": {"Fn::GetAtt": ["FnBus", "Arn"]},
    }


def test_dead_letter_queue() -> None:
    out = transform(sam({"DeadLetterQueue": {"Type": "SQS", "TargetArn": {"Ref": "Q"}}}))
    assert out["Resources"]["Fn"]["Properties"]["DeadLetterConfig"] == {"TargetArn": {"Ref": "Q"}}
    (policy,) = out["Resources"]["FnRole"]["Properties"]["Policies"]
    assert policy["PolicyName"] == "FnDeadLetterQueuePolicy"


def test_globals_merge() -> None:
    body = sam(
        {"Environment": {"Variables": {"B": "2"}}, "Timeout": 5, "Layers": ["l2"]},
        Globals={
            "Function": {
                "Timeout": 30,
                "MemorySize": 256,
                "Layers": ["l1"],
                "Environment": {"Variables": {"A": "1", "B": "1"}},
            }
        },
    )
    fn = transform(body)["Resources"]["Fn"]["Properties"]
    assert fn["Timeout"] == 5 and fn["MemorySize"] == 256 and fn["Layers"] == ["l1", "l2"]
    assert fn["Environment"] == {"Variables": {"A": "1", "B": "2"}}


@pytest.mark.parametrize(
    ("global_value", "local", "merged"),
    [
        ({"a": 1, "b": {"c": 1}}, {"b": {"d": 2}}, {"a": 1, "b": {"c": 1, "d": 2}}),
        ([1], [2], [1, 2]),
        ("g", "l", "l"),
        ({"Ref": "G"}, {"Ref": "L"}, {"Ref": "L"}),
        ({"a": 1}, {"Fn::If": ["C", {}, {}]}, {"Fn::If": ["C", {}, {}]}),
    ],
)
def test_merge_globals(global_value: Any, local: Any, merged: Any) -> None:
    assert merge_globals(global_value, local) == merged


def test_referable_properties_are_rewritten() -> None:
    body = sam(
        {
            "AutoPublishAlias": "live",
            "EventInvokeConfig": {
                "DestinationConfig": {"OnSuccess": {"Type": "SQS"}, "OnFailure": {"Type": "SNS"}}
            },
        },
        Outputs={
            "Q": {"Value": {"Ref": "Fn.DestinationQueue"}},
            "QArn": {"Value": {"Fn::GetAtt": ["Fn", "DestinationQueue.Arn"]}},
            "T": {"Value": {"Fn::Sub": "${Fn.DestinationTopic}|${Fn.Alias}"}},
            "V": {"Value": {"Ref": "Fn.Version"}},
        },
    )
    outputs = transform(body, code_digest=lambda c: "x")["Outputs"]
    assert outputs["Q"]["Value"] == {"Ref": "FnEventInvokeConfigOnSuccessQueue"}
    assert outputs["QArn"]["Value"] == {"Fn::GetAtt": ["FnEventInvokeConfigOnSuccessQueue", "Arn"]}
    assert outputs["T"]["Value"] == {
        "Fn::Sub": "${FnEventInvokeConfigOnFailureTopic}|${FnAliaslive}"
    }
    assert outputs["V"]["Value"]["Ref"].startswith("FnVersion")


def test_conditions_carry_to_generated_resources() -> None:
    body = sam({"EventInvokeConfig": {"DestinationConfig": {"OnSuccess": {"Type": "SQS"}}}})
    body["Resources"]["Fn"]["Condition"] = "On"
    out = transform(body)
    assert {v.get("Condition") for v in out["Resources"].values()} == {"On"}


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"Bogus": 1},
            "Resources.Fn.Properties.Bogus: property 'Bogus' not defined for resource "
            "of type AWS::Serverless::Function",
        ),
        (
            {"EventInvokeConfig": {"DestinationConfig": {"OnSuccess": {"Type": "Kafka"}}}},
            "Resources.Fn.Properties.EventInvokeConfig.DestinationConfig.OnSuccess.Type: "
            "'Type: Kafka' must be one of ['SQS', 'SNS', 'EventBridge', 'Lambda', 'S3']",
        ),
        (
            {"EventInvokeConfig": {"DestinationConfig": {"OnFailure": {"Type": "Lambda"}}}},
            "Resources.Fn.Properties.EventInvokeConfig.DestinationConfig.OnFailure.Destination: "
            "Destination is required if Type is not ['SQS', 'SNS']",
        ),
        (
            {"EventInvokeConfig": {"DestinationConfig": {"OnFailure": {"Type": "S3"}}}},
            "OnFailure.Destination: Destination is required if Type is not ['SQS', 'SNS']",
        ),
        (
            {"Events": {"Api": {"Type": "Api", "Properties": {}}}},
            "Resources.Fn.Properties.Events.Api.Type: event type 'Api' is not supported by sendoff",
        ),
        (
            {"Events": {"T": {"Type": "SNS", "Properties": {}}}},
            "Resources.Fn.Properties.Events.T.Properties.Topic: required property is missing",
        ),
        ({"DeadLetterQueue": {"Type": "S3"}}, "needs Type (SQS or SNS) and TargetArn"),
        ({"DeploymentPreference": {"Type": "Canary10Percent5Minutes"}}, "gradual deployments"),
    ],
)
def test_transform_errors(props: dict[str, Any], message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        transform(sam(props))
    assert any(message in str(p) for p in caught.value.problems), caught.value.problems


def test_code_is_required_and_unknown_globals_are_errors() -> None:
    body = sam({})
    del body["Resources"]["Fn"]["Properties"]["CodeUri"]
    body["Globals"] = {"Function": {"Bogus": 1}}
    with pytest.raises(TemplateError) as caught:
        transform(body)
    assert sorted(str(p) for p in caught.value.problems) == [
        "Globals.Function.Bogus: 'Bogus' is not a supported property of Globals.Function",
        "Resources.Fn.Properties.CodeUri: give CodeUri (a local directory or zip) or InlineCode",
    ]


def test_other_resources_pass_through() -> None:
    body = sam({})
    body["Resources"]["Api"] = {"Type": "AWS::Serverless::Api", "Properties": {}}
    body["Resources"]["Q"] = {"Type": "AWS::SQS::Queue"}
    out = transform(body)
    assert out["Resources"]["Api"] == {"Type": "AWS::Serverless::Api", "Properties": {}}
    assert out["Resources"]["Q"] == {"Type": "AWS::SQS::Queue"}
