"""AWS::S3::Bucket and AWS::S3::BucketPolicy through the server's S3 API.

``Ref`` of a bucket is its name; ``Arn``, ``DomainName``, ``RegionalDomainName``,
``DualStackDomainName`` and ``WebsiteURL`` are attributes, formed as AWS forms them. A
bucket without ``BucketName`` gets a generated lower-case name (``stack-logicalid-random``,
at most 63 characters), as CloudFormation names them. A name that already belongs to a
bucket outside the stack is an error, never adopted. Deleting a bucket that still holds
objects fails, as on AWS (``BucketNotEmpty``), so the stack's delete fails visibly.

``VersioningConfiguration`` and ``Tags`` are applied; encryption, public-access blocks,
lifecycle, CORS, ownership and website settings are accepted with no effect (sendoff's
buckets are local files: docs/templates.md). The bucket policy is stored on the bucket
(``PutBucketPolicy``); sendoff's S3 does not evaluate it (docs/security.md).
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
_GONE = frozenset({"NoSuchBucket", "NoSuchBucketPolicy", "404", "NotFound"})


def _gone(exc: BaseException) -> bool:
    return is_not_found(exc) or error_code(exc) in _GONE


class Bucket(ResourceType):
    type_name = "AWS::S3::Bucket"
    name_property = "BucketName"
    attributes = frozenset(
        {"Arn", "DomainName", "RegionalDomainName", "DualStackDomainName", "WebsiteURL"}
    )
    schema: ClassVar[dict[str, Prop]] = {
        "BucketName": string(create_only=True, pattern=BUCKET_NAME),
        "VersioningConfiguration": Prop(
            kind="map", fields={"Status": string(required=True, choices=("Enabled", "Suspended"))}
        ),
        "Tags": TAGS,
        "AccessControl": IGNORED,
        "BucketEncryption": IGNORED,
        "PublicAccessBlockConfiguration": IGNORED,
        "OwnershipControls": IGNORED,
        "LifecycleConfiguration": IGNORED,
        "CorsConfiguration": IGNORED,
        "WebsiteConfiguration": IGNORED,
        "LoggingConfiguration": IGNORED,
        "ObjectLockEnabled": IGNORED,
        "ObjectLockConfiguration": IGNORED,
        "IntelligentTieringConfigurations": IGNORED,
        "MetricsConfigurations": IGNORED,
        "AnalyticsConfigurations": IGNORED,
        "InventoryConfigurations": IGNORED,
        "AccelerateConfiguration": IGNORED,
        "ReplicationConfiguration": IGNORED,
    }  # fmt: skip

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        s3 = cloud.client("s3")
        name = props.get("BucketName") or _generated_name(cloud, logical_id)
        try:
            s3.head_bucket(Bucket=name)
        except Exception as exc:
            if not _gone(exc):
                raise
        else:
            raise already_exists(logical_id, self.type_name, name)
        params: dict[str, Any] = {"Bucket": name}
        if cloud.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": cloud.region}
        s3.create_bucket(**params)
        self._configure(s3, name, {}, props)
        return self._applied(cloud, name)

    @staticmethod
    def _configure(s3: Any, name: str, old: JSON, new: JSON) -> None:
        versioning = new.get("VersioningConfiguration")
        if versioning != old.get("VersioningConfiguration"):
            status = versioning["Status"] if isinstance(versioning, dict) else "Suspended"
            if versioning or old.get("VersioningConfiguration"):
                s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})
        tags, old_tags = tags_dict(new.get("Tags")), tags_dict(old.get("Tags"))
        if tags != old_tags:
            if tags:
                tag_set = [{"Key": k, "Value": v} for k, v in tags.items()]
                s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tag_set})
            else:
                s3.delete_bucket_tagging(Bucket=name)

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

    def update(self, cloud: Cloud, current: ResourceState, props: JSON) -> Applied:
        self._configure(cloud.client("s3"), current.physical_id, current.properties, props)
        return self._applied(cloud, current.physical_id)

    def delete(self, cloud: Cloud, current: ResourceState) -> None:
        try:
            cloud.client("s3").delete_bucket(Bucket=current.physical_id)
        except Exception as exc:
            if not _gone(exc):
                raise


def _generated_name(cloud: Cloud, logical_id: str) -> str:
    """CloudFormation's generated bucket name: the usual ``stack-LogicalId-RANDOM``,
    lower-cased, within S3's 63 characters."""
    return cloud.physical_name(logical_id, max_len=63).lower()


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
        cloud.client("s3").put_bucket_policy(Bucket=bucket, Policy=text)
        return Applied(physical_id=bucket, ref=bucket)

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        return self._put(cloud, props)

    def update(self, cloud: Cloud, current: ResourceState, props: JSON) -> Applied:
        return self._put(cloud, props)

    def delete(self, cloud: Cloud, current: ResourceState) -> None:
        try:
            cloud.client("s3").delete_bucket_policy(Bucket=current.physical_id)
        except Exception as exc:
            if not _gone(exc):
                raise
