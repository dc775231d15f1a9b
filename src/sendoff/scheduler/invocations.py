"""Asynchronous invocation: accept (enqueue, 202) and run (attempt, decide, record, route).

Event lifecycle (states of the store's queue)::

    queued --lease--> running --success--------------------------> succeeded
                         |  \\--function error / throttle, retry --> retrying --due--> running
                         |   \\--retries exhausted / age exceeded --> failed
                         \\--worker dies: lease expires -------------> running (again)

Every accepted event is in the store before the 202 is sent, and ends in exactly one
terminal state that ``sendoff events`` shows, with its attempts, record and deliveries.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sendoff.delivery.outbox import Delivered
from sendoff.destinations import DestinationRouter
from sendoff.functions.errors import LambdaError, ResourceNotFound, TooManyRequests
from sendoff.functions.event_config import EventConfigs
from sendoff.functions.invoker import Invoker
from sendoff.functions.registry import FunctionRegistry, Resolved
from sendoff.metrics import Metrics
from sendoff.model import lineage
from sendoff.model.clock import Clock, system_clock
from sendoff.model.ids import ordered_id
from sendoff.model.job import (
    Attempt,
    AttemptOutcome,
    InvokeJob,
    InvokeOutcome,
    LastResponse,
    RecordDelivery,
)
from sendoff.model.policy import (
    Action,
    Condition,
    Decision,
    Outcome,
    RetryPolicy,
    after_attempt,
    before_attempt,
)
from sendoff.model.records import AttemptResponse, execution_record
from sendoff.model.scope import Scope
from sendoff.scheduler.loop import Scheduler
from sendoff.store import EventRecord, Store
from sendoff.store.base import EventState

log = logging.getLogger("sendoff.async")

EVENT_PAYLOAD_LIMIT = 1_048_576
ZERO_CONCURRENCY_MESSAGE = (
    "Function not invoked. Function isconfigured with zero reserved concurrent executions"
)


@dataclass(frozen=True, kw_only=True)
class AttemptResult:
    """What one run of the function came to, for the policy and the DLQ message."""

    outcome: Outcome
    response: AttemptResponse | None
    error_type: str | None
    error_message: str | None


class AsyncInvocations:
    payload_limit = EVENT_PAYLOAD_LIMIT

    def __init__(
        self,
        *,
        store: Store,
        registry: FunctionRegistry,
        configs: EventConfigs,
        invoker: Invoker,
        scheduler: Scheduler,
        router: DestinationRouter,
        metrics: Metrics,
        time_scale: float = 1.0,
        clock: Clock = system_clock,
    ) -> None:
        self.store = store
        self.registry = registry
        self.configs = configs
        self.invoker = invoker
        self.scheduler = scheduler
        self.router = router
        self.metrics = metrics
        self.time_scale = time_scale
        self.clock = clock

    # ---- accepting ----
    async def accept(
        self, resolved: Resolved, *, request_id: str, payload: bytes, trace_header: str | None
    ) -> None:
        now = self.clock()
        scope = resolved.scope
        name = resolved.config.name
        job = InvokeJob(
            request_id=request_id,
            account_id=scope.account_id,
            region=scope.region,
            function_name=name,
            qualifier=resolved.qualifier,
            payload=payload.decode(errors="replace"),
            trace_header=lineage.stamp(trace_header, resolved.unqualified_arn),
            settled_lease=0,
        )
        await self.store.enqueue(
            [
                EventRecord(
                    id=request_id,
                    function_key=f"{scope.key}/{name}",
                    state=EventState.QUEUED,
                    due_at=now,
                    enqueued_at=now,
                    body=job.encode(),
                )
            ]
        )
        self.metrics.async_events_received.labels(name, _resource(resolved)).inc()
        self.scheduler.wake()

    async def accept_legacy(self, resolved: Resolved, *, request_id: str, payload: bytes) -> None:
        await self.accept(resolved, request_id=request_id, payload=payload, trace_header=None)

    async def invoke_event(
        self,
        function_arn: str,
        payload: bytes,
        *,
        trace_header: str | None = None,
        default_scope: Scope | None = None,
    ) -> str:
        """Queue an Event invoke on behalf of another service (SNS, EventBridge, destinations)."""
        from sendoff.model.arn import parse_function_name

        ref = parse_function_name(function_arn)
        if ref is None or (ref.account_id is None and default_scope is None):
            raise ResourceNotFound(f"Function not found: {function_arn}")
        scope = Scope(
            account_id=ref.account_id or (default_scope.account_id if default_scope else ""),
            region=ref.region or (default_scope.region if default_scope else ""),
        )
        resolved = await self.registry.resolve(scope, function_arn)
        request_id = ordered_id()
        await self.accept(
            resolved, request_id=request_id, payload=payload, trace_header=trace_header
        )
        return request_id

    # ---- running ----
    async def run(self, record: EventRecord) -> EventRecord | None:
        job = InvokeJob.decode(record.body)
        # a lease since the last settle never settled: its worker died or lost the lease
        # while it ran the event, so the run below is a duplicate execution
        duplicate = job.lost_leases(record.lease_token) > 0
        scope = Scope(account_id=job.account_id, region=job.region)
        try:
            resolved = await self.registry.resolve(scope, job.function_name, job.qualifier)
        except ResourceNotFound as exc:
            outcome = InvokeOutcome(
                condition="FunctionNotFound", error=exc.message, at=self.clock()
            )
            job = job.evolve(outcome=outcome, settled_lease=record.lease_token)
            return await self._finish(record, job, EventState.FAILED)
        config = await self.configs.get(scope, job.function_name, job.qualifier)
        policy = config.policy if config else RetryPolicy()
        age_s = (self.clock() - record.enqueued_at) / self.time_scale
        resource = _resource(resolved)
        stop = before_attempt(
            age_s=age_s, policy=policy, reserved_concurrency=resolved.state.reserved_concurrency
        )
        if stop is None and self._recursion_exceeded(resolved, job):
            self.metrics.recursive_invocations_dropped.labels(resolved.config.name, resource).inc()
            stop = Decision(action=Action.FAIL, condition=Condition.RECURSIVE_INVOCATION)
        if stop is not None:
            destinations = config_destinations(config)
            return await self._settle(record, job, resolved, destinations, stop, None)
        self.metrics.async_event_age.labels(resolved.config.name, resource).observe(
            (self.clock() - record.enqueued_at) * 1000 / self.time_scale
        )
        if duplicate:
            self.metrics.duplicate_executions.labels(resolved.config.name, resource).inc()
        entry, attempt = await self._attempt(resolved, job)
        function_attempts = job.function_attempts
        if attempt.outcome in (Outcome.SUCCESS, Outcome.FUNCTION_ERROR):
            function_attempts += 1
        decision = after_attempt(
            outcome=attempt.outcome,
            function_attempts=function_attempts,
            system_retries=job.system_retries,
            age_s=(self.clock() - record.enqueued_at) / self.time_scale,
            policy=policy,
        )
        system_retries = job.system_retries
        if attempt.outcome in (Outcome.THROTTLED, Outcome.SYSTEM_ERROR):
            system_retries += 1
        last = job.last_response
        if attempt.response is not None:
            last = LastResponse(
                executed_version=attempt.response.executed_version,
                function_error=attempt.response.function_error,
                payload=attempt.response.payload.decode(errors="replace"),
            )
        job = job.evolve(
            attempts=(*job.attempts, entry),
            function_attempts=function_attempts,
            system_retries=system_retries,
            last_response=last,
        )
        return await self._settle(
            record, job, resolved, config_destinations(config), decision, attempt
        )

    async def abandon(self, record: EventRecord, reason: str) -> EventRecord | None:
        """Fail the event for good because sendoff could not run it (scheduler/watchdog.py):
        a record with condition SendoffInternalError goes to OnFailure and the DLQ. When the
        payload itself is what sendoff cannot handle, the record carries a note instead."""
        job = InvokeJob.decode(record.body).evolve(next_attempt_at=None)
        scope = Scope(account_id=job.account_id, region=job.region)
        resolved = await self.registry.resolve(scope, job.function_name, job.qualifier)
        config = await self.configs.get(scope, job.function_name, job.qualifier)
        stop = Decision(action=Action.FAIL, condition=Condition.SENDOFF_INTERNAL_ERROR)
        try:
            return await self._settle(
                record, job, resolved, config_destinations(config), stop, None
            )
        except Exception:
            note = json.dumps({"sendoffError": f"payload not kept: {reason}"})
            return await self._settle(
                record, job.evolve(payload=note), resolved, config_destinations(config),
                stop, None,
            )  # fmt: skip

    def _recursion_exceeded(self, resolved: Resolved, job: InvokeJob) -> bool:
        return lineage.stops(
            job.trace_header, resolved.unqualified_arn, resolved.state.recursive_loop
        )

    async def _attempt(self, resolved: Resolved, job: InvokeJob) -> tuple[Attempt, AttemptResult]:
        """Run the function once: the attempt as the history keeps it, and its result."""
        started = self.clock()
        try:
            result = await self.invoker.run(
                resolved,
                request_id=job.request_id,
                payload=job.payload.encode(),
                trace_id=job.trace_header,
            )
        except TooManyRequests as exc:
            entry = Attempt(started_at=started, outcome=AttemptOutcome.THROTTLED,
                            error_type="TooManyRequestsException", error_message=exc.message,
                            reason=exc.reason)  # fmt: skip
            ran = AttemptResult(
                outcome=Outcome.THROTTLED,
                response=None,
                error_type="TooManyRequestsException",
                error_message=exc.message,
            )
            return entry, ran
        except (LambdaError, OSError, LookupError) as exc:
            log.warning("system error running %s: %s", job.request_id, exc)
            entry = Attempt(started_at=started, outcome=AttemptOutcome.SYSTEM_ERROR,
                            error_type=type(exc).__name__, error_message=str(exc))  # fmt: skip
            ran = AttemptResult(
                outcome=Outcome.SYSTEM_ERROR,
                response=None,
                error_type=type(exc).__name__,
                error_message=str(exc),
            )
            return entry, ran
        response = AttemptResponse(
            executed_version=resolved.executed_version,
            function_error=result.function_error,
            payload=result.payload,
        )
        duration_ms = round(result.duration_ms, 3)
        if result.function_error:
            error_type, error_message = _error_fields(result.payload)
            entry = Attempt(started_at=started, outcome=AttemptOutcome.ERROR,
                            duration_ms=duration_ms, executed_version=resolved.executed_version,
                            error_type=result.error_type or error_type,
                            error_message=error_message)  # fmt: skip
            ran = AttemptResult(
                outcome=Outcome.FUNCTION_ERROR,
                response=response,
                error_type=error_type,
                error_message=error_message,
            )
            return entry, ran
        entry = Attempt(started_at=started, outcome=AttemptOutcome.SUCCESS,
                        duration_ms=duration_ms,
                        executed_version=resolved.executed_version)  # fmt: skip
        ran = AttemptResult(
            outcome=Outcome.SUCCESS, response=response, error_type=None, error_message=None
        )
        return entry, ran

    async def _finish(self, record: EventRecord, job: InvokeJob, state: EventState) -> EventRecord:
        """Settle with a terminal state; ``job`` already names the lease (``settled_lease``)."""
        body = job.encode()
        await self.store.finish(record.id, token=record.lease_token, state=state, body=body)
        return record.settled(state, body)

    async def _settle(
        self,
        record: EventRecord,
        job: InvokeJob,
        resolved: Resolved,
        destinations: tuple[str | None, str | None],
        decision: Decision,
        attempt: AttemptResult | None,
    ) -> EventRecord:
        now = self.clock()
        if decision.action is Action.RETRY:
            due = now + decision.delay_s * self.time_scale
            body = job.evolve(next_attempt_at=due, settled_lease=record.lease_token).encode()
            await self.store.reschedule(
                record.id, token=record.lease_token, due_at=due, body=body,
                state=EventState.RETRYING,
            )  # fmt: skip
            return record.settled(EventState.RETRYING, body, due_at=due)
        condition = decision.condition or Condition.RETRIES_EXHAUSTED
        last = job.last_response
        response = None
        if condition is not Condition.ZERO_RESERVED_CONCURRENCY and last is not None:
            response = AttemptResponse(
                executed_version=last.executed_version,
                function_error=last.function_error,
                payload=last.payload.encode(),
            )
        execution = execution_record(
            timestamp=now,
            request_id=job.request_id,
            function_arn=resolved.qualified_arn,
            condition=condition.value,
            approximate_invoke_count=job.function_attempts,
            request_payload=job.payload,
            response=response,
        )
        success = decision.action is Action.SUCCEED
        on_success, on_failure = destinations
        target = on_success if success else on_failure
        deliveries: list[RecordDelivery] = []
        jobs: list[EventRecord] = []
        scope_key = resolved.scope.key
        owner = self.scheduler.owner
        if target:
            sent = await self.router.send_record(
                destination=target,
                record=execution,
                success=success,
                function_arn=resolved.qualified_arn,
                scope_key=scope_key,
                trace_header=job.trace_header,
                lease_owner=owner,
                role=resolved.config.role,
            )
            deliveries.append(_sent_entry("destination", target, sent, jobs))
        if not success:
            self.metrics.async_events_dropped.labels(
                resolved.config.name, _resource(resolved)
            ).inc()
            dlq = resolved.config.dead_letter_target
            if dlq:
                code, message = _dead_letter_error(condition, attempt, last)
                sent = await self.router.send_dead_letter(
                    target=dlq,
                    event_payload=job.payload,
                    request_id=job.request_id,
                    error_code=code,
                    error_message=message,
                    scope_key=scope_key,
                    function_arn=resolved.qualified_arn,
                    lease_owner=owner,
                    role=resolved.config.role,
                )
                deliveries.append(_sent_entry("dead-letter", dlq, sent, jobs))
        outcome = InvokeOutcome(
            condition=condition.value, at=now, record=execution, deliveries=tuple(deliveries)
        )
        settled = await self._finish(
            record,
            job.evolve(outcome=outcome, next_attempt_at=None, settled_lease=record.lease_token),
            EventState.SUCCEEDED if success else EventState.FAILED,
        )
        for delivery in jobs:  # stored leased to this worker: send them now
            self.scheduler.adopt(delivery)
        return settled


def _sent_entry(
    kind: str, target: str, sent: Delivered | EventRecord, jobs: list[EventRecord]
) -> RecordDelivery:
    """How the event's outcome names one delivery: done at once, or a job to follow."""
    if isinstance(sent, Delivered):
        return RecordDelivery(kind=kind, target=target, state="succeeded", result=sent.result,
                              delivered_at=sent.at)  # fmt: skip
    jobs.append(sent)
    return RecordDelivery(kind=kind, target=target, job_id=sent.id)


