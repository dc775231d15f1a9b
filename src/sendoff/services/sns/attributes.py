"""Topic and subscription attributes: which may be set, their validation, and the
read-only values ``Get*Attributes`` adds (counts, ARNs, effective policies).

Attribute values are strings on the wire; validated values are stored normalized.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, cast

from sendoff.services.json_errors import jackson_reason
from sendoff.services.sns.errors import InvalidParameter
from sendoff.services.sns.model import RAW_CAPABLE, Protocol, Subscription, Topic
from sendoff.services.sns_filter import (
    FilterPolicy,
    FilterPolicyScope,
    InvalidFilterPolicy,
    compile_filter_policy,
)

DEFAULT_HTTP_RETRY: dict[str, Any] = {
    "minDelayTarget": 20,
    "maxDelayTarget": 20,
    "numRetries": 3,
    "numMaxDelayRetries": 0,
    "numNoDelayRetries": 0,
    "numMinDelayRetries": 0,
    "backoffFunction": "linear",
}
DEFAULT_CONTENT_TYPE = "text/plain; charset=UTF-8"
_ARN_RE = re.compile(r"^arn:[^:]+:[^:]+:[^:]*:[^:]*:.+$")  # six elements, AWS's minimum

_FEEDBACK = {
    f"{endpoint}{kind}"
    for endpoint in ("HTTP", "Firehose", "Lambda", "Application", "SQS")
    for kind in ("SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate", "FailureFeedbackRoleArn")
}
TOPIC_SETTABLE = frozenset(
    {
        "DeliveryPolicy",
        "DisplayName",
        "Policy",
        "TracingConfig",
        "KmsMasterKeyId",
        "SignatureVersion",
        "DataProtectionPolicy",
        "ContentBasedDeduplication",
        "ArchivePolicy",
        "FifoThroughputScope",
        *_FEEDBACK,
    }
)
FIFO_ONLY = frozenset({"ContentBasedDeduplication", "ArchivePolicy", "FifoThroughputScope"})
SUBSCRIPTION_SETTABLE = frozenset(
    {
        "DeliveryPolicy",
        "FilterPolicy",
        "FilterPolicyScope",
        "RawMessageDelivery",
        "RedrivePolicy",
        "SubscriptionRoleArn",
        "ReplayPolicy",
    }
)


# ---------------------------------------------------------------- topics
def validate_topic_attributes(attributes: Mapping[str, str], *, fifo: bool) -> dict[str, str]:
    """Validate CreateTopic's attributes (``FifoTopic`` included); return them normalized."""
    out: dict[str, str] = {}
    for name, value in attributes.items():
        if name == "FifoTopic":
            continue
        out[name] = validate_topic_attribute(name, value, fifo=fifo)
    if fifo:
        out["FifoTopic"] = "true"
        out.setdefault("ContentBasedDeduplication", "false")
    return out


def validate_topic_attribute(name: str, value: str, *, fifo: bool) -> str:
    if name not in TOPIC_SETTABLE:
        raise InvalidParameter("AttributeName")
    if name in FIFO_ONLY and not fifo:
        raise InvalidParameter(f"{name} Reason: {name} can only be set for FIFO topics")
    if name in ("DeliveryPolicy", "Policy", "DataProtectionPolicy", "ArchivePolicy"):
        return _json_object(name, value, allow_empty=name != "Policy")
    if name == "ContentBasedDeduplication":
        return _boolean(name, value)
    if name == "SignatureVersion" and value not in ("1", "2"):
        raise InvalidParameter("SignatureVersion")
    if name == "TracingConfig" and value not in ("PassThrough", "Active"):
        raise InvalidParameter("TracingConfig")
    if name == "FifoThroughputScope" and value not in ("Topic", "MessageGroup"):
        raise InvalidParameter("FifoThroughputScope")
    if name == "DisplayName" and len(value) > 100:
        raise InvalidParameter("DisplayName")
    return value


