"""AWS::SQS::Queue through the server's SQS API, and AWS::SQS::QueuePolicy (stored only).

``Ref`` is the queue URL; ``Arn``, ``QueueName`` and ``QueueUrl`` are attributes. A queue
without ``QueueName`` gets a generated name (ending ``.fifo`` for a FIFO queue). A name that
already belongs to a queue outside the stack is an error, never adopted.
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
    integer,
    is_not_found,
    string,
    tags_dict,
)
from sendoff.iac.state import ResourceState
from sendoff.model.json_types import JSON

# properties that are queue attributes, with the value SQS uses when one is not set
ATTRIBUTES: dict[str, str] = {
    "DelaySeconds": "0",
    "MaximumMessageSize": "1048576",
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "RedrivePolicy": "",
    "RedriveAllowPolicy": "",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}
QUEUE_NAME = r"[A-Za-z0-9_-]{1,80}|[A-Za-z0-9_-]{1,75}\.fifo"
FIFO_ONLY = frozenset({"ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"})


class Queue(ResourceType):
    type_name = "AWS::SQS::Queue"
    name_property = "QueueName"
    attributes = frozenset({"Arn", "QueueName", "QueueUrl"})
    schema: ClassVar[dict[str, Prop]] = {
        "QueueName": string(create_only=True, pattern=QUEUE_NAME),
        "FifoQueue": Prop(kind="boolean", create_only=True),
        "ContentBasedDeduplication": Prop(kind="boolean"),
        "DeduplicationScope": string(choices=("messageGroup", "queue")),
        "FifoThroughputLimit": string(choices=("perQueue", "perMessageGroupId")),
        "DelaySeconds": integer(0, 900),
        "MaximumMessageSize": integer(1024, 1_048_576),
        "MessageRetentionPeriod": integer(60, 1_209_600),
        "ReceiveMessageWaitTimeSeconds": integer(0, 20),
        "VisibilityTimeout": integer(0, 43_200),
        "RedrivePolicy": Prop(kind="json"),
        "RedriveAllowPolicy": Prop(kind="json"),
        "Tags": TAGS,
        "KmsMasterKeyId": IGNORED,
        "KmsDataKeyReusePeriodSeconds": IGNORED,
        "SqsManagedSseEnabled": IGNORED,
    }  # fmt: skip

    def check(self, props: JSON, path: Path) -> list[Problem]:
        name, fifo = props.get("QueueName"), bool(props.get("FifoQueue"))
        problems = []
        if isinstance(name, str) and name.endswith(".fifo") != fifo:
            problems.append(Problem(path=(*path, "QueueName"), message=(
                "a FIFO queue's name must end with .fifo" if fifo
                else "a name ending with .fifo needs FifoQueue: true")))  # fmt: skip
        for key in FIFO_ONLY & set(props):
            if not fifo:
                message = "applies to FIFO queues only (FifoQueue: true)"
                problems.append(Problem(path=(*path, key), message=message))
        return problems

    @staticmethod
    def _attributes(props: JSON, *, all_keys: bool = False) -> dict[str, str]:
        fifo = bool(props.get("FifoQueue"))
        out: dict[str, str] = {}
        for key, default in ATTRIBUTES.items():
            if key in FIFO_ONLY and not fifo:
                continue
            if key in props:
                value = props[key]
                if isinstance(value, bool):
                    value = "true" if value else "false"
                elif isinstance(value, dict):
                    value = json.dumps(value, separators=(",", ":"))
                out[key] = str(value)
            elif all_keys:
                out[key] = default
        return out

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        sqs = cloud.client("sqs")
        fifo = bool(props.get("FifoQueue"))
        name = props.get("QueueName") or cloud.physical_name(
            logical_id, max_len=80, suffix=".fifo" if fifo else ""
        )
        try:
            sqs.get_queue_url(QueueName=name)
        except Exception as exc:
            if not is_not_found(exc):
                raise
        else:
            raise already_exists(logical_id, self.type_name, name)
        attributes = self._attributes(props)
        if fifo:
            attributes["FifoQueue"] = "true"
        params: JSON = {"QueueName": name, "Attributes": attributes}
        if props.get("Tags"):
            params["tags"] = tags_dict(props["Tags"])
        url = sqs.create_queue(**params)["QueueUrl"]
        return self._applied(sqs, url, name)

    @staticmethod
    def _applied(sqs: Any, url: str, name: str) -> Applied:
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        return Applied(
            physical_id=url, ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url}
        )

    def update(self, cloud: Cloud, current: ResourceState, props: JSON) -> Applied:
        sqs = cloud.client("sqs")
        old = self._attributes(current.properties, all_keys=True)
        new = self._attributes(props, all_keys=True)
        changed = {k: v for k, v in new.items() if old.get(k) != v}
        if changed:
            sqs.set_queue_attributes(QueueUrl=current.physical_id, Attributes=changed)
        return self._applied(sqs, current.physical_id, current.attributes["QueueName"])

    def delete(self, cloud: Cloud, current: ResourceState) -> None:
        try:
            cloud.client("sqs").delete_queue(QueueUrl=current.physical_id)
        except Exception as exc:
            if not is_not_found(exc):
                raise


class QueuePolicy(StoredOnly):
    """Kept in the stack: sendoff does not enforce queue policies."""

    type_name = "AWS::SQS::QueuePolicy"
    schema: ClassVar[dict[str, Prop]] = {
        "Queues": Prop(kind="list", required=True),
        "PolicyDocument": Prop(kind="json", required=True),
    }
