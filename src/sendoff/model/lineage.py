"""Recursive-loop lineage carried in the X-Ray trace header (facts §7.2).

A trace header looks like ``Root=1-...;Parent=...;Sampled=0;Lineage=1:a87bd80c:3``; the
Lineage field lists ``1:<hash>:<count>`` entries joined by ``|``, one per function in the
chain, where hash identifies the function and count how often the chain invoked it.

Every path that starts an invocation stamps once, in ``AsyncInvocations.accept``: the
count of the invoked function goes up by one, and retries reuse the stamped header.
Other paths only carry the header on: SDK calls from inside a function (botocore sends
``_X_AMZN_TRACE_ID`` as ``X-Amzn-Trace-Id``, percent-encoding the ``|`` between entries),
SNS fan-out, EventBridge rules and targets, and destinations.
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
from urllib.parse import unquote

from sendoff.model.digits import is_digits
from sendoff.model.ids import random_hex

RECURSION_LIMIT = 16
# AWS's own description of RecursiveInvocationException (botocore's model): the sync
# caller's message and a stopped event's DLQ ErrorMessage (AWS's exact texts for both
# are not recorded, facts §7.2).
RECURSION_MESSAGE = (
    "Lambda has detected your function being invoked in a recursive loop with other"
    " Amazon Web Services resources and stopped your function's invocation."
)


@functools.lru_cache(maxsize=4096)
def function_hash(function_arn: str) -> str:
    return hashlib.sha256(function_arn.encode()).hexdigest()[:8]


def new_root() -> str:
    return f"1-{int(time.time()):08x}-{random_hex()[:24]}"


_NOT_VISIBLE = re.compile(r"[^!-~]+")
"""Anything but printable ASCII (controls, spaces, non-ASCII): dropped from a header."""


def _fields(header: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    text = _NOT_VISIBLE.sub("", unquote(header or ""))
    for part in text.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep:
            out[key] = value
    return out


def lineage_counts(header: str | None) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in _fields(header).get("Lineage", "").split("|"):
        bits = entry.split(":")
        if len(bits) >= 2 and is_digits(bits[-1]):
            counts[bits[-2]] = int(bits[-1])
    return counts


def count_for(header: str | None, function_arn: str) -> int:
    return lineage_counts(header).get(function_hash(function_arn), 0)


def stamp(header: str | None, function_arn: str) -> str:
    """The header an invocation of ``function_arn`` runs with: its count incremented."""
    fields = _fields(header)
    counts = lineage_counts(header)
    fn = function_hash(function_arn)
    counts[fn] = counts.get(fn, 0) + 1
    fields.setdefault("Root", new_root())
    fields.setdefault("Sampled", "0")
    fields["Lineage"] = "|".join(f"1:{h}:{c}" for h, c in counts.items())
    return ";".join(f"{k}={v}" for k, v in fields.items())


def stops(header: str | None, function_arn: str, recursive_loop: str) -> bool:
    """Whether an invocation stamped with ``header`` is stopped (RecursiveLoop config)."""
    return recursive_loop == "Terminate" and count_for(header, function_arn) > RECURSION_LIMIT
