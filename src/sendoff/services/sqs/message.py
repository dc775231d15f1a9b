"""What a message may contain, how big it is, and its MD5 digests (pure functions).

Message attributes are kept as on the JSON wire: ``{name: {"DataType": "String",
"StringValue": "..."}}`` or ``{"DataType": "Binary", "BinaryValue": "<base64>"}``.

The attribute digest follows the AWS algorithm (what the SDKs verify): for each attribute
in name order, the 4-byte big-endian length and UTF-8 bytes of the name, then of the data
type, then one transport byte (1 string, 2 binary), then the length and bytes of the value.
The same algorithm digests the system attributes (``AWSTraceHeader``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
import struct
from collections.abc import Iterable, Mapping
from typing import Any

from sendoff.services.sqs.attributes import ALL_NAMES as QUEUE_ATTRIBUTE_NAMES
from sendoff.services.sqs.errors import (
    InvalidAttributeName,
    InvalidMessageContents,
    InvalidParameterValue,
    MissingParameter,
)

MAX_ATTRIBUTES = 10
MAX_ID_LENGTH = 128
ATTRIBUTES = dict[str, dict[str, str]]

# XML 1.0 characters: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF
_INVALID_CHARS = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTR_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
_DATA_TYPE = re.compile(r"^(String|Number|Binary)(\..+)?$")
_GROUP_OR_DEDUP_ID = re.compile(r"""^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$""")

SYSTEM_ATTRIBUTE_NAMES = frozenset(
    {
        "All",
        "SenderId",
        "SentTimestamp",
        "ApproximateReceiveCount",
        "ApproximateFirstReceiveTimestamp",
        "SequenceNumber",
        "MessageDeduplicationId",
        "MessageGroupId",
        "AWSTraceHeader",
        "DeadLetterQueueSourceArn",
    }
)


def check_body(body: str) -> None:
    if body == "":
        raise MissingParameter("MessageBody")
    bad = _INVALID_CHARS.search(body)
    if bad is not None:
        raise InvalidMessageContents(
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to"
            f" #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF (found {ord(bad.group()):#x})"
        )


def check_id(value: str, parameter: str) -> None:
    """MessageGroupId / MessageDeduplicationId: 1-128 alphanumerics or punctuation."""
    if not _GROUP_OR_DEDUP_ID.match(value):
        raise InvalidParameterValue(
            f"Value {value} for parameter {parameter} is invalid. Reason: {parameter} can only"
            " include alphanumeric and punctuation characters. 1 to 128 in length."
        )


def check_attributes(raw: Mapping[str, Any], *, kind: str = "user") -> ATTRIBUTES:
    """Validate message (``kind="user"``) or system attributes; return them normalized."""
    if len(raw) > MAX_ATTRIBUTES:
        raise InvalidParameterValue(
            f"Number of message attributes [{len(raw)}] exceeds the allowed maximum"
            f" [{MAX_ATTRIBUTES}]."
        )
    out: ATTRIBUTES = {}
    for name, value in raw.items():
        _check_name(name, kind)
        if not isinstance(value, Mapping):
            raise InvalidParameterValue(f"Message ({kind}) attribute '{name}' is malformed.")
        data_type = value.get("DataType")
        if not isinstance(data_type, str) or not data_type:
            raise InvalidParameterValue(
                f"The message ({kind}) attribute '{name}' must contain a non-empty message"
                " attribute type."
            )
        if not _DATA_TYPE.match(data_type) or len(data_type) > 256:
            raise InvalidParameterValue(
                f"The type of message ({kind}) attribute '{name}' is invalid. You must use only"
                " the following supported type prefixes: Binary, Number, String."
            )
        out[name] = _value(name, kind, data_type, value)
    return out


def _check_name(name: str, kind: str) -> None:
    lowered = name.lower()
    if (
        not _ATTR_NAME.match(name)
        or name.startswith(".")
        or name.endswith(".")
        or ".." in name
        or lowered.startswith(("aws.", "amazon."))
    ):
        raise InvalidParameterValue(
            f"Message ({kind}) attribute name '{name}' is invalid. Names may use only"
            " alphanumerics, '_', '-' and '.', must not start or end with '.', contain '..'"
            " or start with 'AWS.' or 'Amazon.', and are at most 256 characters long."
        )


def _value(name: str, kind: str, data_type: str, value: Mapping[str, Any]) -> dict[str, str]:
    base = data_type.split(".", 1)[0]
    if base == "Binary":
        blob = value.get("BinaryValue")
        if not isinstance(blob, str) or not blob:
            raise InvalidParameterValue(
                f"Message ({kind}) attribute '{name}' must contain a non-empty value of type"
                " 'Binary'."
            )
        try:
            base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidParameterValue(
                f"Message ({kind}) attribute '{name}' has an invalid binary value."
            ) from None
        return {"DataType": data_type, "BinaryValue": blob}
    text = value.get("StringValue")
    if not isinstance(text, str) or not text:
        raise InvalidParameterValue(
            f"Message ({kind}) attribute '{name}' must contain a non-empty value of type '{base}'."
        )
    if base == "Number" and not _is_number(text):
        raise InvalidParameterValue(
            f"Can't cast the value of message ({kind}) attribute '{name}' to a number."
        )
    if _INVALID_CHARS.search(text):
        raise InvalidMessageContents(f"Message ({kind}) attribute '{name}' has invalid characters.")
    return {"DataType": data_type, "StringValue": text}


def _is_number(text: str) -> bool:
    try:
        number = float(text)
    except ValueError:
        return False
    return math.isfinite(number) and len(text.lstrip("+-").replace(".", "")) <= 40


def check_system_attributes(raw: Mapping[str, Any]) -> ATTRIBUTES:
    """Only ``AWSTraceHeader`` (a String) can be sent."""
    for name, value in raw.items():
        if name != "AWSTraceHeader":
            raise InvalidParameterValue(
                f"Message system attribute name '{name}' is invalid. Only AWSTraceHeader is"
                " supported."
            )
        if not isinstance(value, Mapping) or value.get("DataType") != "String":
            raise InvalidParameterValue(
                "Message system attribute 'AWSTraceHeader' must be of type String."
            )
    return check_attributes(raw, kind="system")


def _blob(value: Mapping[str, str]) -> bytes:
    if "BinaryValue" in value:
        return base64.b64decode(value["BinaryValue"])
    return value.get("StringValue", "").encode()


def message_size(body: str, attributes: ATTRIBUTES) -> int:
    """Bytes counted against the size limit: body plus names, types and values."""
    size = len(body.encode())
    for name, value in attributes.items():
        size += len(name.encode()) + len(value["DataType"].encode()) + len(_blob(value))
    return size


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()


def md5_of_attributes(attributes: ATTRIBUTES) -> str | None:
    """The AWS attribute digest, or None when there are no attributes."""
    if not attributes:
        return None
    buf = bytearray()
    for name in sorted(attributes):
        value = attributes[name]
        _put(buf, name.encode())
        _put(buf, value["DataType"].encode())
        if "BinaryValue" in value:
            buf.append(2)
            _put(buf, base64.b64decode(value["BinaryValue"]))
        else:
            buf.append(1)
            _put(buf, value["StringValue"].encode())
    return hashlib.md5(bytes(buf), usedforsecurity=False).hexdigest()


def _put(buf: bytearray, data: bytes) -> None:
    buf += struct.pack(">I", len(data))
    buf += data


def select_attributes(attributes: ATTRIBUTES, names: Iterable[str]) -> ATTRIBUTES:
    """Message attributes a receiver asked for: exact names, ``All``, ``.*`` or ``prefix.*``."""
    wanted = list(names)
    if not wanted:
        return {}
    if "All" in wanted or ".*" in wanted:
        return dict(attributes)
    prefixes = tuple(n[:-1] for n in wanted if n.endswith(".*"))
    exact = set(wanted)
    return {
        k: v for k, v in attributes.items() if k in exact or (prefixes and k.startswith(prefixes))
    }


def check_receive_attribute_names(names: set[str]) -> set[str]:
    """ReceiveMessage's system attribute names. The legacy ``AttributeNames`` shares the
    queue attributes' enum, so those names are accepted (and select nothing)."""
    for name in names:
        if name not in SYSTEM_ATTRIBUTE_NAMES and name not in QUEUE_ATTRIBUTE_NAMES:
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
    return names


def select_system_attributes(values: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    """System attributes a receiver asked for (``All`` for every one there is)."""
    wanted = set(names)
    if "All" in wanted:
        return dict(values)
    return {k: v for k, v in values.items() if k in wanted}
