"""The delivery outbox: every cross-service send is a durable job, retried with backoff.

A service asks ``Deliveries.submit(scheme=..., target=..., payload=...)``; the job (a
:class:`~sendoff.model.job.DeliveryJob`) is stored in the same queue as asynchronous
invocations before
``submit`` returns, and the scheduler hands it to the transport registered for ``scheme``
(``sqs``, ``sns``, ``lambda``, ``events``, ``http``, ``email``...). A transport raises
:class:`DeliveryError` to fail; retryable failures are retried with exponential backoff
(1 s doubling to 5 min, times the time scale) until ``max_age_s`` has passed, then the job
ends FAILED, stays listable, and ``on_failed`` subscribers hear about it.

Guards (``add_guard``) may refuse a delivery before it is sent (IAM: the function's
execution role no longer allows it). A refusal is a permanent failure: the job ends FAILED
at once, without retries, and the ``on_failed`` subscribers count it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sendoff.errors import SendoffError
from sendoff.model.clock import Clock, system_clock
from sendoff.model.ids import ordered_id
from sendoff.model.job import DeliveryFailure, DeliveryJob, group_of
from sendoff.model.policy import DELIVERY_MAX_AGE_S, Action, delivery_decision
from sendoff.store import EventRecord, Store
from sendoff.store.base import EventState

log = logging.getLogger("sendoff.delivery")

DEFAULT_MAX_AGE_S = DELIVERY_MAX_AGE_S


class DeliveryError(SendoffError):
    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Transport(Protocol):
    async def deliver(self, target: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Send ``payload`` to ``target``; return facts worth keeping (e.g. a message id)."""


FailureHook = Callable[[EventRecord], Awaitable[None]]
# (scheme, target, source) -> why the delivery is refused, or None to let it go
Guard = Callable[[str, str, dict[str, Any]], Awaitable[str | None]]


@dataclass(frozen=True, kw_only=True)
class Delivered:
    """A delivery made at once, so no job was stored (:meth:`Deliveries.send`)."""

    result: dict[str, Any]
    at: float


