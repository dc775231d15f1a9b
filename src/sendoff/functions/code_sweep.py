"""Every process lets go of unpacked code that no function runs any more, lazily.

DeleteFunction removes the unpacked copy on the host that served it at once
(``api/lambda_functions.py``). Other hosts on a shared store (PostgreSQL, Redis: many API
servers and workers) cached the same code and never hear of the delete; this task, run by
every server and worker, sweeps their cache every ``interval_s``: copies whose code no
function version in the store uses, and that were not unpacked in the last ten minutes
(an invoke of a function just created may be unpacking it), are removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from sendoff.executor import remove_unused
from sendoff.functions.registry import FunctionRegistry

log = logging.getLogger("sendoff.code_sweep")


class CodeSweep:
    def __init__(
        self,
        registry: FunctionRegistry,
        cache_dir: Path,
        *,
        interval_s: float = 600.0,
        sweep: Callable[[Path, set[str]], int] = remove_unused,
    ) -> None:
        self.registry = registry
        self.cache_dir = cache_dir
        self.interval_s = interval_s
        self._sweep = sweep
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        in_use = await self.registry.all_code_in_use()
        removed = await asyncio.to_thread(self._sweep, self.cache_dir, in_use)
        if removed:
            log.info("removed %d unpacked code copies no function uses", removed)
        return removed

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="sendoff-code-sweep")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.run_once()
            except Exception:
                log.exception("code cache sweep failed; trying again later")
