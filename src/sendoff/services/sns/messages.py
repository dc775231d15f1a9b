"""Validation of what a publisher hands to SNS: the message, its subject, attributes,
``MessageStructure=json`` and the FIFO ids. The result is an :class:`OutgoingMessage`.

Message attributes use the wire shape ``{name: {"DataType": .., "StringValue": ..}}`` or
``{"DataType": "Binary", "BinaryValue": <base64 text>}`` (JSON-friendly everywhere).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sendoff.services.sns.errors import InvalidParameter
from sendoff.services.sns.model import Protocol

MAX_MESSAGE_BYTES = 256 * 1024
MAX_ATTRIBUTES = 10
MAX_SUBJECT_CHARS = 100
_ATTRIBUTE_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
_ID_RE = re.compile(r"^[\x21-\x7e]{1,128}$")  # alphanumerics and punctuation

MessageAttributes = dict[str, dict[str, str]]


@dataclass(frozen=True, kw_only=True)
class OutgoingMessage:
    message: str
    subject: str | None = None
    attributes: MessageAttributes = field(default_factory=dict)
    per_protocol: dict[str, str] = field(default_factory=dict)  # MessageStructure=json
    group_id: str | None = None
    dedup_id: str | None = None
    trace_header: str | None = None  # the publisher's X-Amzn-Trace-Id (recursion lineage)

    def text_for(self, protocol: Protocol) -> str:
        """The message a subscription of ``protocol`` receives."""
        if not self.per_protocol:
            return self.message
        return self.per_protocol.get(protocol.value, self.per_protocol["default"])

    @property
    def size(self) -> int:
        return message_size(self.message, self.attributes)


def message_size(message: str, attributes: Mapping[str, Mapping[str, str]]) -> int:
    total = len(message.encode())
    for name, attr in attributes.items():
        total += len(name.encode()) + len(attr.get("DataType", "").encode())
        total += len((attr.get("StringValue") or attr.get("BinaryValue") or "").encode())
    return total


def validate_message(
    message: str | None,
    *,
    subject: str | None = None,
    attributes: Mapping[str, Mapping[str, str]] | None = None,
    structure: str | None = None,
    group_id: str | None = None,
    dedup_id: str | None = None,
) -> OutgoingMessage:
    if message is None or message == "":
        raise InvalidParameter("Empty message")
    attrs = validate_attributes(attributes or {})
    if message_size(message, attrs) > MAX_MESSAGE_BYTES:
        raise InvalidParameter("Message too long")
    if subject is not None:
        validate_subject(subject)
    per_protocol: dict[str, str] = {}
    if structure:
        per_protocol = _parse_structure(message, structure)
    for name, value in (("MessageGroupId", group_id), ("MessageDeduplicationId", dedup_id)):
        if value is not None and not _ID_RE.match(value):
            raise InvalidParameter(
                f"{name} Reason: {name} can contain only alphanumeric and punctuation "
                "characters and must be 1 to 128 characters long"
            )
    return OutgoingMessage(
        message=message,
        subject=subject,
        attributes=attrs,
        per_protocol=per_protocol,
        group_id=group_id,
        dedup_id=dedup_id,
    )


def validate_subject(subject: str) -> None:
    if (
        not subject
        or len(subject) > MAX_SUBJECT_CHARS
        or not subject.isascii()
        or any(ord(c) < 32 or ord(c) == 127 for c in subject)
        or subject[0].isspace()
    ):
        raise InvalidParameter("Subject")


def validate_attributes(attributes: Mapping[str, Mapping[str, str]]) -> MessageAttributes:
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidParameter(
            f"MessageAttributes Reason: Number of message attributes [{len(attributes)}] "
            f"exceeds the allowed maximum [{MAX_ATTRIBUTES}]."
        )
    out: MessageAttributes = {}
    for name, attr in attributes.items():
        out[name] = _validate_attribute(name, attr)
    return out


def _validate_attribute(name: str, attr: Mapping[str, str]) -> dict[str, str]:
    if (
        not _ATTRIBUTE_NAME_RE.match(name)
        or name.startswith((".", "AWS.", "Amazon.", "aws.", "amazon."))
        or name.endswith(".")
        or ".." in name
    ):
        raise InvalidParameter(f"The message attribute name '{name}' is invalid.")
    data_type = attr.get("DataType") or ""
    base = data_type.split(".", 1)[0]
    if base not in ("String", "Number", "Binary"):
        raise InvalidParameter(
            f"The message attribute '{name}' has an invalid message attribute type, "
            "the set of supported type prefixes is Binary, Number, and String."
        )
    if base == "Binary":
        raw = attr.get("BinaryValue")
        if not raw:
            raise _empty_value(name, data_type)
        try:
            base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidParameter(
                f"The message attribute '{name}' has an invalid binary value."
            ) from None
        return {"DataType": data_type, "BinaryValue": raw}
    value = attr.get("StringValue")
    if value is None or value == "":
        raise _empty_value(name, data_type)
    if base == "Number" and data_type != "Number.Array":
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            raise InvalidParameter(f"Could not cast message attribute '{name}' value to number.")
    if data_type in ("String.Array", "Number.Array"):
        try:
            decoded = json.loads(value)
        except (ValueError, RecursionError):
            decoded = None
        if not isinstance(decoded, list):
            raise InvalidParameter(
                f"The message attribute '{name}' with type '{data_type}' must be a JSON array."
            )
    return {"DataType": data_type, "StringValue": value}


def _empty_value(name: str, data_type: str) -> InvalidParameter:
    return InvalidParameter(
        f"The message attribute '{name}' must contain non-empty message attribute value "
        f"for message attribute type '{data_type.split('.', 1)[0]}'."
    )


def _parse_structure(message: str, structure: str) -> dict[str, str]:
    if structure != "json":
        raise InvalidParameter("MessageStructure")
    try:
        decoded = json.loads(message)
    except (ValueError, RecursionError):
        raise InvalidParameter("Message Structure - JSON message body failed to parse") from None
    if not isinstance(decoded, dict):
        raise InvalidParameter("Message Structure - JSON message body failed to parse")
    if "default" not in decoded:
        raise InvalidParameter("Message Structure - No default entry in JSON message body")
    out: dict[str, str] = {}
    for key, value in decoded.items():
        out[key] = value if isinstance(value, str) else json.dumps(value)
    return out
