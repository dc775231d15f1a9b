"""Where function logs land: the group's document is made on first use (as Lambda calls
CreateLogGroup when a function first logs), then the lines are appended.

A process remembers the groups it made or saw for a minute, so a busy function costs one
document read a minute, not one per invoke. DeleteLogGroup in the same process forgets
the group at once; one deleted from another process is made again within a minute of
that function's next log line, as AWS does for the next invoke.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from sendoff.errors import ConflictError
from sendoff.model.json_types import JSON
from sendoff.model.log_names import GROUP_KIND, Scope, group_doc_key, lines_key
from sendoff.store import LogEvent, Store

RECHECK_S = 60.0


def new_group(name: str, now_ms: int) -> JSON:
    """A log group's document as CreateLogGroup (or Lambda's first log line) makes it."""
    return {"name": name, "created_ms": now_ms, "tags": {}, "class": "STANDARD"}


class LogWriter:
    def __init__(
        self, store: Store, *, recheck_s: float = RECHECK_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.store = store
        self.recheck_s = recheck_s
        self.monotonic = monotonic
        self._known: dict[str, float] = {}

    async def write(
        self, scope: Scope, group: str, stream: str, events: Sequence[LogEvent]
    ) -> None:
        if not events:
            return
        await self.ensure_group(scope, group)
        await self.store.append_logs(lines_key(scope, group), stream, events)

    async def ensure_group(self, scope: Scope, group: str) -> None:
        key = group_doc_key(scope, group)
        now = self.monotonic()
        if now - self._known.get(key, -self.recheck_s - 1) <= self.recheck_s:
            return
        if await self.store.get(GROUP_KIND, key) is None:
            try:
                value = new_group(group, int(time.time() * 1000))
                await self.store.put(GROUP_KIND, key, value, expect=0)
            except ConflictError:
                pass  # another process made it first
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[key] = now

    def forget(self, scope: Scope, group: str) -> None:
        self._known.pop(group_doc_key(scope, group), None)
