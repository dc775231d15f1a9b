"""AWS::IAM::Role and ::Policy through the server's IAM API; ::ManagedPolicy and
AWS::CDK::Metadata kept in the stack only.

A role is created with ``CreateRole``, its ``Policies`` with ``PutRolePolicy`` and its
``ManagedPolicyArns`` with ``AttachRolePolicy``. ARNs sendoff does not know (customer
managed policies, AWS-managed ones outside services/iam/managed.py) are skipped: the role
is still created, without what they would grant (docs/iam.md). SAM policy templates
(``{"SQSSendMessagePolicy": {"QueueName": ...}}`` in a SAM function's ``Policies``) that
grant a destination action are expanded as SAM does (``SAM_TEMPLATES``); others are skipped.
An ``AWS::IAM::Policy`` puts its document on each role in ``Roles`` that exists.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from sendoff.iac.resources.base import (
    TAGS,
    Applied,
    Cloud,
    Prop,
    ResourceType,
    StoredOnly,
    already_exists,
    error_code,
    integer,
    is_not_found,
    string,
    tags_dict,
)
from sendoff.iac.state import ResourceState
from sendoff.model.json_types import JSON

# SAM policy template -> (its parameter, actions, resource with {p} for the parameter),
# from aws/serverless-application-model samtranslator/policy_templates_data/
# policy_templates.json
SAM_TEMPLATES: dict[str, tuple[str, list[str], str]] = {
    "SQSSendMessagePolicy": ("QueueName", ["sqs:SendMessage*"], "sqs:{r}:{a}:{p}"),
    "SNSPublishMessagePolicy": ("TopicName", ["sns:Publish"], "sns:{r}:{a}:{p}"),
    "LambdaInvokePolicy":
        ("FunctionName", ["lambda:InvokeFunction"], "lambda:{r}:{a}:function:{p}*"),
    "EventBridgePutEventsPolicy":
        ("EventBusName", ["events:PutEvents"], "events:{r}:{a}:event-bus/{p}"),
}  # fmt: skip


def _text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


def _expand(cloud: Cloud, document: Any) -> Any:
    """A real policy document: the document itself, or a SAM policy template expanded;
    None for a SAM template sendoff does not expand."""
    if isinstance(document, str) or not isinstance(document, dict):
        return document
    template = document.get("SAMPolicyTemplate")
    if not isinstance(template, dict) or len(template) != 1:
        return document
    ((name, params),) = template.items()
    known = SAM_TEMPLATES.get(name)
    if known is None or not isinstance(params, dict) or not isinstance(params.get(known[0]), str):
        return None
    parameter, actions, resource = known
    arn = f"arn:{cloud.partition}:" + resource.format(
        r=cloud.region, a=cloud.account_id, p=params[parameter]
    )
    statement = {"Effect": "Allow", "Action": actions, "Resource": arn}
    return {"Version": "2012-10-17", "Statement": [statement]}


class Role(ResourceType):
    type_name = "AWS::IAM::Role"
    name_property = "RoleName"
    attributes = frozenset({"Arn", "RoleId"})
    schema: ClassVar[dict[str, Prop]] = {
        "AssumeRolePolicyDocument": Prop(kind="json", required=True),
        "RoleName": string(create_only=True, pattern=r"[\w+=,.@-]{1,64}"),
        "Path": string(create_only=True, pattern=r"/|/[\x21-\x7E]+/"),
        "ManagedPolicyArns": Prop(kind="list"),
        "Policies": Prop(kind="list"),
        "Description": string(max_len=1000, create_only=True),
        "MaxSessionDuration": integer(3600, 43200, create_only=True),
        "PermissionsBoundary": string(ignored=True),
        "Tags": TAGS,
    }

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        iam = cloud.client("iam")
        name = props.get("RoleName") or cloud.physical_name(logical_id, max_len=64)
        try:
            iam.get_role(RoleName=name)
        except Exception as exc:
            if not is_not_found(exc):
                raise
        else:
            raise already_exists(logical_id, self.type_name, name)
        params: JSON = {
            "RoleName": name,
            "AssumeRolePolicyDocument": _text(props["AssumeRolePolicyDocument"]),
            "Path": props.get("Path") or "/",
        }
        if props.get("Description"):
            params["Description"] = props["Description"]
        if props.get("MaxSessionDuration"):
            params["MaxSessionDuration"] = props["MaxSessionDuration"]
        if props.get("Tags"):
            params["Tags"] = [{"Key": k, "Value": v} for k, v in tags_dict(props["Tags"]).items()]
        role = iam.create_role(**params)["Role"]
        self._sync(cloud, name, {}, props)
        return Applied(
            physical_id=name, ref=name, attributes={"Arn": role["Arn"], "RoleId": role["RoleId"]}
        )

    def update(self, cloud: Cloud, current: ResourceState, props: JSON) -> Applied:
        self._sync(cloud, current.physical_id, current.properties, props)
        return Applied(
            physical_id=current.physical_id, ref=current.physical_id, attributes=current.attributes
        )

    def delete(self, cloud: Cloud, current: ResourceState) -> None:
        iam = cloud.client("iam")
        name = current.physical_id
        try:
            for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
            for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
            iam.delete_role(RoleName=name)
        except Exception as exc:
            if not is_not_found(exc):
                raise

    @staticmethod
    def _sync(cloud: Cloud, name: str, old: JSON, new: JSON) -> None:
        """Make the role's inline and attached policies those of ``new`` (from ``old``)."""
        iam = cloud.client("iam")
        old_inline = _inline(cloud, old)
        new_inline = _inline(cloud, new)
        for policy_name, text in new_inline.items():
            if old_inline.get(policy_name) != text:
                iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=text)
        for policy_name in set(old_inline) - set(new_inline):
            _ignore_missing(iam.delete_role_policy, RoleName=name, PolicyName=policy_name)
        old_arns = set(_strings(old.get("ManagedPolicyArns")))
        new_arns = _strings(new.get("ManagedPolicyArns"))
        for arn in new_arns:
            if arn not in old_arns:
                _ignore_missing(iam.attach_role_policy, RoleName=name, PolicyArn=arn)
        for arn in old_arns - set(new_arns):
            _ignore_missing(iam.detach_role_policy, RoleName=name, PolicyArn=arn)


