"""Planning: every problem found before anything is touched, and the change set."""

from __future__ import annotations

from typing import Any

import pytest

from sendoff.iac.errors import TemplateError, UnsupportedError
from sendoff.iac.intrinsics import resolve
from sendoff.iac.plan import Action, Plan, TypedLookup, prepare
from sendoff.iac.resources import RESOURCE_TYPES
from sendoff.iac.resources.base import check_properties
from sendoff.iac.sam import transform
from sendoff.iac.state import ResourceState, Stack, StackStatus
from sendoff.iac.template import parse_template


def plan_of(text: str, previous: Stack | None = None, **kw: Any) -> Plan:
    template = parse_template(text, source="t.yaml")
    body = transform(template.body) if template.is_serverless else template.body
    return prepare(
        template,
        body,
        stack_name="shop",
        region="us-east-1",
        account_id="123456789012",
        previous=previous,
        **kw,
    )


def problems_of(text: str, **kw: Any) -> list[str]:
    with pytest.raises(TemplateError) as caught:
        plan_of(text, **kw)
    return [str(p) for p in caught.value.problems]


FUNCTION = """
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/r
      Code: {ZipFile: "def handler(e, c): return e"}
"""


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        (
            """
  Config:
    Type: AWS::Lambda::EventInvokeConfig
    Properties:
      FunctionName: !Ref Fn
      Qualifier: $LATEST
      MaximumRetryAttempts: 5
      MaximumEventAgeInSeconds: 30
      DestinationConfig:
        OnSuccess: {}
""",
            [
                "line 15: Resources.Config.Properties.MaximumRetryAttempts: 5 is greater than the "
                "maximum 2",
                "line 16: Resources.Config.Properties.MaximumEventAgeInSeconds: 30 is less than "
                "the minimum 60",
                "line 18: Resources.Config.Properties.DestinationConfig.OnSuccess.Destination: "
                "required "
                "property is missing",
            ],
        ),
        (
            """
  Q:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: soon
      QueueName: jobs.fifo
      Color: blue
""",
            [
                "line 13: Resources.Q.Properties.VisibilityTimeout: must be an integer, not 'soon'",
                "line 15: Resources.Q.Properties.Color: unsupported property 'Color' for "
                "AWS::SQS::Queue "
                "(supported: ContentBasedDeduplication, DeduplicationScope, DelaySeconds, "
                "FifoQueue, "
                "FifoThroughputLimit, KmsDataKeyReusePeriodSeconds, KmsMasterKeyId, "
                "MaximumMessageSize, "
                "MessageRetentionPeriod, QueueName, ReceiveMessageWaitTimeSeconds, "
                "RedriveAllowPolicy, "
                "RedrivePolicy, SqsManagedSseEnabled, Tags, VisibilityTimeout)",
            ],
        ),
        (
            """
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: jobs.fifo
""",
            [
                "line 13: Resources.Q.Properties.QueueName: a name ending with .fifo needs "
                "FifoQueue: true"
            ],
        ),
        (
            """
  Other:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: cobol85
      Role: not-a-role
      Code: {S3Bucket: b, S3Key: k}
""",
            [
                "line 14: Resources.Other.Properties.Role: 'not-a-role' does not match "
                r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
            ],
        ),
        (
            """
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !GetAtt Fn.Name
""",
            [
                "line 13: Resources.Topic.Properties.DisplayName.Fn::GetAtt: Fn "
                "(AWS::Lambda::Function) "
                "has no attribute 'Name' (it has: Arn)"
            ],
        ),
    ],
)
def test_invalid_property_values_point_at_resource_property_and_line(
    resources: str, expected: list[str]
) -> None:
    assert problems_of("Resources:" + FUNCTION + resources) == expected


def test_cross_property_checks_run_when_the_schema_passes() -> None:
    text = "Resources:" + FUNCTION.replace("Runtime: python3.12", "Runtime: cobol85")
    assert problems_of(text) == [
        "line 5: Resources.Fn.Properties.Runtime: 'cobol85' is not a runtime sendoff runs (one of "
        "nodejs18.x, nodejs20.x, nodejs22.x, provided, provided.al2, provided.al2023, python3.10, "
        "python3.11, python3.12, python3.13, python3.14, python3.9)",
        "line 8: Resources.Fn.Properties.Code.ZipFile: inline code needs a Python or Node.js "
        "runtime, not cobol85",
    ]


