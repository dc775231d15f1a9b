"""Log events: GetLogEvents, FilterLogEvents and PutLogEvents.

GetLogEvents pages one stream with AWS's tokens: ``f/<digits>`` reads forward from just
after a line, ``b/<digits>`` backward from just before one; a call that finds nothing
more returns the token it was given, and that is how a reader knows it reached the end
(or the start). Without a token it reads the newest ``limit`` lines, or the oldest with
``startFromHead``.

FilterLogEvents scans a group in append order (every stream interleaved; a function's
lines are appended in time order). The store discards lines without the pattern's
required literals; Python matches the rest. One call scans at most ``SCAN_BUDGET`` lines
and then returns what it found with a ``nextToken``, as AWS returns partial pages when
its search time is up; a caller pages on until there is no ``nextToken``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

from sendoff.model.json_types import JSON
from sendoff.services.logs.errors import InvalidParameter
from sendoff.services.logs.filter_pattern import InvalidFilterPattern, parse
from sendoff.services.logs.groups import LogGroups
from sendoff.services.logs.model import (
    Scope,
    check_limit,
    direction_token,
    lines_key,
    page_token,
    read_direction_token,
    read_page_token,
    token_int,
)
from sendoff.store import LogEvent, Store
from sendoff.store.base import LogQuery

SCAN_BUDGET: Final = 200_000  # lines one FilterLogEvents call looks at, at most
MAX_ANSWER_BYTES: Final = 1_048_576  # AWS: "as many log events as can fit in 1 MB"
STORE_PAGE: Final = 10_000
MAX_BATCH_BYTES: Final = 1_048_576
EVENT_OVERHEAD: Final = 26  # bytes AWS counts per event on top of its message
MAX_EVENT_BYTES: Final = 1_048_576 - EVENT_OVERHEAD
TOO_OLD_MS: Final = 14 * 86_400_000
TOO_NEW_MS: Final = 2 * 3_600_000
DAY_MS: Final = 86_400_000


@dataclass(frozen=True, kw_only=True)
class Page:
    events: list[tuple[str, LogEvent]]
    forward: str
    backward: str


@dataclass(frozen=True, kw_only=True)
class Filtered:
    events: list[tuple[str, LogEvent]]
    next_token: str | None


@dataclass(frozen=True, kw_only=True)
class Rejected:
    too_old_end: int | None = None  # exclusive
    too_new_start: int | None = None  # inclusive
    expired_end: int | None = None  # exclusive

    def wire(self) -> JSON | None:
        info = {
            "tooOldLogEventEndIndex": self.too_old_end,
            "tooNewLogEventStartIndex": self.too_new_start,
            "expiredLogEventEndIndex": self.expired_end,
        }
        kept = {k: v for k, v in info.items() if v is not None}
        return kept or None


def _fit(rows: list[tuple[str, LogEvent]]) -> list[tuple[str, LogEvent]]:
    """The first rows whose messages fit in one answer (at least one row)."""
    total = 0
    for index, (_, event) in enumerate(rows):
        total += len(event.message) + EVENT_OVERHEAD
        if index and total > MAX_ANSWER_BYTES:
            return rows[:index]
    return rows


class LogEvents:
    def __init__(self, store: Store, groups: LogGroups) -> None:
        self.store = store
        self.groups = groups

    async def get(
        self, scope: Scope, group: str, stream: str, *, start_ms: int | None,
        end_ms: int | None, token: str | None, limit: int | None, from_head: bool,
    ) -> Page:  # fmt: skip
        size = check_limit(limit, maximum=10_000, default=10_000)
        direction, seq = read_direction_token(token) if token else ("", 0)
        await self.groups.check_stream(scope, group, stream)
        base = LogQuery(
            streams=(stream,),
            start_ms=start_ms,
            end_ms=None if end_ms is None else end_ms - 1,  # GetLogEvents: endTime exclusive
            limit=size,
        )
        key = lines_key(scope, group)
        if direction == "f" or (not direction and from_head):
            query = replace(base, after_seq=seq)
            rows = _fit(await self.store.query_logs(key, query))
        else:
            query = replace(base, before_seq=seq if direction else None, newest_first=True)
            rows = _fit(await self.store.query_logs(key, query))[::-1]
        if rows:
            forward = direction_token("f", rows[-1][1].seq)
            backward = direction_token("b", rows[0][1].seq)
        elif direction == "f":
            forward, backward = token or "", direction_token("b", seq + 1)
        elif direction == "b":
            forward, backward = direction_token("f", max(seq - 1, 0)), token or ""
        else:
            forward, backward = direction_token("f", 0), direction_token("b", 0)
        return Page(events=rows, forward=forward, backward=backward)

    async def filter(
        self, scope: Scope, group: str, *, streams: Sequence[str] | None,
        stream_prefix: str | None, start_ms: int | None, end_ms: int | None,
        pattern: str | None, token: str | None, limit: int | None,
    ) -> Filtered:  # fmt: skip
        size = check_limit(limit, maximum=10_000, default=10_000)
        if streams is not None and stream_prefix is not None:
            raise InvalidParameter(
                "logStreamNames and logStreamNamePrefix are mutually exclusive parameters."
            )
        try:
            compiled = parse(pattern)
        except InvalidFilterPattern as exc:
            raise InvalidParameter(f"Invalid filter pattern: {exc}") from None
        after = token_int(read_page_token(token, "filter"), "after") if token else 0
        await self.groups.get(scope, group)
        key = lines_key(scope, group)
        found: list[tuple[str, LogEvent]] = []
        scanned, exhausted, answer_bytes = 0, False, 0
        while True:
            query = LogQuery(
                streams=tuple(streams) if streams is not None else None,
                stream_prefix=stream_prefix,
                start_ms=start_ms,
                end_ms=end_ms,
                where=compiled.prefilter,
                after_seq=after,
                limit=STORE_PAGE,
            )
            rows = await self.store.query_logs(key, query)
            early = full = False
            for index, (stream, event) in enumerate(rows):
                if compiled.exact or compiled.match(event.message):
                    cost = len(event.message) + EVENT_OVERHEAD
                    if found and answer_bytes + cost > MAX_ANSWER_BYTES:
                        early = full = True  # this one starts the next page
                        break
                    found.append((stream, event))
                    answer_bytes += cost
                after = event.seq
                if len(found) == size:
                    early = index < len(rows) - 1
                    break
            scanned += len(rows)
            if len(rows) < STORE_PAGE and not early:
                exhausted = True
                break
            if full or len(found) == size or scanned >= SCAN_BUDGET:
                break
        next_token = None if exhausted else page_token({"k": "filter", "after": after})
        return Filtered(events=found, next_token=next_token)

    async def put(
        self, scope: Scope, group: str, stream: str, events: Sequence[tuple[int, str]]
    ) -> Rejected:
        """Store a batch (``(timestamp_ms, message)`` in time order); AWS's limits and
        rejections of events too old, too new or older than the group's retention."""
        if not events:
            raise InvalidParameter(
                "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy"
                " constraint: Member must have length greater than or equal to 1"
            )
        if len(events) > 10_000:
            raise InvalidParameter(
                "1 validation error detected: Value at 'logEvents' failed to satisfy"
                " constraint: Member must have length less than or equal to 10000"
            )
        size = sum(len(m.encode()) + EVENT_OVERHEAD for _, m in events)
        if size > MAX_BATCH_BYTES:
            raise InvalidParameter(
                "Upload too large: the batch of log events in a single PutLogEvents request"
                " must not exceed 1048576 bytes."
            )
        stamps = [t for t, _ in events]
        if any(b < a for a, b in itertools.pairwise(stamps)):
            raise InvalidParameter(
                "Log events in a single PutLogEvents request must be in chronological order."
            )
        if stamps[-1] - stamps[0] > DAY_MS:
            raise InvalidParameter(
                "The batch of log events in a single PutLogEvents request cannot span more"
                " than 24 hours."
            )
        for _, message in events:
            if len(message.encode()) > MAX_EVENT_BYTES:
                raise InvalidParameter("Log event too large.")
        doc = await self.groups.get(scope, group)
        await self.groups.check_stream(scope, group, stream)
        now = int(time.time() * 1000)
        days = doc.get("retention_days")
        expired_before = now - int(days) * DAY_MS if isinstance(days, int) else None
        too_old = sum(1 for t in stamps if t < now - TOO_OLD_MS)
        expired = sum(1 for t in stamps if expired_before is not None and t < expired_before)
        too_new_at = next((i for i, t in enumerate(stamps) if t > now + TOO_NEW_MS), None)
        keep_from = max(too_old, expired)
        keep_to = len(events) if too_new_at is None else too_new_at
        kept = [LogEvent(timestamp_ms=t, message=m) for t, m in events[keep_from:keep_to]]
        if kept:
            await self.store.append_logs(lines_key(scope, group), stream, kept)
        return Rejected(
            too_old_end=too_old or None,
            too_new_start=too_new_at,
            expired_end=expired if expired > too_old else None,
        )