def default_topic_policy(topic: Topic) -> str:
    arn = topic.name.arn
    return json.dumps(
        {
            "Version": "2008-10-17",
            "Id": "__default_policy_ID",
            "Statement": [
                {
                    "Sid": "__default_statement_ID",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": [
                        "SNS:GetTopicAttributes",
                        "SNS:SetTopicAttributes",
                        "SNS:AddPermission",
                        "SNS:RemovePermission",
                        "SNS:DeleteTopic",
                        "SNS:Subscribe",
                        "SNS:ListSubscriptionsByTopic",
                        "SNS:Publish",
                    ],
                    "Resource": arn,
                    "Condition": {"StringEquals": {"AWS:SourceOwner": topic.name.scope.account_id}},
                }
            ],
        },
        separators=(",", ":"),
    )


def topic_http_policy(topic: Topic) -> dict[str, Any]:
    """The topic's effective ``http`` delivery policy (system defaults merged in)."""
    policy: dict[str, Any] = {
        "defaultHealthyRetryPolicy": dict(DEFAULT_HTTP_RETRY),
        "disableSubscriptionOverrides": False,
        "defaultRequestPolicy": {"headerContentType": DEFAULT_CONTENT_TYPE},
    }
    given = _loads(topic.attributes.get("DeliveryPolicy", "")).get("http", {})
    if isinstance(given, dict):
        for key, value in given.items():
            if isinstance(value, dict) and isinstance(policy.get(key), dict):
                policy[key] = {**policy[key], **value}
            else:
                policy[key] = value
    return policy


def render_topic_attributes(topic: Topic, *, confirmed: int, pending: int) -> dict[str, str]:
    out = {
        "Policy": default_topic_policy(topic),
        "Owner": topic.name.scope.account_id,
        "TopicArn": topic.name.arn,
        "DisplayName": "",
        "SubscriptionsConfirmed": str(confirmed),
        "SubscriptionsPending": str(pending),
        "SubscriptionsDeleted": str(topic.subscriptions_deleted),
        "EffectiveDeliveryPolicy": json.dumps(
            {"http": topic_http_policy(topic)}, separators=(",", ":")
        ),
    }
    out.update(topic.attributes)
    return out


# ---------------------------------------------------------------- subscriptions
def validate_subscription_attributes(
    attributes: Mapping[str, str], *, protocol: Protocol
) -> dict[str, str]:
    out: dict[str, str] = {}
    # the scope first, so FilterPolicy is validated against the scope it will run under
    for name in sorted(attributes, key=lambda n: n != "FilterPolicyScope"):
        out = set_subscription_attribute(out, name, attributes[name], protocol=protocol)
    return out


def set_subscription_attribute(
    current: Mapping[str, str], name: str, value: str, *, protocol: Protocol
) -> dict[str, str]:
    """The subscription's settable attributes after setting ``name`` to ``value``."""
    out = dict(current)
    if name not in SUBSCRIPTION_SETTABLE:
        raise InvalidParameter("AttributeName")
    if name == "RawMessageDelivery":
        if value.strip().lower() not in ("true", "false"):
            raise InvalidParameter(f"{name}: Invalid value [{value}]. Must be true or false.")
        value = _boolean(name, value)
        if value == "true" and protocol not in RAW_CAPABLE:
            raise InvalidParameter(
                f"Delivery protocol [{protocol.value}] does not support raw message delivery."
            )
    elif name == "FilterPolicyScope":
        if value not in ("MessageAttributes", "MessageBody"):
            raise InvalidParameter(
                f"FilterPolicyScope: Invalid value [{value}]. "
                "Please use either MessageBody or MessageAttributes"
            )
        if out.get("FilterPolicy"):
            filter_policy(out["FilterPolicy"], cast(FilterPolicyScope, value))
    elif name == "FilterPolicy":
        if value:
            filter_policy(
                value, cast(FilterPolicyScope, out.get("FilterPolicyScope", "MessageAttributes"))
            )
            out.setdefault("FilterPolicyScope", "MessageAttributes")
        else:
            out.pop("FilterPolicyScope", None)
    elif name == "RedrivePolicy" and value:
        redrive_target(value)
    elif name in ("DeliveryPolicy", "ReplayPolicy"):
        value = _json_object(name, value, allow_empty=True)
    if value == "" and name != "RawMessageDelivery":
        out.pop(name, None)
    else:
        out[name] = value
    return out


