"""Retention: a background task keeps the store's history bounded (docs/operations.md).

Terminal events (succeeded, failed; invocations and delivery jobs alike) are kept for
``event_retention_s`` after they finish, and at most ``event_retention_max`` of them when
that is set; function log lines for ``log_retention_s``, and each log group at most
``log_group_max_bytes``. Queued, running and retrying events are never pruned: their own
maximum event age ends them.

The :class:`Pruner` is one named asyncio task (``sendoff-retention``) in every process that
runs the server or ``sendoff worker``; prunes are idempotent, so several processes sharing a
store only share the work. A pass deletes in batches of ``batch`` rows through the store
contract, pausing between batches, so the accept path never waits for more than one small
transaction. Retention is wall-clock time: ``--time-scale`` does not shrink it.

It lives beside the store because it is about what the store keeps, and talks to nothing
but the store contract. What it last did is kept in a document (kind ``retention``, key
``state``) so every process can say it: the CLI's "history before ... was pruned", the
console's retention line, and a clear error when a pruned event is redriven.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sendoff.model.clock import Clock, system_clock
from sendoff.store.base import RetentionStats, Store

if TYPE_CHECKING:
    from sendoff.metrics import Metrics

log = logging.getLogger("sendoff.retention")

STATE_KIND, STATE_KEY = "retention", "state"


@dataclass(frozen=True, kw_only=True)
class RetentionPolicy:
    """What is kept; 0 in a ``max`` means no cap."""

    event_retention_s: float = 86_400.0
    event_retention_max: int = 0
    log_retention_s: float = 7 * 86_400.0
    log_group_max_bytes: int = 64 * 1024 * 1024

    @property
    def interval_s(self) -> float:
        """A pass every tenth of the shortest window, between 1 s and 1 min."""
        return min(max(min(self.event_retention_s, self.log_retention_s) / 10, 1.0), 60.0)


@dataclass(frozen=True, kw_only=True)
class PassReport:
    events: int
    log_lines: int
    events_before: float  # the cut-off this pass used


def describe_duration(seconds: float) -> str:
    """``86400`` -> ``24h``, ``604800`` -> ``7d``, ``90`` -> ``90s`` (as the flags take)."""
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0 and not (unit == "d" and seconds < 7 * size):
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


async def read_state(store: Store) -> dict[str, Any]:
    """What the pruner last wrote: the policy, ``pruned_before`` (events that finished
    before it may be gone; None until something was pruned)."""
    doc = await store.get(STATE_KIND, STATE_KEY)
    return dict(doc.value) if doc is not None else {}


class Pruner:
    def __init__(
        self,
        store: Store,
        policy: RetentionPolicy,
        *,
        clock: Clock = system_clock,
        batch: int = 500,
        pause_s: float = 0.01,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock  # wall clock: never the scaled clock of --time-scale
        self.batch = batch
        self.pause_s = pause_s
        self.metrics = metrics
        self.stats: RetentionStats | None = None
        self.health: dict[str, Any] = {"event_retention": describe_duration(
            policy.event_retention_s)}  # fmt: skip
        self._task: asyncio.Task[None] | None = None
        self.extra_log_passes: list[Callable[[float], Awaitable[int]]] = []
        """More log expiry each pass (log groups' retention policies): called with the
        wall-clock now, they return how many lines they deleted."""

    def start(self) -> None:
        self._task = asyncio.create_task(self._forever(), name="sendoff-retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _forever(self) -> None:
        with contextlib.suppress(Exception):
            await self._write_state(pruned_before=None)
        while True:
            try:
                await self.refresh_stats()
                report = await self.prune_once()
                if report.events or report.log_lines:
                    log.info("pruned %d finished event(s) and %d log line(s)",
                             report.events, report.log_lines)  # fmt: skip
                    await self.refresh_stats()
            except Exception:
                log.exception("pruning failed; trying again in %.0f s", self.policy.interval_s)
            await asyncio.sleep(self.policy.interval_s)  # a periodic timer, not a poll

    async def prune_once(self) -> PassReport:
        """Delete everything due now, a batch at a time."""
        p = self.policy
        now = self.clock()
        before = now - p.event_retention_s
        keep = p.event_retention_max or None
        events = await self._drain(
            lambda: self.store.prune_events(finished_before=before, keep_max=keep, limit=self.batch)
        )
        if events:
            await self._write_state(pruned_before=before)
        lines = await self._drain(
            lambda: self.store.prune_logs(
                before_ms=int((now - p.log_retention_s) * 1000),
                group_max_bytes=p.log_group_max_bytes or None,
                limit=self.batch * 2,
            )
        )
        for extra in self.extra_log_passes:
            lines += await extra(now)
        if self.metrics is not None:
            self.metrics.events_pruned.inc(events)
            self.metrics.log_lines_pruned.inc(lines)
        return PassReport(events=events, log_lines=lines, events_before=before)

    async def _drain(self, step: Any) -> int:
        total = 0
        while True:
            deleted: int = await step()
            total += deleted
            if deleted == 0:
                return total
            await asyncio.sleep(self.pause_s)  # let the accept path and other writers in

    async def refresh_stats(self) -> RetentionStats:
        stats = self.stats = await self.store.retention_stats()
        self.health.update(
            stored_events=stats.events,
            log_bytes=stats.log_bytes,
            oldest_kept_event_finished_at=stats.oldest_finished_at,
            stats_at=self.clock(),
        )
        if self.metrics is not None:
            self.metrics.stored_events.set(stats.events)
            self.metrics.stored_log_bytes.set(stats.log_bytes)
            self.metrics.oldest_kept_event.set(stats.oldest_finished_at or 0)
        return stats

    async def _write_state(self, *, pruned_before: float | None) -> None:
        state = await read_state(self.store)
        p = self.policy
        if pruned_before is not None:
            state["pruned_before"] = max(pruned_before, state.get("pruned_before") or 0.0)
        state.setdefault("pruned_before", None)
        state.update(
            event_retention_s=p.event_retention_s,
            event_retention_max=p.event_retention_max,
            log_retention_s=p.log_retention_s,
            log_group_max_bytes=p.log_group_max_bytes,
        )
        await self.store.put(STATE_KIND, STATE_KEY, state)
        self.health["pruned_before"] = state["pruned_before"]
