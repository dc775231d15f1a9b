"""The resource types sendoff can deploy, one module per service family.

``RESOURCE_TYPES`` maps a CloudFormation type name to its ``ResourceType``.
"""

from __future__ import annotations

from sendoff.iac.resources.base import Applied, Cloud, Prop, ResourceType, StoredOnly
from sendoff.iac.resources.events import EventBus, Rule
from sendoff.iac.resources.iam import CdkMetadata, ManagedPolicy, Policy, Role
from sendoff.iac.resources.lambda_ import Alias, Function, Version
from sendoff.iac.resources.lambda_config import EventInvokeConfig, Permission
from sendoff.iac.resources.lambda_esm import EventSourceMapping
from sendoff.iac.resources.s3 import Bucket, BucketPolicy
from sendoff.iac.resources.sns import Subscription, Topic, TopicPolicy
from sendoff.iac.resources.sqs import Queue, QueuePolicy

__all__ = ["RESOURCE_TYPES", "Applied", "Cloud", "Prop", "ResourceType", "StoredOnly"]

RESOURCE_TYPES: dict[str, ResourceType] = {
    t.type_name: t
    for t in (
        Function(), Version(), Alias(), EventInvokeConfig(), Permission(), EventSourceMapping(),
        Queue(), QueuePolicy(), Topic(), Subscription(), TopicPolicy(),
        EventBus(), Rule(), Role(), Policy(), ManagedPolicy(), CdkMetadata(),
        Bucket(), BucketPolicy(),
    )
}  # fmt: skip
