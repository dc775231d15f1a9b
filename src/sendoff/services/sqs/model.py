"""Queues as records, and the ways a caller names one (name, URL, ARN).

A queue lives in one account and region; its store document is ``sqs-queue`` under
``{account}/{region}/{name}``. ``Queue.id`` is a fresh id per incarnation: messages are
stored under it, so a queue deleted and created again starts empty and old receipt
handles stop working.

URLs follow AWS and LocalStack: ``http://{host}/{account}/{name}``, built from the host the
client used. Any host form is accepted back (``localhost:4566``, ``sqs.us-east-1.
localhost.localstack.cloud:4566``, ``{region}.queue.localhost...``, the path form
``/queue/{region}/{account}/{name}``); the region comes from the URL when it names one,
else from the request.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sendoff.model.scope import Scope
from sendoff.services.sqs.attributes import DEFAULTS, FIFO_DEFAULTS

NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
FIFO_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,75}\.fifo$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_QUEUE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,80})$")

DOC_KIND = "sqs-queue"


@dataclass(frozen=True, kw_only=True)
class QueueRef:
    """A queue as a caller named it (it may not exist)."""

    account_id: str
    region: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.account_id}/{self.region}/{self.name}"

    @property
    def arn(self) -> str:
        return queue_arn(self.region, self.account_id, self.name)


@dataclass(frozen=True, kw_only=True)
class RedrivePolicy:
    dead_letter_arn: str
    max_receive_count: int


@dataclass(frozen=True, kw_only=True)
class Queue:
    """A queue's configuration. ``attributes`` holds only what was set explicitly, in
    normalized form; :attr:`effective` adds the defaults."""

    id: str
    account_id: str
    region: str
    name: str
    attributes: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    created_at: float = 0.0
    last_modified_at: float = 0.0

    @property
    def ref(self) -> QueueRef:
        return QueueRef(account_id=self.account_id, region=self.region, name=self.name)

    @property
    def arn(self) -> str:
        return queue_arn(self.region, self.account_id, self.name)

    @property
    def is_fifo(self) -> bool:
        return self.attributes.get("FifoQueue") == "true"

    @property
    def effective(self) -> dict[str, str]:
        return {**DEFAULTS, **(FIFO_DEFAULTS if self.is_fifo else {}), **self.attributes}

    def _int(self, name: str) -> int:
        return int(self.attributes.get(name, DEFAULTS[name]))

    @property
    def visibility_timeout_s(self) -> int:
        return self._int("VisibilityTimeout")

    @property
    def delay_s(self) -> int:
        return self._int("DelaySeconds")

    @property
    def retention_s(self) -> int:
        return self._int("MessageRetentionPeriod")

    @property
    def max_message_bytes(self) -> int:
        return self._int("MaximumMessageSize")

    @property
    def wait_time_s(self) -> int:
        return self._int("ReceiveMessageWaitTimeSeconds")

    @property
    def content_based_dedup(self) -> bool:
        return self.attributes.get("ContentBasedDeduplication") == "true"

    @property
    def dedup_per_group(self) -> bool:
        return self.attributes.get("DeduplicationScope") == "messageGroup"

    @property
    def redrive(self) -> RedrivePolicy | None:
        raw = self.attributes.get("RedrivePolicy")
        if not raw:
            return None
        policy = json.loads(raw)
        return RedrivePolicy(
            dead_letter_arn=policy["deadLetterTargetArn"],
            max_receive_count=int(policy["maxReceiveCount"]),
        )

    def to_doc(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account_id": self.account_id,
            "region": self.region,
            "name": self.name,
            "attributes": self.attributes,
            "tags": self.tags,
            "created_at": self.created_at,
            "last_modified_at": self.last_modified_at,
        }

    @classmethod
    def from_doc(cls, value: dict[str, Any]) -> Queue:
        return cls(
            id=value["id"],
            account_id=value["account_id"],
            region=value["region"],
            name=value["name"],
            attributes=dict(value.get("attributes", {})),
            tags=dict(value.get("tags", {})),
            created_at=float(value.get("created_at", 0.0)),
            last_modified_at=float(value.get("last_modified_at", 0.0)),
        )


def queue_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:sqs:{region}:{account_id}:{name}"


def queue_url(host: str, account_id: str, name: str) -> str:
    return f"http://{host}/{account_id}/{name}"


def parse_queue_arn(arn: str) -> QueueRef | None:
    match = _QUEUE_ARN_RE.match(arn)
    if match is None:
        return None
    return QueueRef(region=match.group(1), account_id=match.group(2), name=match.group(3))


def parse_queue_url(url: str, *, scope: Scope) -> QueueRef | None:
    """Any accepted URL form, or a bare queue name (taken in ``scope``)."""
    if "/" not in url:
        return QueueRef(account_id=scope.account_id, region=scope.region, name=url)
    parts = urlsplit(url if "://" in url else f"http://{url}")
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2 or not _ACCOUNT_RE.match(segments[-2]):
        return None
    region = scope.region
    labels = (parts.hostname or "").split(".")
    if len(segments) >= 3 and _REGION_RE.match(segments[-3]):
        region = segments[-3]
    elif len(labels) > 2 and labels[0] == "sqs" and _REGION_RE.match(labels[1]):
        region = labels[1]
    elif len(labels) > 2 and labels[1] == "queue" and _REGION_RE.match(labels[0]):
        region = labels[0]
    return QueueRef(account_id=segments[-2], region=region, name=segments[-1])


def check_queue_name(name: str, *, fifo: bool) -> None:
    from sendoff.services.sqs.errors import InvalidParameterValue

    if fifo and not FIFO_NAME_RE.match(name):
        raise InvalidParameterValue(
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or"
            " underscores, must end with .fifo suffix and be 1 to 80 in length."
        )
    if not fifo and not NAME_RE.match(name):
        raise InvalidParameterValue(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        )
