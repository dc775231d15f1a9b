"""One loop that leases due jobs from the store's queue and runs their handlers.

Jobs are rows of the store's event queue; ``body["kind"]`` names the handler ("invoke" for
asynchronous invocations, "deliver" for deliveries between services). A handler settles its
job itself (``finish`` or ``reschedule`` with the lease token). A job whose handler crashes,
or whose process dies, stays leased until the lease expires and is then taken again, so
nothing accepted is lost.

The loop sleeps until the next due time or until ``wake()`` (called by in-process
enqueuers), so a new job starts without polling latency. Jobs enqueued by other processes
are seen within ``poll_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from typing import Protocol

from sendoff.model.clock import Clock, system_clock
from sendoff.store import EventRecord, Store

log = logging.getLogger("sendoff.scheduler")


class JobHandler(Protocol):
    async def run(self, job: EventRecord) -> None:
        """Process one leased job and settle it (finish or reschedule) with its token."""


class Scheduler:
    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = system_clock,
        concurrency: int = 64,
        lease_s: float = 960.0,
        poll_s: float = 0.5,
    ) -> None:
        self.store = store
        self.clock = clock
        self.concurrency = concurrency
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.owner = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.handlers: dict[str, JobHandler] = {}
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        self._running: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def register(self, kind: str, handler: JobHandler) -> None:
        self.handlers[kind] = handler

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="sendoff-scheduler")

    async def stop(self, grace_s: float = 5.0) -> None:
        """Stop leasing; give running jobs a moment, then cancel them (their leases expire
        and another worker takes them again)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        if self._running:
            _, pending = await asyncio.wait(set(self._running), timeout=grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    @property
    def busy(self) -> int:
        return len(self._running)

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                await self._fill()
                await self._sleep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduler loop failed; retrying")
                await asyncio.sleep(self.poll_s)

    async def _fill(self) -> None:
        free = self.concurrency - len(self._running)
        while free > 0 and not self._stopping:
            jobs = await self.store.lease(
                owner=self.owner, now=self.clock(), limit=free, lease_s=self.lease_s
            )
            for job in jobs:
                task = asyncio.create_task(self._run(job), name=f"job-{job.id}")
                self._running.add(task)
                task.add_done_callback(self._running.discard)
            if len(jobs) < free:
                return
            free = self.concurrency - len(self._running)

    async def _sleep(self) -> None:
        self._wake.clear()
        timeout = self.poll_s
        if len(self._running) < self.concurrency:
            due = await self.store.next_due_at()
            if due is not None:
                timeout = max(0.0, min(timeout, due - self.clock()))
        if timeout <= 0:
            await asyncio.sleep(0)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def _run(self, job: EventRecord) -> None:
        kind = job.body.get("kind", "invoke")
        handler = self.handlers.get(kind)
        try:
            if handler is None:
                log.error("no handler for job kind %r (job %s); leaving it leased", kind, job.id)
                return
            await handler.run(job)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s (%s) failed in its handler; it will be retried", job.id, kind)
        finally:
            self._wake.set()  # a slot freed up
