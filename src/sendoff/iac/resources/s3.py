"""AWS::S3::Bucket and AWS::S3::BucketPolicy through the server's S3 API.

``Ref`` of a bucket is its name; ``Arn``, ``DomainName``, ``RegionalDomainName``,
``DualStackDomainName`` and ``WebsiteURL`` are attributes, formed as AWS forms them. A
bucket without ``BucketName`` gets a generated lower-case name (``stack-logicalid-random``,
at most 63 characters), as CloudFormation names them. A name that already belongs to a
bucket outside the stack is an error, never adopted. Deleting a bucket that still holds
objects fails, as on AWS (``BucketNotEmpty``), so the stack's delete fails visibly.

``VersioningConfiguration`` and ``Tags`` are applied. Its ``NotificationConfiguration``
(CloudFormation's shape: ``LambdaConfigurations``, ``QueueConfigurations``,
``TopicConfigurations``, one ``Event`` each, ``Filter.S3Key.Rules``, and
``EventBridgeConfiguration.EventBridgeEnabled``) is put with
PutBucketNotificationConfiguration, so S3 checks each target as it does for any caller
(a function needs a permission for ``s3.amazonaws.com`` first: SAM's ``Type: S3`` event
adds it and makes the bucket depend on it). Encryption, public-access blocks, lifecycle,
CORS, ownership and website settings are accepted with no effect.

``AWS::S3::BucketPolicy`` puts its document on the bucket (``PutBucketPolicy``); ``Ref`` is
the bucket's name. sendoff does not evaluate bucket policies (docs/security.md).

Versioning, tags and the policy go through calls S3 may not serve yet: answered
``NotImplemented``, the setting is kept in the stack only (:func:`_if_served`), so SAM's
managed stack deploys either way.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from sendoff.iac.resources.base import (
    IGNORED,
    TAGS,
    Applied,
    Cloud,
    Prop,
    ResourceType,
    already_exists,
    error_code,
    is_not_found,
    string,
    tags_dict,
)
from sendoff.iac.state import ResourceState
from sendoff.model.json_types import JSON

BUCKET_NAME = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
# CloudFormation list -> (S3 API list, the target's key in each, in CloudFormation, in S3)
KINDS = (
    ("LambdaConfigurations", "LambdaFunctionConfigurations", "Function", "LambdaFunctionArn"),
    ("QueueConfigurations", "QueueConfigurations", "Queue", "QueueArn"),
    ("TopicConfigurations", "TopicConfigurations", "Topic", "TopicArn"),
)
IGNORED_PROPS = (
    "AccelerateConfiguration", "AccessControl", "AnalyticsConfigurations", "BucketEncryption",
    "CorsConfiguration", "IntelligentTieringConfigurations", "InventoryConfigurations",
    "LifecycleConfiguration", "LoggingConfiguration", "MetricsConfigurations",
    "ObjectLockConfiguration", "ObjectLockEnabled", "OwnershipControls",
    "PublicAccessBlockConfiguration", "ReplicationConfiguration", "WebsiteConfiguration",
)  # fmt: skip
_GONE = frozenset({"NoSuchBucket", "NoSuchBucketPolicy", "404", "NotFound"})


def _gone(exc: BaseException) -> bool:
    return is_not_found(exc) or error_code(exc) in _GONE


def _if_served(call: Any, **params: Any) -> None:
    """A bucket setting S3 may not serve yet (``NotImplemented``): then it is kept in the
    stack only, as the settings sendoff ignores are."""
    try:
        call(**params)
    except Exception as exc:
        if error_code(exc) != "NotImplemented":
            raise


def notification_request(config: JSON | None) -> JSON:
    """CloudFormation's NotificationConfiguration as PutBucketNotificationConfiguration's."""
    out: JSON = {}
    for cfn_key, api_key, cfn_target, api_target in KINDS:
        items = []
        for item in (config or {}).get(cfn_key) or []:
            entry: JSON = {api_target: item[cfn_target], "Events": [item["Event"]]}
            rules = ((item.get("Filter") or {}).get("S3Key") or {}).get("Rules")
            if rules:
                entry["Filter"] = {"Key": {"FilterRules": [
                    {"Name": r["Name"], "Value": r["Value"]} for r in rules]}}  # fmt: skip
            items.append(entry)
        if items:
            out[api_key] = items
    if ((config or {}).get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled") in (
        True, "true", "True",
    ):  # fmt: skip
        out["EventBridgeConfiguration"] = {}
    return out


class Bucket(ResourceType):
    type_name = "AWS::S3::Bucket"
    name_property = "BucketName"
    attributes = frozenset(
        {"Arn", "DomainName", "RegionalDomainName", "DualStackDomainName", "WebsiteURL"}
    )
    schema: ClassVar[dict[str, Prop]] = {
        "BucketName": string(create_only=True, pattern=BUCKET_NAME),
        "NotificationConfiguration": Prop(kind="map"),
        "VersioningConfiguration": Prop(
            kind="map", fields={"Status": string(required=True, choices=("Enabled", "Suspended"))}
        ),
        "Tags": TAGS,
        **{name: IGNORED for name in IGNORED_PROPS},
    }

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        s3 = cloud.client("s3")
        name = props.get("BucketName") or cloud.physical_name(logical_id, max_len=63).lower()
        try:  # us-east-1 answers CreateBucket 200 for a bucket one already owns
            s3.head_bucket(Bucket=name)
        except Exception as exc:
            if not _gone(exc):
                raise
        else:
            raise already_exists(logical_id, self.type_name, name)
        params: JSON = {"Bucket": name}
        if cloud.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": cloud.region}
        try:
            s3.create_bucket(**params)
        except Exception as exc:
            if error_code(exc) in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise already_exists(logical_id, self.type_name, name) from exc
            raise
        try:
            self._configure(s3, name, {}, props)
            self._notifications(s3, name, props)
        except Exception:
            s3.delete_bucket(Bucket=name)
            raise
        return self._applied(cloud, name)

    def update(self, cloud: Cloud, current: ResourceState, props: JSON) -> Applied:
        name = current.physical_id
        s3 = cloud.client("s3")
        self._configure(s3, name, current.properties, props)
        old = current.properties.get("NotificationConfiguration")
        if props.get("NotificationConfiguration") != old:
            self._notifications(s3, name, props)
        return self._applied(cloud, name)

    def delete(self, cloud: Cloud, current: ResourceState) -> None:
        try:
            cloud.client("s3").delete_bucket(Bucket=current.physical_id)
        except Exception as exc:
            if not _gone(exc):
                raise

    @staticmethod
    def _configure(s3: Any, name: str, old: JSON, new: JSON) -> None:
        """Versioning and tags, where they changed."""
        versioning, before = new.get("VersioningConfiguration"), old.get("VersioningConfiguration")
        if versioning != before and (versioning or before):
            status = versioning["Status"] if isinstance(versioning, dict) else "Suspended"
            _if_served(s3.put_bucket_versioning, Bucket=name,
                       VersioningConfiguration={"Status": status})  # fmt: skip
        tags, old_tags = tags_dict(new.get("Tags")), tags_dict(old.get("Tags"))
        if tags != old_tags:
            if tags:
                tag_set = [{"Key": k, "Value": v} for k, v in tags.items()]
                _if_served(s3.put_bucket_tagging, Bucket=name, Tagging={"TagSet": tag_set})
            else:
                _if_served(s3.delete_bucket_tagging, Bucket=name)

    @staticmethod
    def _notifications(s3: Any, name: str, props: JSON) -> None:
        request = notification_request(props.get("NotificationConfiguration"))
        if request or "NotificationConfiguration" in props:
            s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration=request)

    @staticmethod
    def _applied(cloud: Cloud, name: str) -> Applied:
        region = cloud.region
        return Applied(
            physical_id=name,
            ref=name,
            attributes={
                "Arn": f"arn:{cloud.partition}:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{region}.amazonaws.com",
                "DualStackDomainName": f"{name}.s3.dualstack.{region}.amazonaws.com",
                "WebsiteURL": f"http://{name}.s3-website-{region}.amazonaws.com",
            },
        )


class BucketPolicy(ResourceType):
    """The policy is put on the bucket; ``Ref`` is the bucket's name."""

    type_name = "AWS::S3::BucketPolicy"
    schema: ClassVar[dict[str, Prop]] = {
        "Bucket": string(required=True, create_only=True),
        "PolicyDocument": Prop(kind="json", required=True),
    }

    @staticmethod
    def _put(cloud: Cloud, props: JSON) -> Applied:
        bucket = str(props["Bucket"])
        document = props["PolicyDocument"]
        text = document if isinstance(document, str) else json.dumps(document)
        _if_served(cloud.client("s3").put_bucket_policy, Bucket=bucket, Policy=text)
        return Applied(physical_id=bucket, ref=bucket)

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        return self._put(cloud, props)

    def update(self, cloud: Cloud, current: ResourceState, props: JSON) -> Applied:
        return self._put(cloud, props)

    def delete(self, cloud: Cloud, current: ResourceState) -> None:
        try:
            cloud.client("s3").delete_bucket_policy(Bucket=current.physical_id)
        except Exception as exc:
            if not _gone(exc) and error_code(exc) != "NotImplemented":
                raise
