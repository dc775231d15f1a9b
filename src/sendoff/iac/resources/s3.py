"""AWS::S3::Bucket through the server's S3 API.

``Ref`` is the bucket name; ``Arn``, ``DomainName`` and ``RegionalDomainName`` are
attributes. A bucket without ``BucketName`` gets a generated, lower-case name. Its
``NotificationConfiguration`` (CloudFormation's shape: ``LambdaConfigurations``,
``QueueConfigurations``, ``TopicConfigurations``, one ``Event`` each, ``Filter.S3Key.Rules``,
and ``EventBridgeConfiguration.EventBridgeEnabled``) is put with
PutBucketNotificationConfiguration, so S3 checks each target as it does for any caller
(a function needs a permission for ``s3.amazonaws.com`` first: SAM's ``Type: S3`` event
adds it and makes the bucket depend on it). Deleting a bucket that still holds objects
fails, as on AWS.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sendoff.iac.resources.base import (
    IGNORED,
    Applied,
    Cloud,
    Prop,
    ResourceType,
    already_exists,
    error_code,
    is_not_found,
    string,
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
    "PublicAccessBlockConfiguration", "ReplicationConfiguration", "Tags",
    "VersioningConfiguration", "WebsiteConfiguration",
)  # fmt: skip


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
    attributes = frozenset({"Arn", "DomainName", "RegionalDomainName", "DualStackDomainName"})
    schema: ClassVar[dict[str, Prop]] = {
        "BucketName": string(create_only=True, pattern=BUCKET_NAME),
        "NotificationConfiguration": Prop(kind="map"),
        **{name: IGNORED for name in IGNORED_PROPS},
    }

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        s3 = cloud.client("s3")
        name = props.get("BucketName") or cloud.physical_name(logical_id, max_len=63).lower()
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
            self._notifications(s3, name, props)
        except Exception:
            s3.delete_bucket(Bucket=name)
            raise
        return self._applied(cloud, name)

    def update(self, cloud: Cloud, current: ResourceState, props: JSON) -> Applied:
        name = current.physical_id
        old = current.properties.get("NotificationConfiguration")
        if props.get("NotificationConfiguration") != old:
            self._notifications(cloud.client("s3"), name, props)
        return self._applied(cloud, name)

    def delete(self, cloud: Cloud, current: ResourceState) -> None:
        try:
            cloud.client("s3").delete_bucket(Bucket=current.physical_id)
        except Exception as exc:
            if not is_not_found(exc) and error_code(exc) != "NoSuchBucket":
                raise

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
            },
        )