@lru_cache(maxsize=1024)
def filter_policy(text: str, scope: FilterPolicyScope) -> FilterPolicy:
    """Compile (and cache) a subscription's filter policy."""
    try:
        return compile_filter_policy(text, scope)
    except InvalidFilterPolicy as exc:
        raise InvalidParameter(str(exc).removeprefix("Invalid parameter: ")) from None


def subscription_filter(sub: Subscription) -> FilterPolicy | None:
    text = sub.attributes.get("FilterPolicy")
    if not text:
        return None
    scope = cast(FilterPolicyScope, sub.attributes.get("FilterPolicyScope", "MessageAttributes"))
    return filter_policy(text, scope)


def redrive_target(value: str) -> str:
    """The dead-letter queue ARN of a RedrivePolicy."""
    try:
        json.loads(value)
    except (ValueError, RecursionError):  # AWS-recorded: Jackson's reason and location
        raise InvalidParameter(
            f"RedrivePolicy: failed to parse JSON. {jackson_reason(value)}"
        ) from None
    policy = _loads(value)
    target = policy.get("deadLetterTargetArn")
    if isinstance(target, str) and not _ARN_RE.match(target):
        raise InvalidParameter("RedrivePolicy: deadLetterTargetArn is an invalid arn")
    if not isinstance(target, str) or not target.startswith("arn:aws:sqs:"):
        raise InvalidParameter("RedrivePolicy: deadLetterTargetArn is not a valid SQS queue ARN")
    return target


def subscription_http_policy(sub: Subscription, topic: Topic) -> dict[str, Any]:
    """The effective delivery policy of an HTTP/S subscription."""
    topic_policy = topic_http_policy(topic)
    retry = dict(topic_policy["defaultHealthyRetryPolicy"])
    request = dict(topic_policy["defaultRequestPolicy"])
    if not topic_policy.get("disableSubscriptionOverrides"):
        own = _loads(sub.attributes.get("DeliveryPolicy", ""))
        if isinstance(own.get("healthyRetryPolicy"), dict):
            retry.update(own["healthyRetryPolicy"])
        if isinstance(own.get("requestPolicy"), dict):
            request.update(own["requestPolicy"])
    return {
        "healthyRetryPolicy": retry,
        "throttlePolicy": None,
        "requestPolicy": request,
        "guaranteed": False,
    }


def render_subscription_attributes(sub: Subscription, topic: Topic | None) -> dict[str, str]:
    out = {
        "Owner": sub.owner,
        "SubscriptionArn": sub.arn,
        "TopicArn": sub.topic_arn,
        "Protocol": sub.protocol.value,
        "Endpoint": sub.endpoint,
        "PendingConfirmation": _bool_text(sub.pending),
        "ConfirmationWasAuthenticated": _bool_text(sub.confirmation_authenticated),
        "RawMessageDelivery": "false",
        "SubscriptionPrincipal": sub.principal or f"arn:aws:iam::{sub.owner}:root",
    }
    if topic is not None and sub.protocol in (Protocol.HTTP, Protocol.HTTPS):
        out["EffectiveDeliveryPolicy"] = json.dumps(
            subscription_http_policy(sub, topic), separators=(",", ":")
        )
    out.update(sub.attributes)
    return out


# ---------------------------------------------------------------- helpers
def _json_object(name: str, value: str, *, allow_empty: bool) -> str:
    if value == "" and allow_empty:
        return ""
    try:
        decoded = json.loads(value)
    except (ValueError, RecursionError):
        raise InvalidParameter(f"{name}: failed to parse JSON") from None
    if not isinstance(decoded, dict):
        raise InvalidParameter(f"{name}: must be a JSON object")
    return value


def _boolean(name: str, value: str) -> str:
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise InvalidParameter(f"{name}: must be true or false")
    return lowered


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


def _loads(value: str) -> dict[str, Any]:
    if not value:
        return {}
    try:
        decoded = json.loads(value)
    except (ValueError, RecursionError):
        return {}
    return decoded if isinstance(decoded, dict) else {}
