"""Queue attributes: names, defaults, validation and normal form (pure functions).

Values are kept as the strings SQS returns (``"30"``, ``"true"``, canonical JSON for the
policies), so comparing two normalized maps answers "same attributes?" for an idempotent
CreateQueue, and GetQueueAttributes renders them unchanged. Only explicitly set values are
stored; :data:`DEFAULTS` (and :data:`FIFO_DEFAULTS`) fill in the rest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from sendoff.services.sqs.errors import InvalidAttributeName, InvalidAttributeValue

DEFAULTS: dict[str, str] = {
    "VisibilityTimeout": "30",
    "MaximumMessageSize": "1048576",
    "MessageRetentionPeriod": "345600",
    "DelaySeconds": "0",
    "ReceiveMessageWaitTimeSeconds": "0",
    "SqsManagedSseEnabled": "true",
}
FIFO_DEFAULTS: dict[str, str] = {
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}

INT_RANGES: dict[str, tuple[int, int]] = {
    "DelaySeconds": (0, 900),
    "MaximumMessageSize": (1024, 1_048_576),
    "MessageRetentionPeriod": (60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "VisibilityTimeout": (0, 43_200),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400),
}
BOOLEANS = frozenset({"FifoQueue", "ContentBasedDeduplication", "SqsManagedSseEnabled"})
CHOICES: dict[str, frozenset[str]] = {
    "DeduplicationScope": frozenset({"messageGroup", "queue"}),
    "FifoThroughputLimit": frozenset({"perQueue", "perMessageGroupId"}),
}
FREE_TEXT = frozenset({"Policy", "KmsMasterKeyId"})
JSON_POLICIES = frozenset({"RedrivePolicy", "RedriveAllowPolicy"})
FIFO_ONLY = frozenset({"ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"})
COUNTS = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)
READ_ONLY = frozenset({*COUNTS, "CreatedTimestamp", "LastModifiedTimestamp", "QueueArn"})
SETTABLE = frozenset({*INT_RANGES, *BOOLEANS, *CHOICES, *FREE_TEXT, *JSON_POLICIES})
ALL_NAMES = frozenset({*SETTABLE, *READ_ONLY})

_DLQ_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,80}$")


def normalize(attributes: Mapping[str, str], *, fifo: bool, creating: bool) -> dict[str, str]:
    """Validate CreateQueue/SetQueueAttributes input; return it in normal form.

    An empty string for a policy means "remove it" and is kept as ``""`` so the caller
    can drop it. ``FifoQueue`` may only be given when creating.
    """
    out: dict[str, str] = {}
    for name, raw in attributes.items():
        if name in FIFO_ONLY and not fifo and name in CHOICES:
            # AWS's wording for these two (ContentBasedDeduplication: "Unknown Attribute")
            raise InvalidAttributeName(
                f"You can specify the {name} only when FifoQueue is set to true."
            )
        if name not in SETTABLE or (name in FIFO_ONLY and not fifo):
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
        if name == "FifoQueue" and (not creating or str(raw).lower() == "false"):
            # a standard queue is created without FifoQueue: AWS refuses even "false"
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
        if not isinstance(raw, str):
            raise InvalidAttributeValue(f"Invalid value for the parameter {name}.")
        out[name] = _value(name, raw)
    if out.get("FifoQueue", "true" if fifo else "false") != ("true" if fifo else "false"):
        raise InvalidAttributeValue("Invalid value for the parameter FifoQueue.")
    if out.get("KmsMasterKeyId") and out.get("SqsManagedSseEnabled") == "true":
        raise InvalidAttributeName(
            "You can use one type of server-side encryption (SSE) at one time."
            " You can either enable KMS SSE or SQS SSE."
        )
    return out


def _value(name: str, raw: str) -> str:
    bad = InvalidAttributeValue(f"Invalid value for the parameter {name}.")
    if name in INT_RANGES:
        low, high = INT_RANGES[name]
        try:
            number = int(raw.strip())
        except ValueError:
            raise bad from None
        if not low <= number <= high:
            raise bad
        return str(number)
    if name in BOOLEANS:
        if raw.lower() not in ("true", "false"):
            raise bad
        return raw.lower()
    if name in CHOICES:
        if raw not in CHOICES[name]:
            raise bad
        return raw
    if name == "RedrivePolicy":
        return _redrive_policy(raw)
    if name == "RedriveAllowPolicy":
        return _json_object(name, raw)
    return raw


def _json_object(name: str, raw: str) -> str:
    if raw == "":
        return ""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidAttributeValue(f"Invalid value for the parameter {name}.") from None
    if not isinstance(value, dict):
        raise InvalidAttributeValue(f"Invalid value for the parameter {name}.")
    return json.dumps(value, separators=(",", ":"))


def _redrive_policy(raw: str) -> str:
    if raw == "":
        return ""
    text = _json_object("RedrivePolicy", raw)
    policy = json.loads(text)
    reason = None
    arn = policy.get("deadLetterTargetArn")
    count = policy.get("maxReceiveCount")
    if not isinstance(arn, str) or not _DLQ_ARN_RE.match(arn):
        reason = "Invalid value for deadLetterTargetArn."
    else:
        try:
            count = int(count)  # AWS accepts the number as a string too
        except (TypeError, ValueError):
            reason = "Invalid value for maxReceiveCount."
        else:
            if not 1 <= count <= 1000:
                reason = "Value for parameter maxReceiveCount must be between 1 and 1000."
    if reason:
        raise InvalidAttributeValue(
            f"Value {raw} for parameter RedrivePolicy is invalid. Reason: {reason}"
        )
    return json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": count}, separators=(",", ":"))


def differing(given: Mapping[str, str], effective: Mapping[str, str]) -> str | None:
    """The first given attribute whose normalized value differs from the queue's."""
    for name, value in given.items():
        if effective.get(name, "") != value:
            return name
    return None


def requested(names: list[str]) -> list[str]:
    """GetQueueAttributes names, validated; ``All`` expands to every name."""
    out: list[str] = []
    for name in names:
        if name == "All":
            return sorted(ALL_NAMES)
        if name not in ALL_NAMES:
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
        out.append(name)
    return out
