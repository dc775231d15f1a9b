"""Names, checks and page tokens of CloudWatch Logs. Pure functions.

Everything is scoped by account and region, as on AWS; the store keys and ARNs are in
:mod:`sendoff.model.log_names` (re-exported here).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Final

from sendoff.model.digits import is_digits
from sendoff.model.json_types import JSON
from sendoff.model.log_names import (
    GROUP_KIND,
    STREAM_KIND,
    group_arn,
    group_doc_key,
    lines_key,
    stream_arn,
    stream_doc_key,
)
from sendoff.model.scope import Scope
from sendoff.services.logs.errors import BAD_TOKEN, InvalidParameter

__all__ = [
    "GROUP_KIND", "RETENTION_DAYS", "STREAM_KIND", "Scope", "check_group_name", "check_limit",
    "check_retention", "check_stream_name", "direction_token", "group_arn", "group_doc_key",
    "group_from_arn", "lines_key", "page_token", "read_direction_token", "read_page_token",
    "stream_arn", "stream_doc_key", "token_int",
]  # fmt: skip

GROUP_NAME: Final = re.compile(r"[\.\-_/#A-Za-z0-9]+")
RETENTION_DAYS: Final = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
MAX_NAME: Final = 512


def group_from_arn(scope: Scope, arn: str) -> str | None:
    """The group an ARN names in this scope (with or without the trailing ``:*``); None
    for any other ARN, another account's or region's included."""
    prefix = f"arn:aws:logs:{scope.region}:{scope.account_id}:log-group:"
    if not arn.startswith(prefix):
        return None
    name = arn[len(prefix) :]
    return name[:-2] if name.endswith(":*") else name


def check_group_name(name: str) -> None:
    if len(name) > MAX_NAME:
        raise InvalidParameter(
            "Invalid LogGroup or LogStream, both must have length less than or equal to 512."
        )
    if not name or GROUP_NAME.fullmatch(name) is None:
        raise InvalidParameter(
            f"1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy"
            " constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
        )


def check_stream_name(name: str) -> None:
    if len(name) > MAX_NAME:
        raise InvalidParameter(
            "Invalid LogGroup or LogStream, both must have length less than or equal to 512."
        )
    if not name or ":" in name or "*" in name:
        raise InvalidParameter(
            f"1 validation error detected: Value '{name}' at 'logStreamName' failed to satisfy"
            " constraint: Member must satisfy regular expression pattern: [^:*]*"
        )


def check_limit(limit: int | None, *, maximum: int, default: int) -> int:
    if limit is None:
        return default
    if limit < 1:
        raise InvalidParameter(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy"
            " constraint: Member must have value greater than or equal to 1"
        )
    if limit > maximum:
        raise InvalidParameter(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy"
            f" constraint: Member must have value less than or equal to {maximum}"
        )
    return limit


def check_retention(days: int) -> None:
    if days not in RETENTION_DAYS:
        values = ", ".join(str(d) for d in RETENTION_DAYS)
        raise InvalidParameter(
            f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to"
            f" satisfy constraint: Member must satisfy enum value set: [{values}]"
        )


# ---- tokens ----
# GetLogEvents' tokens look like AWS's: "f/" or "b/" and 56 digits (a sequence number
# here). Other operations' nextToken is opaque: base64 of a small JSON object.

TOKEN_DIGITS: Final = 56


def direction_token(direction: str, seq: int) -> str:
    return f"{direction}/{seq:0{TOKEN_DIGITS}d}"


def read_direction_token(token: str) -> tuple[str, int]:
    direction, _, digits = token.partition("/")
    if direction not in ("f", "b") or not is_digits(digits) or len(digits) > TOKEN_DIGITS:
        raise InvalidParameter(BAD_TOKEN)
    return direction, int(digits)


def page_token(value: JSON) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()


def token_int(value: JSON, member: str) -> int:
    """An integer member of a page token (a tampered token is refused, never a 500)."""
    number = value.get(member, 0)
    if not isinstance(number, int) or isinstance(number, bool) or number < 0:
        raise InvalidParameter(BAD_TOKEN)
    return number


def read_page_token(token: str, kind: str) -> JSON:
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidParameter(BAD_TOKEN) from None
    if not isinstance(value, dict) or value.get("k") != kind:
        raise InvalidParameter(BAD_TOKEN)
    return value
