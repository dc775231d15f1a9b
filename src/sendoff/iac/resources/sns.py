"""AWS::SNS::Topic (with its inline Subscription list), AWS::SNS::Subscription, and
AWS::SNS::TopicPolicy (stored only), through the server's SNS API.

``Ref`` of a topic is its ARN. Inline subscriptions are kept by ``Protocol|Endpoint`` so an
update subscribes the new ones and unsubscribes the removed ones.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from sendoff.iac.errors import Path, Problem
from sendoff.iac.resources.base import (
    IGNORED,
    TAGS,
    Applied,
    Cloud,
    Prop,
    ResourceType,
    StoredOnly,
    already_exists,
    is_not_found,
    string,
)
from sendoff.iac.state import ResourceState
from sendoff.model.json_types import JSON

TOPIC_NAME = r"[A-Za-z0-9_-]{1,256}|[A-Za-z0-9_-]{1,251}\.fifo"
SUBSCRIPTION_ATTRIBUTES = (
    "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy", "DeliveryPolicy",
)  # fmt: skip


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


class Topic(ResourceType):
    type_name = "AWS::SNS::Topic"
    name_property = "TopicName"
    attributes = frozenset({"TopicArn", "TopicName"})
    schema: ClassVar[dict[str, Prop]] = {
        "TopicName": string(create_only=True, pattern=TOPIC_NAME),
        "FifoTopic": Prop(kind="boolean", create_only=True),
        "ContentBasedDeduplication": Prop(kind="boolean"),
        "DisplayName": string(max_len=100),
        "Subscription": Prop(
            kind="list",
            fields={"Endpoint": string(required=True), "Protocol": string(required=True)},
        ),
        "Tags": TAGS,
        **{
            name: IGNORED
            for name in (
                "KmsMasterKeyId", "DataProtectionPolicy", "SignatureVersion", "TracingConfig",
                "ArchivePolicy", "DeliveryStatusLogging", "FifoThroughputScope",
            )
        },
    }  # fmt: skip

    def check(self, props: JSON, path: Path) -> list[Problem]:
        name, fifo = props.get("TopicName"), bool(props.get("FifoTopic"))
        if isinstance(name, str) and name.endswith(".fifo") != fifo:
            message = (
                "a FIFO topic's name must end with .fifo"
                if fifo
                else "a name ending with .fifo needs FifoTopic: true"
            )
            return [Problem(path=(*path, "TopicName"), message=message)]
        return []

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        sns = cloud.client("sns")
        fifo = bool(props.get("FifoTopic"))
        name = props.get("TopicName") or cloud.physical_name(
            logical_id, max_len=256, suffix=".fifo" if fifo else ""
        )
        arn = f"arn:{cloud.partition}:sns:{cloud.region}:{cloud.account_id}:{name}"
        try:
            sns.get_topic_attributes(TopicArn=arn)
        except Exception as exc:
            if not is_not_found(exc):
                raise
        else:
            raise already_exists(logical_id, self.type_name, name)
        attributes = {}
        if fifo:
            attributes["FifoTopic"] = "true"
        for key in ("DisplayName", "ContentBasedDeduplication"):
            if key in props:
                attributes[key] = _text(props[key])
        params: JSON = {"Name": name, "Attributes": attributes}
        if props.get("Tags"):
            params["Tags"] = [{"Key": t["Key"], "Value": t["Value"]} for t in props["Tags"]]
        arn = sns.create_topic(**params)["TopicArn"]
        try:
            subscriptions = self._subscribe(sns, arn, props.get("Subscription") or [], {})
        except Exception:
            sns.delete_topic(TopicArn=arn)
            raise
        return self._applied(arn, name, subscriptions)

    @staticmethod
    def _applied(arn: str, name: str, subscriptions: dict[str, str]) -> Applied:
        attributes = {"TopicArn": arn, "TopicName": name, "_Subscriptions": subscriptions}
        return Applied(physical_id=arn, ref=arn, attributes=attributes)

    @staticmethod
    def _subscribe(
        sns: Any, arn: str, wanted: list[JSON], existing: dict[str, str]
    ) -> dict[str, str]:
        result: dict[str, str] = {}
        for sub in wanted:
            key = f"{sub['Protocol']}|{sub['Endpoint']}"
            if key in existing:
                result[key] = existing[key]
                continue
            response = sns.subscribe(
                TopicArn=arn,
                Protocol=sub["Protocol"],
                Endpoint=sub["Endpoint"],
                ReturnSubscriptionArn=True,
            )
            result[key] = response["SubscriptionArn"]
        return result

    def update(self, cloud: Cloud, current: ResourceState, props: JSON) -> Applied:
        sns = cloud.client("sns")
        arn = current.physical_id
        old = current.properties
        for key, default in (("DisplayName", ""), ("ContentBasedDeduplication", False)):
            if props.get(key, default) != old.get(key, default):
                sns.set_topic_attributes(
                    TopicArn=arn, AttributeName=key, AttributeValue=_text(props.get(key, default))
                )
        existing = dict(current.attributes.get("_Subscriptions") or {})
        subscriptions = self._subscribe(sns, arn, props.get("Subscription") or [], existing)
        for key, sub_arn in existing.items():
            if key not in subscriptions:
                _unsubscribe(sns, sub_arn)
        return self._applied(arn, current.attributes["TopicName"], subscriptions)

    def delete(self, cloud: Cloud, current: ResourceState) -> None:
        try:
            cloud.client("sns").delete_topic(TopicArn=current.physical_id)
        except Exception as exc:
            if not is_not_found(exc):
                raise


def _unsubscribe(sns: Any, arn: str) -> None:
    try:
        sns.unsubscribe(SubscriptionArn=arn)
    except Exception as exc:
        if not is_not_found(exc):
            raise


class Subscription(ResourceType):
    type_name = "AWS::SNS::Subscription"
    schema: ClassVar[dict[str, Prop]] = {
        "TopicArn": string(required=True, create_only=True),
        "Protocol": string(required=True, create_only=True),
        "Endpoint": string(create_only=True),
        "FilterPolicy": Prop(kind="json"),
        "FilterPolicyScope": string(choices=("MessageAttributes", "MessageBody")),
        "RawMessageDelivery": Prop(kind="boolean"),
        "RedrivePolicy": Prop(kind="json"),
        "DeliveryPolicy": Prop(kind="json"),
        "Region": IGNORED,
        "SubscriptionRoleArn": IGNORED,
        "ReplayPolicy": IGNORED,
    }

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        attributes = {k: _text(props[k]) for k in SUBSCRIPTION_ATTRIBUTES if k in props}
        params: JSON = {
            "TopicArn": props["TopicArn"],
            "Protocol": props["Protocol"],
            "ReturnSubscriptionArn": True,
        }
        if "Endpoint" in props:
            params["Endpoint"] = props["Endpoint"]
        if attributes:
            params["Attributes"] = attributes
        arn = cloud.client("sns").subscribe(**params)["SubscriptionArn"]
        return Applied(physical_id=arn, ref=arn)

    def update(self, cloud: Cloud, current: ResourceState, props: JSON) -> Applied:
        sns = cloud.client("sns")
        for key in SUBSCRIPTION_ATTRIBUTES:
            new, old = props.get(key), current.properties.get(key)
            if new != old:
                value = _text(new) if new is not None else ""
                if key == "RawMessageDelivery" and new is None:
                    value = "false"
                sns.set_subscription_attributes(
                    SubscriptionArn=current.physical_id, AttributeName=key, AttributeValue=value
                )
        return Applied(physical_id=current.physical_id, ref=current.ref)

    def delete(self, cloud: Cloud, current: ResourceState) -> None:
        _unsubscribe(cloud.client("sns"), current.physical_id)


class TopicPolicy(StoredOnly):
    """Kept in the stack: sendoff does not enforce topic policies."""

    type_name = "AWS::SNS::TopicPolicy"
    schema: ClassVar[dict[str, Prop]] = {
        "Topics": Prop(kind="list", required=True),
        "PolicyDocument": Prop(kind="json", required=True),
    }
