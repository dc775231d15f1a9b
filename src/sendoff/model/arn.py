"""Lambda ARNs and the many ways a caller may name a function.

A function may be named by ``name``, ``name:qualifier``, a partial ARN
``123456789012:function:name[:qualifier]`` or a full ARN
``arn:aws:lambda:region:account:function:name[:qualifier]``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

NAME_RE = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
QUALIFIER_RE = re.compile(r"^(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_$]{1,128})$")
ALIAS_RE = re.compile(r"^(?!^[0-9]+$)([a-zA-Z0-9-_]{1,128})$")
FULL_ARN_RE = re.compile(
    r"^arn:(aws[a-zA-Z-]*)?:lambda:([a-z]{2}(-gov)?-[a-z]+-\d{1}):(\d{12}):function:"
    r"([a-zA-Z0-9-_]{1,64})(:(\$LATEST|[a-zA-Z0-9-_]+))?$"
)
PARTIAL_ARN_RE = re.compile(
    r"^(\d{12}):function:([a-zA-Z0-9-_]{1,64})(:(\$LATEST|[a-zA-Z0-9-_]+))?$"
)
NAME_QUAL_RE = re.compile(r"^([a-zA-Z0-9-_]{1,64})(:(\$LATEST|[a-zA-Z0-9-_]+))?$")


@dataclass(frozen=True, kw_only=True)
class FunctionRef:
    """What a caller's FunctionName resolved to, before looking anything up."""

    name: str
    qualifier: str | None
    account_id: str | None = None
    region: str | None = None


def parse_function_name(value: str) -> FunctionRef | None:
    """Parse any accepted form, or None if it is not a valid function identifier. The
    same few names come twice per async event: parses are cached (the result is frozen,
    so callers share it), only of strings short enough to be a name or ARN (at most 512
    characters, so the cache holds at most half a MB whatever callers send)."""
    if len(value) > _CACHED_UP_TO:
        return _parse_function_name(value)
    return _parse_cached(value)


_CACHED_UP_TO = 512


@functools.lru_cache(maxsize=1024)
def _parse_cached(value: str) -> FunctionRef | None:
    return _parse_function_name(value)


def _parse_function_name(value: str) -> FunctionRef | None:
    if match := FULL_ARN_RE.match(value):
        return FunctionRef(
            name=match.group(5),
            qualifier=match.group(7),
            account_id=match.group(4),
            region=match.group(2),
        )
    if match := PARTIAL_ARN_RE.match(value):
        return FunctionRef(name=match.group(2), qualifier=match.group(4), account_id=match.group(1))
    if match := NAME_QUAL_RE.match(value):
        return FunctionRef(name=match.group(1), qualifier=match.group(3))
    return None


def function_arn(region: str, account_id: str, name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{region}:{account_id}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


@dataclass(frozen=True, kw_only=True)
class Arn:
    partition: str
    service: str
    region: str
    account_id: str
    resource: str

    def __str__(self) -> str:
        return (
            f"arn:{self.partition}:{self.service}:{self.region}:{self.account_id}:{self.resource}"
        )


def arn_service(value: str) -> str:
    """The service of an ARN (``sqs``, ``lambda``...), or "" when it is not one."""
    arn = parse_arn(value)
    return arn.service if arn is not None else ""


def parse_arn(value: str) -> Arn | None:
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return Arn(
        partition=parts[1],
        service=parts[2],
        region=parts[3],
        account_id=parts[4],
        resource=parts[5],
    )
