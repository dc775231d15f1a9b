"""One loop that leases due jobs from the store's queue and runs their handlers.

Jobs are rows of the store's event queue; the body's kind (``model/job.py``: ``job_kind``)
names the handler ("invoke" for asynchronous invocations, "deliver" for deliveries between
services). A handler settles its job itself (``finish`` or ``reschedule`` with the lease
token) and returns the record as it settled it. A job whose handler crashes,
or whose process dies, stays leased until the lease expires and is then taken again, so
nothing accepted is lost.

Leases are short (``lease_s``, 30 s) and kept alive by a heartbeat while a job runs, so a
job of a dead worker on another host comes back within ``lease_s``. A worker that starts
(or notices) leases of a dead process on its own host releases them at once.

After each lease that brought jobs, the loop reads the store's cache epoch
(``store.cache``): a function, queue or policy changed by another process before these
jobs were accepted is then read anew, not served from this process's cache.

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
from collections.abc import Callable
from typing import Protocol

from sendoff.model.clock import Clock, system_clock
from sendoff.model.digits import is_digits
from sendoff.model.job import job_kind
from sendoff.scheduler.watchdog import handler_failed
from sendoff.store import EventRecord, Store
from sendoff.store.cache import epoch_of

log = logging.getLogger("sendoff.scheduler")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobObserver(Protocol):
    """Hears about every job this worker runs (the lifecycle seam: the console's live
    index listens here). Callbacks run on the event loop and must be quick; an observer
    that raises is logged and the job goes on."""

    def job_started(self, job: EventRecord) -> None: ...

    def job_finished(self, job: EventRecord) -> None:
        """The handler returned (``job`` is the record as it settled it) or raised (``job``
        is the record as it was leased)."""

    def jobs_changed_elsewhere(self, ids: list[str]) -> None:
        """Another process (a worker process of this server) started or settled these
        jobs: their records are in the store."""


class JobHandler(Protocol):
    async def run(self, job: EventRecord) -> EventRecord | None:
        """Process one leased job and settle it (finish or reschedule) with its token;
        return the settled record (None if nothing was settled)."""


class Scheduler:
    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = system_clock,
        concurrency: int = 64,
        lease_s: float = 30.0,
        poll_s: float = 0.5,
    ) -> None:
        self.store = store
        self.epoch = epoch_of(store)
        self.clock = clock
        self.concurrency = concurrency
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.owner = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.handlers: dict[str, JobHandler] = {}
        self.observers: list[JobObserver] = []
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        self._running: set[asyncio.Task[None]] = set()
        self._adopted: set[asyncio.Task[None]] = set()
        self._leases: dict[str, int] = {}  # job id -> lease token, for the heartbeat
        self._task: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._stopping = False
        store.add_wakeup_listener(self._on_wakeup)
        self.wake_hooks: list[Callable[[], None]] = []

    def _on_wakeup(self, topic: str) -> None:
        if topic == "jobs":
            self._wake.set()

    def register(self, kind: str, handler: JobHandler) -> None:
        self.handlers[kind] = handler

    def add_observer(self, observer: JobObserver) -> None:
        self.observers.append(observer)

    def _notify(self, started: bool, job: EventRecord) -> None:
        for observer in self.observers:
            try:
                if started:
                    observer.job_started(job)
                else:
                    observer.job_finished(job)
            except Exception:
                log.exception("job observer %r failed", observer)

    def changed_elsewhere(self, ids: list[str]) -> None:
        """Tell the observers of jobs another process started or settled (a server hears
        this from its worker processes: ``workers.JobNotes``)."""
        for observer in self.observers:
            try:
                observer.jobs_changed_elsewhere(ids)
            except Exception:
                log.exception("job observer %r failed", observer)

    def wake(self) -> None:
        """A job is due now: lease at once (here, and in the processes ``wake_hooks``
        tell: a server's worker processes)."""
        self._wake.set()
        for hook in self.wake_hooks:
            hook()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="sendoff-scheduler")
        self._heartbeat = asyncio.create_task(self._beat(), name="sendoff-lease-heartbeat")

    async def stop(self, grace_s: float = 5.0) -> None:
        """Stop leasing; give running jobs a moment, then cancel them (their leases expire
        and another worker takes them again)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
        if self._running or self._adopted:
            _, pending = await asyncio.wait(self._running | self._adopted, timeout=grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        try:  # hand unfinished jobs back at once instead of waiting for their leases
            released = await self.store.release_leases(self.owner, now=self.clock())
        except Exception:
            log.exception("could not release leases at shutdown")
        else:
            if released:
                log.info("released %d unfinished job(s) for other workers", released)

    def adopt(self, job: EventRecord) -> None:
        """Run a job this worker created already leased to itself (``job.lease_owner``).

        Adopted jobs (the deliveries of records this worker just settled) do not take one
        of the ``concurrency`` slots: their number follows the leased jobs that made them,
        and a slot held by a delivery waiting on the store would idle an environment."""
        task = asyncio.create_task(self._run(job), name=f"job-{job.id}")
        self._adopted.add(task)
        task.add_done_callback(self._adopted.discard)

    @property
    def busy(self) -> int:
        return len(self._running) + len(self._adopted)

    async def reclaim_dead_leases(self) -> int:
        """Release leases held by dead processes of this host (instant crash recovery)."""
        host = os.uname().nodename
        released = 0
        for owner in await self.store.lease_owners():
            owner_host, _, rest = owner.partition(":")
            pid_text = rest.partition(":")[0]
            if owner_host != host or not is_digits(pid_text) or owner == self.owner:
                continue
            if not _pid_alive(int(pid_text)):
                released += await self.store.release_leases(owner, now=self.clock())
        if released:
            log.warning("released %d job(s) leased by dead workers", released)
        return released

    async def _beat(self) -> None:
        ticks = 0
        while not self._stopping:
            await asyncio.sleep(self.lease_s / 3)
            ticks += 1
            try:
                until = self.clock() + self.lease_s
                for job_id, token in list(self._leases.items()):
                    await self.store.extend_lease(job_id, token=token, expires_at=until)
                if ticks % 3 == 0:
                    await self.reclaim_dead_leases()
            except Exception:
                log.exception("lease heartbeat failed")

    async def _loop(self) -> None:
        try:
            await self.reclaim_dead_leases()
        except Exception:
            log.exception("could not reclaim dead leases")
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
            if jobs:
                await self.epoch.sync()
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
        kind = job_kind(job.body)
        handler = self.handlers.get(kind)
        self._leases[job.id] = job.lease_token
        self._notify(True, job)
        settled: EventRecord | None = None
        try:
            if handler is None:
                log.error("no handler for job kind %r (job %s); leaving it leased", kind, job.id)
                return
            settled = await handler.run(job)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            await handler_failed(self.store, job, handler, error, now=self.clock())
        finally:
            self._notify(False, settled or job)
            self._leases.pop(job.id, None)
            self._wake.set()  # a slot freed up
