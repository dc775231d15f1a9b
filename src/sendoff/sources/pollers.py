"""The pollers of every enabled mapping, in one worker process.

A supervised task re-reads the mappings every ``refresh_s`` (at once after a change made
in this process) and keeps one :class:`MappingRunner` per enabled mapping, replacing it
when its settings change. Every worker process runs its own pollers on the same queues, as
AWS runs many pollers: the queue's leases keep them from taking the same message twice.

Pollers per mapping and process: ``ScalingConfig.MaximumConcurrency`` when set (its limit
is also enforced across processes through the store's concurrency slots), else
``default_pollers``; never more than the function's reserved concurrency, nor than
``max_pollers`` (the process's ``--concurrency``: a mapping asking for 1,000 does not start
1,000 tasks in every process; more processes give more).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sendoff.functions.errors import LambdaError
from sendoff.model.scope import Scope
from sendoff.sources.mapping import EventSourceMapping
from sendoff.sources.mappings import Mappings
from sendoff.sources.runner import Deps, MappingRunner

log = logging.getLogger("sendoff.sources")


class Pollers:
    def __init__(self, mappings: Mappings, deps: Deps, *, refresh_s: float = 1.0) -> None:
        self.mappings = mappings
        self.deps = deps
        self.refresh_s = refresh_s
        self.runners: dict[str, tuple[EventSourceMapping, int, MappingRunner]] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        mappings.on_change.append(self._changed.set)

    def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name="sendoff-esm-pollers")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        runners = [runner for _, _, runner in self.runners.values()]
        self.runners.clear()
        await asyncio.gather(*(r.stop() for r in runners), return_exceptions=True)

    async def _supervise(self) -> None:
        while True:
            self._changed.clear()
            try:
                await self.sync()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not refresh event source mappings")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), self.refresh_s)

    async def _pollers_for(self, mapping: EventSourceMapping) -> int:
        count = min(mapping.max_concurrency or self.deps.default_pollers, self.deps.max_pollers)
        scope = Scope(account_id=mapping.account_id, region=mapping.region)
        try:
            state = await self.deps.registry.load(scope, mapping.function_name)
        except LambdaError:
            return count
        if state.reserved_concurrency is not None:
            count = min(count, state.reserved_concurrency)
        return count

    async def sync(self) -> None:
        wanted = {m.uuid: m for m in await self.mappings.everywhere() if m.enabled}
        for key in list(self.runners):
            mapping, pollers, runner = self.runners[key]
            current = wanted.get(key)
            if (
                current is None
                or current.to_doc() != mapping.to_doc()
                or await self._pollers_for(current) != pollers
            ):
                del self.runners[key]
                await runner.stop()
        for key, mapping in wanted.items():
            if key in self.runners:
                continue
            pollers = await self._pollers_for(mapping)
            runner = MappingRunner(mapping, self.deps)
            if pollers > 0:
                runner.start(pollers)
            self.runners[key] = (mapping, pollers, runner)
