"""SQS batch rules: 1 to 10 entries, each with a distinct id of at most 80 characters
(alphanumerics, ``-``, ``_``). A broken envelope fails the whole request; a bad entry
inside a valid envelope fails alone (see the batch operations of the service)."""

from __future__ import annotations

import re
from typing import Any

from sendoff.services.sqs.errors import (
    BatchEntryIdsNotDistinct,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    TooManyEntriesInBatchRequest,
)

MAX_BATCH_ENTRIES = 10
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def check_batch(entries: list[Any], entry_name: str) -> list[dict[str, Any]]:
    """The entries of a batch request, with the envelope checked."""
    if not entries:
        raise EmptyBatchRequest(f"There should be at least one {entry_name} in the request.")
    if len(entries) > MAX_BATCH_ENTRIES:
        raise TooManyEntriesInBatchRequest(
            f"Maximum number of entries per request are {MAX_BATCH_ENTRIES}."
            f" You have sent {len(entries)}."
        )
    seen: set[str] = set()
    for entry in entries:
        entry_id = entry.get("Id") if isinstance(entry, dict) else None
        if not isinstance(entry_id, str) or not _BATCH_ID.match(entry_id):
            raise InvalidBatchEntryId(
                "A batch entry id can only contain alphanumeric characters, hyphens and"
                " underscores. It can be at most 80 letters long."
            )
        if entry_id in seen:
            raise BatchEntryIdsNotDistinct(f"Id {entry_id} repeated.")
        seen.add(entry_id)
    return entries
