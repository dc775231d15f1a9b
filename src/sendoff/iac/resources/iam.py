"""AWS::IAM::Role, ::Policy, ::ManagedPolicy and AWS::CDK::Metadata: kept in the stack only.

sendoff does not check credentials or policies, so these create nothing; they still get
the ids and ARNs CloudFormation would give, so templates that refer to them deploy.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from sendoff.iac.resources.base import (
    TAGS,
    Applied,
    Cloud,
    Prop,
    StoredOnly,
    integer,
    string,
)

JSON = dict[str, Any]


def _role_id(name: str) -> str:
    return "AROA" + hashlib.sha1(name.encode()).hexdigest()[:17].upper()


class Role(StoredOnly):
    type_name = "AWS::IAM::Role"
    name_property = "RoleName"
    attributes = frozenset({"Arn", "RoleId"})
    schema: ClassVar[dict[str, Prop]] = {
        "AssumeRolePolicyDocument": Prop(kind="json", required=True),
        "RoleName": string(create_only=True, pattern=r"[\w+=,.@-]{1,64}"),
        "Path": string(create_only=True, pattern=r"/|/[\x21-\x7E]+/"),
        "ManagedPolicyArns": Prop(kind="list"),
        "Policies": Prop(kind="list"),
        "Description": string(max_len=1000),
        "MaxSessionDuration": integer(3600, 43200),
        "PermissionsBoundary": string(),
        "Tags": TAGS,
    }

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        name = props.get("RoleName") or cloud.physical_name(logical_id, max_len=64)
        return self.make(cloud, logical_id, props, name)

    def make(self, cloud: Cloud, logical_id: str, props: JSON, physical_id: str) -> Applied:
        path = props.get("Path") or "/"
        arn = f"arn:{cloud.partition}:iam::{cloud.account_id}:role{path}{physical_id}"
        attributes = {"Arn": arn, "RoleId": _role_id(arn)}
        return Applied(physical_id=physical_id, ref=physical_id, attributes=attributes)


class Policy(StoredOnly):
    type_name = "AWS::IAM::Policy"
    schema: ClassVar[dict[str, Prop]] = {
        "PolicyName": string(required=True),
        "PolicyDocument": Prop(kind="json", required=True),
        "Roles": Prop(kind="list"),
        "Users": Prop(kind="list"),
        "Groups": Prop(kind="list"),
    }


class ManagedPolicy(StoredOnly):
    type_name = "AWS::IAM::ManagedPolicy"
    attributes = frozenset({"PolicyArn"})
    schema: ClassVar[dict[str, Prop]] = {
        "PolicyDocument": Prop(kind="json", required=True),
        "ManagedPolicyName": string(create_only=True),
        "Description": string(create_only=True),
        "Path": string(create_only=True),
        "Roles": Prop(kind="list"),
        "Users": Prop(kind="list"),
        "Groups": Prop(kind="list"),
    }

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        name = props.get("ManagedPolicyName") or cloud.physical_name(logical_id, max_len=128)
        return self.make(cloud, logical_id, props, name)

    def make(self, cloud: Cloud, logical_id: str, props: JSON, physical_id: str) -> Applied:
        path = props.get("Path") or "/"
        arn = f"arn:{cloud.partition}:iam::{cloud.account_id}:policy{path}{physical_id}"
        return Applied(physical_id=arn, ref=arn, attributes={"PolicyArn": arn})


class CdkMetadata(StoredOnly):
    """The CDK's usage report; nothing to do locally."""

    type_name = "AWS::CDK::Metadata"
    schema: ClassVar[dict[str, Prop]] = {"Analytics": Prop(), "Modules": Prop()}