def test_image_code_is_explained_and_s3_code_accepted() -> None:
    text = "Resources:" + FUNCTION.replace(
        '{ZipFile: "def handler(e, c): return e"}', "{ImageUri: repo/image:1}"
    )
    (message,) = problems_of(text)
    assert "an image is not supported by sendoff" in message
    s3 = "Resources:" + FUNCTION.replace(
        '{ZipFile: "def handler(e, c): return e"}', "{S3Bucket: b, S3Key: k}"
    )
    assert list(plan_of(s3).resources) == ["Fn"]


def test_unsupported_types_are_named_unless_skipped() -> None:
    text = """
Resources:
  Table: {Type: AWS::DynamoDB::Table, Properties: {}}
  Bucket: {Type: AWS::ApiGateway::RestApi}
  Api: {Type: AWS::ApiGateway::RestApi}
  Q: {Type: AWS::SQS::Queue}
"""
    with pytest.raises(UnsupportedError) as caught:
        plan_of(text)
    assert str(caught.value) == (
        "the template uses resource types sendoff does not support: AWS::ApiGateway::RestApi "
        "(Bucket, Api); AWS::DynamoDB::Table (Table). Remove them, or deploy with "
        "--skip-unsupported to leave them out."
    )
    plan = plan_of(text, skip_unsupported=True)
    assert list(plan.resources) == ["Q"]
    assert plan.skipped == {
        "Table": "AWS::DynamoDB::Table",
        "Bucket": "AWS::ApiGateway::RestApi",
        "Api": "AWS::ApiGateway::RestApi",
    }
    assert "skipped AWS::ApiGateway::RestApi (not supported): Bucket, Api" in plan.warnings


def test_references_to_resources_left_out_are_explained() -> None:
    text = """
Parameters:
  Stage: {Type: String, Default: dev}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Bucket: {Type: AWS::DynamoDB::Table}
  Archive: {Type: AWS::SQS::Queue, Condition: IsProd}
  Q:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Archive.Arn, maxReceiveCount: 3}
      Tags: [{Key: bucket, Value: !Ref Bucket}]
"""
    assert problems_of(text, skip_unsupported=True) == [
        "line 12: Resources.Q.Properties.RedrivePolicy: refers to Archive, which is not deployed: "
        "its "
        "condition IsProd is false",
        "line 13: Resources.Q.Properties.Tags: refers to Bucket, which is not deployed: it is "
        "skipped (AWS::DynamoDB::Table is not supported)",
    ]


def test_a_circular_dependency_is_reported_at_its_line() -> None:
    text = """
Resources:
  A:
    Type: AWS::SQS::Queue
    Properties: {RedrivePolicy: {deadLetterTargetArn: !GetAtt B.Arn, maxReceiveCount: 1}}
  B:
    Type: AWS::SQS::Queue
    Properties: {RedrivePolicy: {deadLetterTargetArn: !GetAtt A.Arn, maxReceiveCount: 1}}
"""
    assert problems_of(text) == [
        "line 3: Resources.A: circular dependency between resources: A -> B -> A"
    ]


def test_outputs_and_conditions_are_checked() -> None:
    text = """
Conditions:
  Loop: !Not [!Condition Loop]
Resources:
  Q: {Type: AWS::SQS::Queue}
"""
    assert problems_of(text) == ["line 3: Conditions.Loop: circular condition: Loop -> Loop"]
    text = "Resources:\n  Q: {Type: AWS::SQS::Queue}\nOutputs:\n  X: {Value: !GetAtt Q.Nope}\n"
    assert problems_of(text) == [
        "line 4: Outputs.X.Value.Fn::GetAtt: Q (AWS::SQS::Queue) has no attribute 'Nope' "
        "(it has: Arn, QueueName, QueueUrl)"
    ]