def _inline(cloud: Cloud, props: JSON) -> dict[str, str]:
    out: dict[str, str] = {}
    for policy in props.get("Policies") or []:
        if not isinstance(policy, dict):
            continue
        document = _expand(cloud, policy.get("PolicyDocument"))
        if document is not None:
            out[str(policy.get("PolicyName"))] = _text(document)
    return out


def _strings(value: Any) -> list[str]:
    return [v for v in value or [] if isinstance(v, str)]


def _ignore_missing(call: Any, **params: Any) -> None:
    """Run an IAM call; an unknown policy or role is skipped (see the module docstring)."""
    try:
        call(**params)
    except Exception as exc:
        if error_code(exc) != "NoSuchEntity":
            raise


class Policy(StoredOnly):
    """An inline policy put on each of its ``Roles`` (users and groups are not modelled)."""

    type_name = "AWS::IAM::Policy"
    stored_only = False
    schema: ClassVar[dict[str, Prop]] = {
        "PolicyName": string(required=True),
        "PolicyDocument": Prop(kind="json", required=True),
        "Roles": Prop(kind="list"),
        "Users": Prop(kind="list"),
        "Groups": Prop(kind="list"),
    }

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        self._put(cloud, props, {})
        return super().create(cloud, logical_id, props)

    def update(self, cloud: Cloud, current: ResourceState, props: JSON) -> Applied:
        self._put(cloud, props, current.properties)
        return super().update(cloud, current, props)

    def delete(self, cloud: Cloud, current: ResourceState) -> None:
        self._put(cloud, {}, current.properties)

    @staticmethod
    def _put(cloud: Cloud, new: JSON, old: JSON) -> None:
        iam = cloud.client("iam")
        new_roles = _strings(new.get("Roles"))
        name = new.get("PolicyName")
        text = _text(new["PolicyDocument"]) if new else ""
        for role in new_roles:
            _ignore_missing(
                iam.put_role_policy, RoleName=role, PolicyName=name, PolicyDocument=text
            )
        old_name = old.get("PolicyName")
        for role in _strings(old.get("Roles")):
            if role not in new_roles or old_name != name:
                _ignore_missing(iam.delete_role_policy, RoleName=role, PolicyName=old_name)


class ManagedPolicy(StoredOnly):
    """Kept in the stack: sendoff has no customer-managed policies (CreatePolicy) yet."""

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
