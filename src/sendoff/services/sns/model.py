"""SNS records and names: topic and subscription ARNs, and the stored documents.

Store layout (documents, keys start with the scope ``account/region/``):

* ``sns-topic``         ``acct/region/<topic-name>``
* ``sns-subscription``  ``acct/region/<topic-name>/<subscription-id>`` (a topic's
  subscriptions are one prefix scan away from the topic)
* ``sns-dedup``         ``acct/region/<topic-name>/<dedup-id>`` (FIFO deduplication window)
* ``sns-attempt``       ``acct/region/<delivery-id>`` (HTTP attempt counters)
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace
from typing import Any

from sendoff.model.scope import Scope
from sendoff.services.sns.errors import InvalidParameter, too_few_arn_elements

TOPIC = "sns-topic"
SUBSCRIPTION = "sns-subscription"
DEDUP = "sns-dedup"
ATTEMPT = "sns-attempt"
UNSUBSCRIBED = "sns-unsubscribed"  # http/https subscriptions removed by their link, restorable

TOPIC_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
FIFO_TOPIC_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,251}\.fifo$")
PENDING_ARN = "pending confirmation"  # what Subscribe returns for an unconfirmed endpoint
LISTED_PENDING_ARN = "PendingConfirmation"  # what the List* calls show instead of its ARN


class Protocol(enum.StrEnum):
    SQS = "sqs"
    LAMBDA = "lambda"
    HTTP = "http"
    HTTPS = "https"
    EMAIL = "email"
    EMAIL_JSON = "email-json"


RAW_CAPABLE = frozenset({Protocol.SQS, Protocol.HTTP, Protocol.HTTPS})
NEEDS_CONFIRMATION = frozenset({Protocol.HTTP, Protocol.HTTPS})
# confirmed by the (signed) Subscribe itself: ConfirmationWasAuthenticated "true", so the
# unauthenticated UnsubscribeURL cannot remove them (AWS records "true" for sqs and lambda)
AUTHENTICATED_ON_SUBSCRIBE = frozenset({Protocol.SQS, Protocol.LAMBDA})


@dataclass(frozen=True, kw_only=True)
class TopicName:
    """A topic addressed by ARN: ``arn:aws:sns:<region>:<account>:<name>``."""

    scope: Scope
    name: str

    @property
    def arn(self) -> str:
        return self.scope.service_arn("sns", self.name)

    @property
    def key(self) -> str:
        return f"{self.scope.key_prefix}{self.name}"


def parse_topic_arn(arn: str, *, field_name: str = "TopicArn") -> TopicName:
    parts = arn.split(":")
    if len(parts) < 6:
        raise too_few_arn_elements(field_name, arn)
    if len(parts) != 6 or parts[:3] != ["arn", "aws", "sns"] or not parts[3] or not parts[4]:
        raise InvalidParameter(field_name)
    name = parts[5]
    if not (TOPIC_NAME_RE.match(name) or FIFO_TOPIC_NAME_RE.match(name)):
        raise InvalidParameter(field_name)
    return TopicName(scope=Scope(account_id=parts[4], region=parts[3]), name=name)


@dataclass(frozen=True, kw_only=True)
class SubscriptionName:
    """``arn:aws:sns:<region>:<account>:<topic-name>:<id>``."""

    topic: TopicName
    id: str

    @property
    def arn(self) -> str:
        return f"{self.topic.arn}:{self.id}"

    @property
    def key(self) -> str:
        return f"{self.topic.key}/{self.id}"


def parse_subscription_arn(arn: str) -> SubscriptionName:
    count = len(arn.split(":"))
    if count < 6:
        raise too_few_arn_elements("SubscriptionArn", arn)
    if count == 6:  # a topic's ARN, or a subscription's without its id
        raise InvalidParameter("SubscriptionId")
    topic_arn, _, sub_id = arn.rpartition(":")
    if not sub_id or not re.match(r"^[A-Za-z0-9-]{1,64}$", sub_id):
        raise InvalidParameter("SubscriptionArn")
    return SubscriptionName(
        topic=parse_topic_arn(topic_arn, field_name="SubscriptionArn"), id=sub_id
    )


@dataclass(frozen=True, kw_only=True)
class Topic:
    name: TopicName
    attributes: dict[str, str] = field(default_factory=dict)  # the settable attributes
    tags: dict[str, str] = field(default_factory=dict)
    created_at: float = 0.0
    subscriptions_deleted: int = 0
    notifications_failed: int = 0
    sequence: int = 0  # FIFO: the last SequenceNumber handed out

    @property
    def fifo(self) -> bool:
        return self.attributes.get("FifoTopic", "false") == "true"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name.name,
            "attributes": self.attributes,
            "tags": self.tags,
            "created_at": self.created_at,
            "subscriptions_deleted": self.subscriptions_deleted,
            "notifications_failed": self.notifications_failed,
            "sequence": self.sequence,
        }

    @classmethod
    def from_json(cls, scope: Scope, value: dict[str, Any]) -> Topic:
        return cls(
            name=TopicName(scope=scope, name=value["name"]),
            attributes=dict(value.get("attributes", {})),
            tags=dict(value.get("tags", {})),
            created_at=float(value.get("created_at", 0.0)),
            subscriptions_deleted=int(value.get("subscriptions_deleted", 0)),
            notifications_failed=int(value.get("notifications_failed", 0)),
            sequence=int(value.get("sequence", 0)),
        )

    def evolve(self, **changes: Any) -> Topic:
        return replace(self, **changes)


@dataclass(frozen=True, kw_only=True)
class Subscription:
    name: SubscriptionName
    protocol: Protocol
    endpoint: str
    owner: str
    pending: bool
    token: str | None = None  # the confirmation token while pending
    attributes: dict[str, str] = field(default_factory=dict)  # the settable attributes
    created_at: float = 0.0
    confirmation_authenticated: bool = False
    notifications_failed: int = 0
    principal: str = ""  # SubscriptionPrincipal: the ARN of the caller who subscribed

    @property
    def arn(self) -> str:
        return self.name.arn

    @property
    def topic_arn(self) -> str:
        return self.name.topic.arn

    @property
    def raw(self) -> bool:
        return self.attributes.get("RawMessageDelivery", "false") == "true"

    @property
    def listed_arn(self) -> str:
        return LISTED_PENDING_ARN if self.pending else self.arn

    def to_json(self) -> dict[str, Any]:
        return {
            "topic": self.name.topic.name,
            "id": self.name.id,
            "protocol": self.protocol.value,
            "endpoint": self.endpoint,
            "owner": self.owner,
            "pending": self.pending,
            "token": self.token,
            "attributes": self.attributes,
            "created_at": self.created_at,
            "confirmation_authenticated": self.confirmation_authenticated,
            "notifications_failed": self.notifications_failed,
            "principal": self.principal,
        }

    @classmethod
    def from_json(cls, scope: Scope, value: dict[str, Any]) -> Subscription:
        topic = TopicName(scope=scope, name=value["topic"])
        return cls(
            name=SubscriptionName(topic=topic, id=value["id"]),
            protocol=Protocol(value["protocol"]),
            endpoint=value["endpoint"],
            owner=value["owner"],
            pending=bool(value["pending"]),
            token=value.get("token"),
            attributes=dict(value.get("attributes", {})),
            created_at=float(value.get("created_at", 0.0)),
            confirmation_authenticated=bool(value.get("confirmation_authenticated", False)),
            notifications_failed=int(value.get("notifications_failed", 0)),
            principal=str(value.get("principal", "")),
        )

    def evolve(self, **changes: Any) -> Subscription:
        return replace(self, **changes)


def scope_of_key(key: str) -> Scope:
    account_id, region, _ = key.split("/", 2)
    return Scope(account_id=account_id, region=region)