class Deliveries:
    def __init__(
        self,
        store: Store,
        *,
        wake: Callable[[], None],
        time_scale: float = 1.0,
        clock: Clock = system_clock,
        max_age_s: float = DEFAULT_MAX_AGE_S,
    ) -> None:
        self.store = store
        self.wake = wake
        self.time_scale = time_scale
        self.clock = clock
        self.max_age_s = max_age_s
        self.transports: dict[str, Transport] = {}
        self.failure_hooks: list[FailureHook] = []
        self.guards: list[Guard] = []
        # FIFO message groups: deliveries of one (target, group) go one at a time, in the
        # order they were leased, so a FIFO topic's order survives into a FIFO queue.
        self._group_locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    def register(self, scheme: str, transport: Transport) -> None:
        self.transports[scheme] = transport

    def on_failed(self, hook: FailureHook) -> None:
        self.failure_hooks.append(hook)

    def add_guard(self, guard: Guard) -> None:
        self.guards.append(guard)

    async def _refusal(self, scheme: str, target: str, source: dict[str, Any]) -> str | None:
        for guard in self.guards:
            refusal = await guard(scheme, target, source)
            if refusal is not None:
                return refusal
        return None

    async def submit(
        self,
        *,
        scheme: str,
        target: str,
        payload: dict[str, Any],
        scope_key: str,
        source: dict[str, Any] | None = None,
        delay_s: float = 0.0,
    ) -> str:
        """Durably queue one delivery. ``scope_key`` is ``account/region`` (for listing)."""
        job = await self.submit_record(
            scheme=scheme,
            target=target,
            payload=payload,
            scope_key=scope_key,
            source=source,
            delay_s=delay_s,
        )
        return job.id

    async def send(
        self,
        *,
        scheme: str,
        target: str,
        payload: dict[str, Any],
        scope_key: str,
        source: dict[str, Any] | None = None,
        lease_owner: str | None = None,
    ) -> Delivered | EventRecord:
        """Deliver now if the transport takes it at once; otherwise store a job as
        :meth:`submit_record` does (retried with backoff, kept if it fails for good).

        For a caller that settles something durable only *after* this returns (an async
        event's outcome): if the process dies in between, the caller's work is redone and
        the delivery may happen twice, never zero times. Deliveries in a FIFO message
        group always go through a job, which keeps their order."""
        transport = self.transports.get(scheme)
        if self.guards and await self._refusal(scheme, target, source or {}) is not None:
            transport = None  # the job fails (and is counted) when it runs
        if transport is not None and not group_of(payload):
            try:
                result = await transport.deliver(target, payload)
            except Exception as exc:  # the job below retries it, and records failures
                log.info("direct delivery to %s failed (%s); queueing it", target, exc)
            else:
                return Delivered(result=result or {}, at=self.clock())
        return await self.submit_record(
            scheme=scheme,
            target=target,
            payload=payload,
            scope_key=scope_key,
            source=source,
            lease_owner=lease_owner,
        )

    async def submit_record(
        self,
        *,
        scheme: str,
        target: str,
        payload: dict[str, Any],
        scope_key: str,
        source: dict[str, Any] | None = None,
        delay_s: float = 0.0,
        lease_owner: str | None = None,
        lease_s: float = 30.0,
    ) -> EventRecord:
        """Like :meth:`submit`; with ``lease_owner`` the job is stored already leased to that
        worker, which runs it at once (``Scheduler.adopt``) instead of waiting for a lease
        round trip. If that worker dies, the lease expires and another worker takes it."""
        now = self.clock()
        job = EventRecord(
            id=f"d-{ordered_id()}",
            function_key=f"delivery/{scope_key}",
            state=EventState.RUNNING if lease_owner else EventState.QUEUED,
            due_at=now + delay_s * self.time_scale,
            enqueued_at=now,
            body=DeliveryJob(
                scheme=scheme, target=target, payload=payload, source=source or {}
            ).encode(),
            lease_owner=lease_owner,
            lease_expires_at=now + lease_s if lease_owner else None,
            lease_token=1 if lease_owner else 0,
        )
        await self.store.enqueue([job])
        if lease_owner is None:
            self.wake()
        return job

    async def run(self, record: EventRecord) -> EventRecord | None:
        job = DeliveryJob.decode(record.body)
        group = job.group_id
        if not group:
            return await self._run(record, job)
        key = (job.target, group)
        lock, users = self._group_locks.get(key, (asyncio.Lock(), 0))
        self._group_locks[key] = (lock, users + 1)
        try:
            async with lock:
                return await self._run(record, job)
        finally:
            lock, users = self._group_locks[key]
            if users == 1:
                del self._group_locks[key]
            else:
                self._group_locks[key] = (lock, users - 1)

    async def _run(self, record: EventRecord, job: DeliveryJob) -> EventRecord | None:
        transport = self.transports.get(job.scheme)
        try:
            if transport is None:
                raise DeliveryError(f"no transport for {job.scheme!r}", retryable=False)
            if self.guards:
                refusal = await self._refusal(job.scheme, job.target, job.source)
                if refusal is not None:
                    raise DeliveryError(refusal, retryable=False)
            result = await transport.deliver(job.target, job.payload)
        except DeliveryError as exc:
            return await self._failed(record, job, str(exc), retryable=exc.retryable)
        except Exception as exc:  # a transport bug must not lose the job
            log.exception("transport %s crashed", job.scheme)
            return await self._failed(record, job, f"{type(exc).__name__}: {exc}", retryable=True)
        body = job.evolve(result=result or {}, delivered_at=self.clock()).encode()
        await self.store.finish(
            record.id, token=record.lease_token, state=EventState.SUCCEEDED, body=body
        )
        return record.settled(EventState.SUCCEEDED, body)

    async def abandon(self, record: EventRecord, reason: str) -> EventRecord | None:
        """Fail the delivery for good because sendoff could not run it (the watchdog)."""
        job = DeliveryJob.decode(record.body)
        return await self._failed(record, job, f"SendoffInternalError: {reason}", retryable=False)

    async def _failed(
        self, record: EventRecord, job: DeliveryJob, error: str, *, retryable: bool
    ) -> EventRecord:
        now = self.clock()
        job = job.evolve(failures=(*job.failures, DeliveryFailure(at=now, error=error)))
        decision = delivery_decision(
            failures=len(job.failures),
            age_s=(now - record.enqueued_at) / self.time_scale,
            retryable=retryable,
            max_age_s=self.max_age_s,
        )
        if decision.action is Action.RETRY:
            due = now + decision.delay_s * self.time_scale
            body = job.encode()
            await self.store.reschedule(
                record.id, token=record.lease_token, due_at=due, body=body,
                state=EventState.RETRYING,
            )  # fmt: skip
            return record.settled(EventState.RETRYING, body, due_at=due)
        body = job.evolve(error=error).encode()
        settled = record.settled(EventState.FAILED, body)
        if await self.store.finish(
            record.id, token=record.lease_token, state=EventState.FAILED, body=body
        ):
            log.warning("delivery %s to %s failed for good: %s", record.id, job.target, error)
            for hook in self.failure_hooks:
                try:
                    await hook(settled)
                except Exception:
                    log.exception("delivery failure hook failed")
        return settled
