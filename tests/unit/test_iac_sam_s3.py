"""SAM's S3 event and S3 code locations, expanded as the SAM translator does."""

from __future__ import annotations

from typing import Any

import pytest

from sendoff.iac.errors import TemplateError
from sendoff.iac.resources.s3 import notification_request
from sendoff.iac.sam import transform


def template(events: dict[str, Any], code: Any = "src/") -> dict[str, Any]:
    fn = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "Runtime": "python3.12",
            "Handler": "app.handler",
            "CodeUri": code,
            "Events": events,
        },
    }
    return {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {"Fn": fn, "Uploads": {"Type": "AWS::S3::Bucket"}},
    }


def test_s3_event_adds_a_permission_and_the_buckets_configuration() -> None:
    rules = {"S3Key": {"Rules": [{"Name": "prefix", "Value": "in/"}]}}
    out = transform(
        template(
            {
                "Up": {
                    "Type": "S3",
                    "Properties": {
                        "Bucket": {"Ref": "Uploads"},
                        "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                        "Filter": rules,
                    },
                }
            }
        )
    )
    permission = out["Resources"]["FnUpPermission"]
    assert permission["Type"] == "AWS::Lambda::Permission"
    assert permission["Properties"] == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Ref": "Fn"},
        "Principal": "s3.amazonaws.com",
        "SourceAccount": {"Ref": "AWS::AccountId"},
    }
    bucket = out["Resources"]["Uploads"]
    assert bucket["DependsOn"] == ["FnUpPermission"]
    target = {"Fn::GetAtt": ["Fn", "Arn"]}
    assert bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"] == [
        {"Event": "s3:ObjectCreated:*", "Function": target, "Filter": rules},
        {"Event": "s3:ObjectRemoved:*", "Function": target, "Filter": rules},
    ]


def test_s3_event_needs_a_bucket_of_the_template() -> None:
    with pytest.raises(TemplateError, match="same template"):
        transform(
            template(
                {
                    "Up": {
                        "Type": "S3",
                        "Properties": {"Bucket": "some-bucket", "Events": "s3:ObjectCreated:*"},
                    }
                }
            )
        )
    with pytest.raises(TemplateError, match="same template"):
        transform(
            template(
                {
                    "Up": {
                        "Type": "S3",
                        "Properties": {"Bucket": {"Ref": "Nope"}, "Events": "s3:ObjectCreated:*"},
                    }
                }
            )
        )


def test_code_uri_in_s3() -> None:
    out = transform(template({}, code="s3://code-bucket/app/v1.zip"))
    assert out["Resources"]["Fn"]["Properties"]["Code"] == {
        "S3Bucket": "code-bucket",
        "S3Key": "app/v1.zip",
    }
    out = transform(template({}, code={"Bucket": "b", "Key": "k", "Version": "v"}))
    assert out["Resources"]["Fn"]["Properties"]["Code"] == {
        "S3Bucket": "b",
        "S3Key": "k",
        "S3ObjectVersion": "v",
    }


def test_cloudformation_notifications_become_the_api_shape() -> None:
    config = {
        "LambdaConfigurations": [
            {
                "Event": "s3:ObjectCreated:*",
                "Function": "arn:f",
                "Filter": {"S3Key": {"Rules": [{"Name": "suffix", "Value": ".txt"}]}},
            }
        ],
        "QueueConfigurations": [{"Event": "s3:ObjectRemoved:*", "Queue": "arn:q"}],
        "EventBridgeConfiguration": {"EventBridgeEnabled": True},
    }
    assert notification_request(config) == {
        "LambdaFunctionConfigurations": [
            {
                "LambdaFunctionArn": "arn:f",
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".txt"}]}},
            }
        ],
        "QueueConfigurations": [{"QueueArn": "arn:q", "Events": ["s3:ObjectRemoved:*"]}],
        "EventBridgeConfiguration": {},
    }


def test_s3_failure_destination_grants_put_object_on_the_buckets_objects() -> None:
    body = template({})
    body["Resources"]["Fn"]["Properties"]["EventInvokeConfig"] = {
        "DestinationConfig": {
            "OnFailure": {"Type": "S3", "Destination": {"Fn::GetAtt": ["Uploads", "Arn"]}}
        }
    }
    out = transform(body)
    policies = out["Resources"]["FnRole"]["Properties"]["Policies"]
    (statement,) = next(
        p for p in policies if p["PolicyName"] == "FnEventInvokeConfigOnFailureS3Policy"
    )["PolicyDocument"]["Statement"]
    assert statement["Action"] == "s3:PutObject"
    assert statement["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": ["Uploads", "Arn"]}, "/*"]]}


def test_code_uri_in_s3_with_a_version() -> None:
    out = transform(template({}, code="s3://code-bucket/app/v1.zip?versionId=3sL4kqtJlcpXroDTDmJ"))
    assert out["Resources"]["Fn"]["Properties"]["Code"] == {
        "S3Bucket": "code-bucket",
        "S3Key": "app/v1.zip",
        "S3ObjectVersion": "3sL4kqtJlcpXroDTDmJ",
    }
