"""What subscribers receive: the SNS JSON envelopes, the Lambda event, the email text.

Key order and field names follow AWS (``SigningCertURL`` in envelopes, ``SigningCertUrl``
in the Lambda event). ``Signature`` is a stand-in: a base64 SHA-1 digest of the AWS
string-to-sign, not an RSA signature, because sendoff has no AWS private key; receivers
must not verify signatures against sendoff (see docs/sns.md).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from sendoff.model.clock import iso_millis_z

SUBSCRIPTION_CONFIRMATION = "SubscriptionConfirmation"
NOTIFICATION = "Notification"
UNSUBSCRIBE_CONFIRMATION = "UnsubscribeConfirmation"
DEFAULT_EMAIL_SUBJECT = "AWS Notification Message"


@dataclass(frozen=True, kw_only=True)
class Links:
    """The URLs sendoff puts in envelopes; all served by sendoff itself.

    SubscribeURL and UnsubscribeURL have AWS's shape, ARNs unencoded:
    ``<endpoint>/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:...`` (an ARN holds only
    ``[A-Za-z0-9_.:-]`` and the token is hex, so nothing needs escaping)."""

    endpoint_url: str

    @property
    def base(self) -> str:
        return f"{self.endpoint_url.rstrip('/')}/_sendoff/sns"

    def subscribe(self, topic_arn: str, token: str) -> str:
        root = self.endpoint_url.rstrip("/")
        return f"{root}/?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={token}"

    def unsubscribe(self, subscription_arn: str) -> str:
        root = self.endpoint_url.rstrip("/")
        return f"{root}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}"

    @property
    def signing_cert(self) -> str:
        return f"{self.base}/SimpleNotificationService-sendoff.pem"


@dataclass(frozen=True, kw_only=True)
class Notification:
    """One published message as one subscription sees it."""

    message_id: str
    topic_arn: str
    subscription_arn: str
    message: str
    subject: str | None
    timestamp: float
    attributes: dict[str, dict[str, str]]
    sequence_number: str | None = None  # FIFO topics only


def envelope(n: Notification, links: Links) -> dict[str, Any]:
    """The JSON notification delivered to SQS, HTTP/S and email-json subscribers."""
    out: dict[str, Any] = {"Type": NOTIFICATION, "MessageId": n.message_id}
    if n.sequence_number is not None:
        out["SequenceNumber"] = n.sequence_number
    out["TopicArn"] = n.topic_arn
    if n.subject is not None:
        out["Subject"] = n.subject
    out["Message"] = n.message
    out["Timestamp"] = iso_millis_z(n.timestamp)
    if n.sequence_number is None:
        out["SignatureVersion"] = "1"
        out["Signature"] = signature(out)
        out["SigningCertURL"] = links.signing_cert
    out["UnsubscribeURL"] = links.unsubscribe(n.subscription_arn)
    if n.attributes:
        out["MessageAttributes"] = envelope_attributes(n.attributes)
    return out


def envelope_attributes(attributes: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    return {
        name: {
            "Type": attr["DataType"],
            "Value": attr.get("StringValue", attr.get("BinaryValue", "")),
        }
        for name, attr in attributes.items()
    }


def lambda_event(n: Notification, links: Links) -> dict[str, Any]:
    """The event an SNS-subscribed function is invoked with."""
    signed = envelope(n, links)
    sns: dict[str, Any] = {
        "Type": NOTIFICATION,
        "MessageId": n.message_id,
        "TopicArn": n.topic_arn,
        "Subject": n.subject,
        "Message": n.message,
        "Timestamp": iso_millis_z(n.timestamp),
        "SignatureVersion": "1",
        "Signature": signed.get("Signature") or signature(signed),
        "SigningCertUrl": links.signing_cert,
        "UnsubscribeUrl": links.unsubscribe(n.subscription_arn),
        "MessageAttributes": envelope_attributes(n.attributes),
    }
    if n.sequence_number is not None:
        sns["SequenceNumber"] = n.sequence_number
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": n.subscription_arn,
                "Sns": sns,
            }
        ]
    }


def confirmation(
    *,
    message_id: str,
    topic_arn: str,
    token: str,
    timestamp: float,
    links: Links,
    kind: str = SUBSCRIPTION_CONFIRMATION,
    subscription_arn: str = "",
) -> dict[str, Any]:
    """The SubscriptionConfirmation (or UnsubscribeConfirmation) message for HTTP/S."""
    if kind == SUBSCRIPTION_CONFIRMATION:
        text = (
            f"You have chosen to subscribe to the topic {topic_arn}.\n"
            "To confirm the subscription, visit the SubscribeURL included in this message."
        )
    else:  # AWS-recorded wording
        text = (
            f"You have chosen to deactivate subscription {subscription_arn}.\n"
            "To cancel this operation and restore the subscription, visit the SubscribeURL "
            "included in this message."
        )
    out: dict[str, Any] = {
        "Type": kind,
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": text,
        "SubscribeURL": links.subscribe(topic_arn, token),
        "Timestamp": iso_millis_z(timestamp),
        "SignatureVersion": "1",
    }
    out["Signature"] = signature(out)
    out["SigningCertURL"] = links.signing_cert
    return out


def email_text(message: str, unsubscribe_url: str) -> str:
    return (
        f"{message}\n\n--\n"
        "If you wish to stop receiving notifications from this topic, please click or visit "
        f"the link below to unsubscribe:\n{unsubscribe_url}\n"
    )


_SIGNED_NOTIFICATION = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_SIGNED_CONFIRMATION = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)


def string_to_sign(message: dict[str, Any]) -> str:
    """The canonical text AWS signs (SignatureVersion 1), from the envelope's fields."""
    keys = _SIGNED_NOTIFICATION if message["Type"] == NOTIFICATION else _SIGNED_CONFIRMATION
    return "".join(f"{k}\n{message[k]}\n" for k in keys if message.get(k) is not None)


def signature(message: dict[str, Any]) -> str:
    return base64.b64encode(hashlib.sha1(string_to_sign(message).encode()).digest()).decode()
