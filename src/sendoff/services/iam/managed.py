"""AWS-managed policies sendoff knows by ARN, with their documents as AWS publishes them.

Sources (public dumps of ``iam get-policy-version`` for each default version):
zoph-io/MAMIP ``policies/<name>`` (AWSLambdaBasicExecutionRole v1, AmazonSQSFullAccess v1,
AWSLambdaSQSQueueExecutionRole v1, AWSLambdaRole v1, AmazonEventBridgeFullAccess v4) and
zoph-io/IAMTrail ``policies/<name>`` (AmazonSNSFullAccess v2 of 2024-09-24,
AWSLambda_FullAccess v7). Attaching any other ``arn:aws:iam::aws:policy/...`` fails as on
AWS for a policy that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sendoff.model.arn import parse_arn
from sendoff.model.json_types import JSON

V = "2012-10-17"


@dataclass(frozen=True, kw_only=True)
class ManagedPolicy:
    name: str
    path: str
    version_id: str
    document: JSON

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::aws:policy{self.path}{self.name}"


def _allow(actions: list[str], resource: Any = "*", **extra: Any) -> JSON:
    return {"Effect": "Allow", "Action": actions, "Resource": resource, **extra}


_LOGS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
_SMS = [
    "sms-voice:DescribeVerifiedDestinationNumbers", "sms-voice:CreateVerifiedDestinationNumber",
    "sms-voice:SendDestinationNumberVerificationCode", "sms-voice:SendTextMessage",
    "sms-voice:DeleteVerifiedDestinationNumber", "sms-voice:VerifyDestinationNumber",
    "sms-voice:DescribeAccountAttributes", "sms-voice:DescribeSpendLimits",
    "sms-voice:DescribePhoneNumbers", "sms-voice:SetTextMessageSpendLimitOverride",
    "sms-voice:DescribeOptedOutNumbers", "sms-voice:DeleteOptedOutNumber",
]  # fmt: skip
_LAMBDA_FULL = [
    "cloudformation:DescribeStacks", "cloudformation:ListStackResources",
    "cloudwatch:ListMetrics", "cloudwatch:GetMetricData", "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets", "ec2:DescribeVpcs", "kms:DescribeKey", "kms:ListAliases",
    "iam:GetPolicy", "iam:GetPolicyVersion", "iam:GetRole", "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:ListRoles", "lambda:*",
    "logs:DescribeLogGroups", "states:DescribeStateMachine", "states:ListStateMachines",
    "tag:GetResources", "xray:GetTraceSummaries", "xray:BatchGetTraces",
]  # fmt: skip


def _pass_role(service: str, resource: str = "arn:aws:iam::*:role/*", sid: str = "") -> JSON:
    statement: JSON = {"Effect": "Allow", "Action": "iam:PassRole", "Resource": resource,
                       "Condition": {"StringLike": {"iam:PassedToService": service}}}  # fmt: skip
    return {"Sid": sid, **statement} if sid else statement


_POLICIES = [
    ManagedPolicy(
        name="AWSLambdaBasicExecutionRole", path="/service-role/", version_id="v1",
        document={"Version": V, "Statement": [_allow(_LOGS)]},
    ),
    ManagedPolicy(
        name="AWSLambdaSQSQueueExecutionRole", path="/service-role/", version_id="v1",
        document={"Version": V, "Statement": [_allow([
            "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", *_LOGS])]},
    ),
    ManagedPolicy(
        name="AmazonSQSFullAccess", path="/", version_id="v1",
        document={"Version": V, "Statement": [
            {"Action": ["sqs:*"], "Effect": "Allow", "Resource": "*"}]},
    ),
    ManagedPolicy(
        name="AmazonSNSFullAccess", path="/", version_id="v2",
        document={"Version": V, "Statement": [
            {"Sid": "SNSFullAccess", "Effect": "Allow", "Action": "sns:*", "Resource": "*"},
            {"Sid": "SMSAccessViaSNS", "Effect": "Allow", "Action": _SMS, "Resource": "*",
             "Condition": {"StringEquals": {"aws:CalledViaLast": "sns.amazonaws.com"}}},
        ]},
    ),
    ManagedPolicy(
        name="AWSLambdaRole", path="/service-role/", version_id="v1",
        document={"Version": V, "Statement": [_allow(["lambda:InvokeFunction"], ["*"])]},
    ),
    ManagedPolicy(
        name="AmazonEventBridgeFullAccess", path="/", version_id="v4",
        document={"Version": V, "Statement": [
            {"Sid": "EventBridgeActions", "Effect": "Allow",
             "Action": ["events:*", "schemas:*", "scheduler:*", "pipes:*"], "Resource": "*"},
            {"Sid": "IAMCreateServiceLinkedRoleForApiDestinations", "Effect": "Allow",
             "Action": "iam:CreateServiceLinkedRole",
             "Resource": "arn:aws:iam::*:role/aws-service-role/"
                         "AmazonEventBridgeApiDestinationsServiceRolePolicy",
             "Condition": {"StringEquals": {
                 "iam:AWSServiceName": "apidestinations.events.amazonaws.com"}}},
            {"Sid": "IAMCreateServiceLinkedRoleForAmazonEventBridgeSchemas", "Effect": "Allow",
             "Action": "iam:CreateServiceLinkedRole",
             "Resource": "arn:aws:iam::*:role/aws-service-role/schemas.amazonaws.com/"
                         "AWSServiceRoleForSchemas",
             "Condition": {"StringEquals": {"iam:AWSServiceName": "schemas.amazonaws.com"}}},
            {"Sid": "SecretsManagerAccessForApiDestinations", "Effect": "Allow",
             "Action": ["secretsmanager:CreateSecret", "secretsmanager:UpdateSecret",
                        "secretsmanager:DeleteSecret", "secretsmanager:GetSecretValue",
                        "secretsmanager:PutSecretValue"],
             "Resource": "arn:aws:secretsmanager:*:*:secret:events!*"},
            _pass_role("events.amazonaws.com", sid="IAMPassRoleAccessForEventBridge"),
            _pass_role("scheduler.amazonaws.com", sid="IAMPassRoleAccessForScheduler"),
            _pass_role("pipes.amazonaws.com", sid="IAMPassRoleAccessForPipes"),
        ]},
    ),
    ManagedPolicy(
        name="AWSLambda_FullAccess", path="/", version_id="v7",
        document={"Version": V, "Statement": [
            _allow(_LAMBDA_FULL),
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
             "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}},
            _allow(["logs:DescribeLogStreams", "logs:GetLogEvents", "logs:FilterLogEvents",
                    "logs:StartLiveTail", "logs:StopLiveTail"],
                   "arn:aws:logs:*:*:log-group:/aws/lambda/*"),
            {"Effect": "Allow", "Action": "iam:CreateServiceLinkedRole",
             "Resource": "arn:aws:iam::*:role/aws-service-role/lambda.amazonaws.com/"
                         "AWSServiceRoleForLambda",
             "Condition": {"StringEquals": {"iam:AWSServiceName": "lambda.amazonaws.com"}}},
        ]},
    ),
]  # fmt: skip

MANAGED: dict[str, ManagedPolicy] = {p.arn: p for p in _POLICIES}


def aws_managed(arn: str) -> ManagedPolicy | None:
    """The AWS-managed policy with this ARN (any partition), if sendoff knows it."""
    parsed = parse_arn(arn)
    if parsed is not None and parsed.account_id == "aws":
        return MANAGED.get(f"arn:aws:iam::aws:{parsed.resource}")
    return None


def is_aws_managed(arn: str) -> bool:
    parsed = parse_arn(arn)
    return (
        parsed is not None and parsed.account_id == "aws" and parsed.resource.startswith("policy/")
    )