def test_warnings() -> None:
    text = """
Rules:
  R: {Assertions: []}
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      KmsMasterKeyId: alias/aws/sqs
      RedrivePolicy:
        deadLetterTargetArn: arn:aws:sqs:us-east-1:000000000000:dlq
        maxReceiveCount: 3
"""
    assert plan_of(text).warnings == (
        "the template's Rules are not evaluated by sendoff",
        "Resources.Q.Properties.KmsMasterKeyId has no effect in sendoff",
        "Resources.Q: arn:aws:sqs:us-east-1:000000000000:dlq names account 000000000000, but the "
        "server's is 123456789012 (start it with --account-id 000000000000, or build the ARN "
        "with ${AWS::AccountId})",
    )


CHANGES = """
Parameters:
  Timeout: {Type: Number, Default: 30}
  Name: {Type: String, Default: jobs}
  Extra: {Type: String, Default: "no"}
Conditions:
  WithExtra: !Equals [!Ref Extra, "yes"]
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties: {QueueName: !Ref Name, VisibilityTimeout: !Ref Timeout}
  Dlq: {Type: AWS::SQS::Queue}
  Sub:
    Type: AWS::SNS::Subscription
    Properties: {TopicArn: arn:aws:sns:us-east-1:123456789012:t, Protocol: sqs,
                 Endpoint: !GetAtt Q.Arn}
  More: {Type: AWS::SQS::Queue, Condition: WithExtra}
"""


def deployed(plan: Plan) -> Stack:
    """What a deployment of ``plan`` would have recorded."""
    resources: dict[str, ResourceState] = {}
    lookup = TypedLookup(plan.resources, RESOURCE_TYPES, resources)
    for logical_id in plan.graph.order:
        type_name = plan.resources[logical_id]["Type"]
        raw = plan.resources[logical_id].get("Properties") or {}
        props = resolve(raw, plan.context.with_resources(lookup))
        props, _, _ = check_properties(RESOURCE_TYPES[type_name], props, ())
        name = props.get("QueueName", f"gen-{logical_id}")
        resources[logical_id] = ResourceState(
            logical_id=logical_id,
            type=type_name,
            physical_id=name,
            ref=name,
            properties=props,
            attributes={"Arn": f"arn:aws:sqs:us-east-1:123456789012:{name}"},
        )
    return Stack(
        name="shop",
        region="us-east-1",
        account_id="123456789012",
        status=StackStatus.CREATE_COMPLETE,
        resources=resources,
        parameters=dict(plan.parameters.given),
        processed=plan.processed,
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, {}),
        ({"Timeout": "60"}, {"Q": ("Modify", "False", ("VisibilityTimeout",))}),
        (
            {"Name": "work"},
            {
                "Q": ("Modify", "True", ("QueueName",)),
                "Sub": ("Modify", "Conditional", ("Endpoint",)),
            },
        ),
        ({"Extra": "yes"}, {"More": ("Add", "", ())}),
    ],
)
def test_change_sets(overrides: dict[str, str], expected: dict[str, Any]) -> None:
    previous = deployed(plan_of(CHANGES))
    plan = plan_of(CHANGES, previous=previous, overrides=overrides)
    changes = {
        c.logical_id: (c.action.value, c.replacement, c.properties)
        for c in plan.changes
        if c.action is not Action.NONE
    }
    assert changes == expected
    assert plan.has_changes == bool(expected)


def test_removed_resources_and_previous_parameter_values() -> None:
    previous = deployed(plan_of(CHANGES, overrides={"Extra": "yes", "Timeout": "60"}))
    plan = plan_of(
        CHANGES.replace('Default: "no"', 'Default: "yes"').replace("  More:", "  X:"),
        previous=previous,
    )
    actions = {c.logical_id: c.action for c in plan.changes if c.action is not Action.NONE}
    assert actions == {"X": Action.ADD, "More": Action.REMOVE}
    assert plan.parameters.values["Timeout"] == "60"  # kept from the previous deployment


def test_a_failed_first_deployment_is_planned_as_new() -> None:
    previous = deployed(plan_of(CHANGES)).evolve(status=StackStatus.ROLLBACK_COMPLETE)
    plan = plan_of(CHANGES, previous=previous)
    assert {c.action for c in plan.changes} == {Action.ADD}
