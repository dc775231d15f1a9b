"""The delivery jobs SNS hands to the outbox: one per subscription and message.

Each protocol has its own outbox scheme; SQS uses the queue service's own ``sqs`` scheme.

=============  ===========  ===================  ===========================================
protocol       scheme       target               payload
=============  ===========  ===================  ===========================================
sqs            sqs          queue ARN            body, attributes?, group_id?, dedup_id?
lambda         sns-lambda   function ARN         event (JSON text)
http/https     sns-http     URL                  body, headers, max_attempts, delivery_id, scope
email(-json)   sns-email    address              subject, body, sender
(publishing)   sns          topic ARN            message, subject?, attributes?  (for others)
=============  ===========  ===================  ===========================================

``source`` names the topic, subscription and message, so a failure can be counted and,
with a RedrivePolicy, sent to the dead-letter queue.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sendoff.services.sns.attributes import redrive_target, subscription_http_policy
from sendoff.services.sns.envelope import (
    DEFAULT_EMAIL_SUBJECT,
    UNSUBSCRIBE_CONFIRMATION,
    Links,
    Notification,
    confirmation,
    email_text,
    envelope,
    lambda_event,
)
from sendoff.services.sns.model import Protocol, Subscription, Topic

SCHEME_SQS = "sqs"
SCHEME_LAMBDA = "sns-lambda"
SCHEME_HTTP = "sns-http"
SCHEME_EMAIL = "sns-email"
SCHEME_TOPIC = "sns"
USER_AGENT = "Amazon Simple Notification Service Agent"


@dataclass(frozen=True, kw_only=True)
class Job:
    scheme: str
    target: str
    payload: dict[str, Any]
    source: dict[str, Any]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def notification_job(
    sub: Subscription,
    topic: Topic,
    n: Notification,
    *,
    links: Links,
    group_id: str | None = None,
    dedup_id: str | None = None,
) -> Job:
    source: dict[str, Any] = {
        "service": "sns",
        "topic_arn": topic.name.arn,
        "subscription_arn": sub.arn,
        "message_id": n.message_id,
    }
    redrive = sub.attributes.get("RedrivePolicy")
    if redrive:
        dlq = redrive_target(redrive)
        payload = _sqs_payload(sub, n, links, queue_arn=dlq, group_id=group_id, dedup_id=dedup_id)
        source["redrive"] = {"target": dlq, "payload": payload}
    if sub.protocol is Protocol.SQS:
        payload = _sqs_payload(
            sub, n, links, queue_arn=sub.endpoint, group_id=group_id, dedup_id=dedup_id
        )
        return Job(scheme=SCHEME_SQS, target=sub.endpoint, payload=payload, source=source)
    if sub.protocol is Protocol.LAMBDA:
        return Job(
            scheme=SCHEME_LAMBDA,
            target=sub.endpoint,
            payload={"event": _dumps(lambda_event(n, links))},
            source=source,
        )
    if sub.protocol in (Protocol.HTTP, Protocol.HTTPS):
        body = n.message if sub.raw else _dumps(envelope(n, links))
        headers = _http_headers("Notification", n.message_id, topic.name.arn, sub, topic)
        headers["x-amz-sns-subscription-arn"] = sub.arn
        if sub.raw:
            headers["x-amz-sns-rawdelivery"] = "true"
        return _http_job(sub, topic, body, headers, source)
    subject = n.subject or DEFAULT_EMAIL_SUBJECT
    if sub.protocol is Protocol.EMAIL:
        text = email_text(n.message, links.unsubscribe(sub.arn))
    else:
        text = _dumps(envelope(n, links))
    sender = topic.attributes.get("DisplayName") or "AWS Notifications"
    return Job(
        scheme=SCHEME_EMAIL,
        target=sub.endpoint,
        payload={"subject": subject, "body": text, "sender": sender},
        source=source,
    )


def confirmation_job(sub: Subscription, topic: Topic, *, links: Links, now: float) -> Job:
    """The SubscriptionConfirmation POST to a pending HTTP/S subscription."""
    assert sub.token is not None
    message_id = str(uuid.uuid4())
    body = confirmation(
        message_id=message_id, topic_arn=topic.name.arn, token=sub.token, timestamp=now, links=links
    )
    headers = _http_headers("SubscriptionConfirmation", message_id, topic.name.arn, sub, topic)
    source = {
        "service": "sns",
        "topic_arn": topic.name.arn,
        "subscription_arn": sub.arn,
        "message_id": message_id,
        "confirmation": True,
    }
    return _http_job(sub, topic, _dumps(body), headers, source)


def unsubscribe_confirmation_job(
    sub: Subscription, topic: Topic, *, links: Links, now: float
) -> Job:
    """The final UnsubscribeConfirmation POST after an unsigned unsubscribe of an HTTP/S
    subscription; its Token and SubscribeURL restore the subscription."""
    assert sub.token is not None
    message_id = str(uuid.uuid4())
    body = confirmation(
        message_id=message_id,
        topic_arn=topic.name.arn,
        token=sub.token,
        timestamp=now,
        links=links,
        kind=UNSUBSCRIBE_CONFIRMATION,
        subscription_arn=sub.arn,
    )
    headers = _http_headers(UNSUBSCRIBE_CONFIRMATION, message_id, topic.name.arn, sub, topic)
    source = {
        "service": "sns",
        "topic_arn": topic.name.arn,
        "subscription_arn": sub.arn,
        "message_id": message_id,
        "confirmation": True,
    }
    return _http_job(sub, topic, _dumps(body), headers, source)


def _sqs_payload(
    sub: Subscription,
    n: Notification,
    links: Links,
    *,
    queue_arn: str,
    group_id: str | None,
    dedup_id: str | None,
) -> dict[str, Any]:
    """What the queue receives: the envelope, or the raw message with its attributes as SQS
    message attributes. The group id goes to every queue (standard queues use it for fair
    queueing, as on AWS); the deduplication id only to FIFO queues."""
    payload: dict[str, Any]
    if sub.raw:
        payload = {"body": n.message}
        if n.attributes:
            payload["attributes"] = {
                name: {**attr, "DataType": _sqs_type(attr["DataType"])}
                for name, attr in n.attributes.items()
            }
    else:
        payload = {"body": _dumps(envelope(n, links))}
    if group_id is not None:
        payload["group_id"] = group_id
    if dedup_id is not None and queue_arn.endswith(".fifo"):
        payload["dedup_id"] = dedup_id
    return payload


def _sqs_type(data_type: str) -> str:
    # SQS checks Number values are numbers; an SNS Number.Array is a JSON array of them
    return "String.Array" if data_type == "Number.Array" else data_type


def _http_headers(
    kind: str, message_id: str, topic_arn: str, sub: Subscription, topic: Topic
) -> dict[str, str]:
    policy = subscription_http_policy(sub, topic)
    return {
        "x-amz-sns-message-type": kind,
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": topic_arn,
        "Content-Type": str(policy["requestPolicy"].get("headerContentType")),
        "User-Agent": USER_AGENT,
    }


def _http_job(
    sub: Subscription,
    topic: Topic,
    body: str,
    headers: dict[str, str],
    source: dict[str, Any],
) -> Job:
    retries = subscription_http_policy(sub, topic)["healthyRetryPolicy"].get("numRetries")
    max_attempts = retries + 1 if isinstance(retries, int) and 0 <= retries <= 100 else 4
    delivery_id = str(uuid.uuid4())
    payload = {
        "body": body,
        "headers": headers,
        "max_attempts": max_attempts,
        "delivery_id": delivery_id,
        "scope": topic.name.scope.key,
    }
    return Job(
        scheme=SCHEME_HTTP,
        target=sub.endpoint,
        payload=payload,
        source={**source, "delivery_id": delivery_id},
    )