def config_destinations(config: Any) -> tuple[str | None, str | None]:
    if config is None:
        return None, None
    return config.on_success, config.on_failure


def _resource(resolved: Resolved) -> str:
    name = resolved.config.name
    return name if resolved.qualifier == "$LATEST" else f"{name}:{resolved.qualifier}"


def _error_fields(payload: bytes) -> tuple[str | None, str | None]:
    import json

    try:
        data = json.loads(payload)
    except ValueError:
        return None, payload.decode(errors="replace")
    if isinstance(data, dict):
        return data.get("errorType"), data.get("errorMessage")
    return None, str(data)


def _dead_letter_error(
    condition: Condition, attempt: AttemptResult | None, last: LastResponse | None
) -> tuple[str | None, str]:
    if condition is Condition.ZERO_RESERVED_CONCURRENCY:
        return None, ZERO_CONCURRENCY_MESSAGE
    if condition is Condition.RECURSIVE_INVOCATION:
        return None, lineage.RECURSION_MESSAGE
    if last is not None:
        _, message = _error_fields(last.payload.encode())
        return "200", message or ""
    if attempt is not None and attempt.error_message:
        return "429" if attempt.outcome is Outcome.THROTTLED else "500", attempt.error_message
    return None, f"Event dropped: {condition.value}"
