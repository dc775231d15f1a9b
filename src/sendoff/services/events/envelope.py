"""PutEvents entries: per-entry validation, the request size limit, and the event envelope.

The envelope is what rules match and targets receive::

    {"version": "0", "id": ..., "detail-type": ..., "source": ..., "account": ...,
     "time": "2024-01-02T03:04:05Z", "region": ..., "resources": [...], "detail": {...}}

Entry errors are answered per entry, as AWS does (``InvalidArgument`` for a missing
``Source``/``DetailType``/``Detail``, ``MalformedDetail`` when ``Detail`` is not a JSON
object); a request over 256 KB fails as a whole.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sendoff.model.clock import iso_seconds_z
from sendoff.model.scope import Scope
from sendoff.services.events.errors import ValidationFailed

MAX_ENTRIES: Final = 10
MAX_REQUEST_BYTES: Final = 256 * 1024
_TIME_BYTES: Final = 14


@dataclass(frozen=True, kw_only=True)
class EntryInput:
    """One PutEvents request entry, as the caller gave it."""

    source: str | None = None
    detail_type: str | None = None
    detail: str | None = None
    resources: tuple[str, ...] = ()
    time_s: float | None = None
    bus: str | None = None  # name or ARN; None means the default bus
    trace_header: str | None = None


@dataclass(frozen=True, kw_only=True)
class EntryResult:
    event_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True, kw_only=True)
class AcceptedEntry:
    """A valid entry: its parsed detail, ready to become an envelope."""

    entry: EntryInput
    detail: dict[str, Any]


def entry_size(entry: EntryInput) -> int:
    """The size AWS counts for an entry (Time counts 14 bytes; strings by UTF-8 length)."""
    size = _TIME_BYTES if entry.time_s is not None else 0
    for text in (entry.source, entry.detail_type, entry.detail, *entry.resources):
        if text:
            size += len(text.encode())
    return size


def check_request(entries: Sequence[EntryInput]) -> None:
    """Request-level limits: 1 to 10 entries, 256 KB in total."""
    if not entries:
        raise ValidationFailed(
            "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint:"
            " Member must have length greater than or equal to 1"
        )
    if len(entries) > MAX_ENTRIES:
        raise ValidationFailed(
            f"1 validation error detected: Value '[{len(entries)} entries]' at 'entries' failed"
            f" to satisfy constraint: Member must have length less than or equal to {MAX_ENTRIES}"
        )
    if sum(entry_size(e) for e in entries) > MAX_REQUEST_BYTES:
        raise ValidationFailed("Total size of the entries in the request is over the limit.")


def check_entry(entry: EntryInput) -> AcceptedEntry | EntryResult:
    """The entry with its detail parsed, or the per-entry error AWS would answer."""
    for name, value in (
        ("Source", entry.source),
        ("DetailType", entry.detail_type),
        ("Detail", entry.detail),
    ):
        if not value:
            return EntryResult(
                error_code="InvalidArgument",
                error_message=f"Parameter {name} is not valid. Reason: {name} is a required "
                "argument.",
            )
    assert entry.detail is not None
    try:
        detail = json.loads(entry.detail)
    except (ValueError, RecursionError):
        detail = None
    if not isinstance(detail, dict):
        return EntryResult(error_code="MalformedDetail", error_message="Detail is malformed.")
    return AcceptedEntry(entry=entry, detail=detail)


def new_event_id() -> str:
    return str(uuid.uuid4())


def build_event(
    *,
    event_id: str,
    scope: Scope,
    source: str,
    detail_type: str,
    detail: Any,
    resources: Sequence[str],
    time_s: float,
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": source,
        "account": scope.account_id,
        "time": iso_seconds_z(time_s),
        "region": scope.region,
        "resources": list(resources),
        "detail": detail,
    }
