"""The asynchronous job, typed: an invocation (:class:`InvokeJob`) or a delivery
(:class:`DeliveryJob`), each with its one codec to and from the stored body.

Both kinds live in the store's one event queue (``EventRecord.body``, a JSON object).
This module is the only place that knows the body's keys; everything else decodes a body
(:func:`decode_job`, ``InvokeJob.decode``, ``DeliveryJob.decode``), works on frozen values
(``.evolve(...)``, a cheap ``dataclasses.replace``) and encodes what it settles
(``.encode()``). The keys on disk
are the ones sendoff has always written (and one new, ``settled_lease``), so bodies
stored by earlier versions decode:

invoke (``"kind": "invoke"``, or no ``kind`` at all)::

    request_id account_id region function_name qualifier payload trace_header
    function_attempts system_retries attempts[] last_response next_attempt_at
    outcome{condition at record deliveries[] error} redriven_from settled_lease
    handler_failures handler_error

    attempts[i]: started_at outcome duration_ms executed_version error_type
                 error_message reason

deliver (``"kind": "deliver"``)::

    scheme target payload source failures[{at error}] result delivered_at error
    handler_failures handler_error

Duplicate executions: every lease adds one to the event's lease token (the store
contract), and every settle of an invocation stores the token it settled under
(``settled_lease``; 0 when accepted). A worker that leases the event with a token more
than one above ``settled_lease`` knows a lease in between ended without settling: its
worker died, or lost the lease (expiry, shutdown) while it ran the event, so the function
runs again and ``AsyncDuplicateExecutions`` counts it (:meth:`InvokeJob.lost_leases`,
docs/async.md). Bodies without the key (accepted by earlier versions) count nothing. The
keys ``attempt_open`` and ``attempt_started_at`` of older versions were never written and
are ignored.

``payload`` and ``source`` of a delivery, and an outcome's ``record``, are documents owned
by whoever built them (the transport's input, the submitting service's context, AWS's
execution record): the job carries them and does not look inside.

Jobs of other kinds (tests register their own) have only the keys the watchdog adds
(:func:`handler_failures_of`, :func:`with_handler_failure`, :func:`bare_body`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from sendoff.model.json_types import JSON

INVOKE: Final = "invoke"
DELIVER: Final = "deliver"
SUCCESS_CONDITION: Final = "Success"


class _Keep(enum.Enum):
    KEEP = enum.auto()


KEEP: Final = _Keep.KEEP
"""The default of every ``evolve`` argument: keep the field as it is."""

_new = object.__new__
_set = object.__setattr__  # the frozen classes' own __setattr__ refuses; this is __init__'s way


class AttemptOutcome(enum.StrEnum):
    SUCCESS = "success"
    ERROR = "error"  # a function error
    THROTTLED = "throttled"
    SYSTEM_ERROR = "system_error"  # sendoff could not run the function


@dataclass(frozen=True, kw_only=True, slots=True)
class Attempt:
    """One run of the function for an event, as its history keeps it."""

    started_at: float
    outcome: AttemptOutcome | None = None
    duration_ms: float | None = None
    executed_version: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    reason: str | None = None  # why a throttle happened

    def encode(self) -> JSON:
        out: JSON = {"started_at": self.started_at}
        if self.outcome is not None:
            out["outcome"] = str(self.outcome)  # the value (a StrEnum), without .value's calls
        if self.duration_ms is not None:
            out["duration_ms"] = self.duration_ms
        if self.executed_version is not None:
            out["executed_version"] = self.executed_version
        if self.error_type is not None:
            out["error_type"] = self.error_type
        if self.error_message is not None:
            out["error_message"] = self.error_message
        if self.reason is not None:
            out["reason"] = self.reason
        return out

    @classmethod
    def decode(cls, data: JSON) -> Attempt:
        get = data.get
        outcome = get("outcome")
        duration = get("duration_ms")
        version = get("executed_version")
        error_type = get("error_type")
        message = get("error_message")
        reason = get("reason")
        return cls(
            started_at=float(get("started_at") or 0.0),
            outcome=AttemptOutcome(outcome) if outcome else None,
            duration_ms=None if duration is None else float(duration),
            executed_version=None if version is None else str(version),
            error_type=None if error_type is None else str(error_type),
            error_message=None if message is None else str(message),
            reason=None if reason is None else str(reason),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class LastResponse:
    """What the last attempt that ran returned (the record's response parts)."""

    executed_version: str
    function_error: str | None
    payload: str

    def encode(self) -> JSON:
        return {
            "executed_version": self.executed_version,
            "function_error": self.function_error,
            "payload": self.payload,
        }

    @classmethod
    def decode(cls, data: JSON) -> LastResponse:
        error = data.get("function_error")
        return cls(
            executed_version=str(data.get("executed_version") or ""),
            function_error=None if error is None else str(error),
            payload=str(data.get("payload") or ""),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordDelivery:
    """Where an event's record (or DLQ message) went: delivered at once (``state``,
    ``result``, ``delivered_at``) or handed to a delivery job (``job_id``)."""

    kind: str  # "destination" | "dead-letter"
    target: str
    job_id: str | None = None
    state: str | None = None
    result: JSON | None = None
    delivered_at: float | None = None

    def encode(self) -> JSON:
        if self.job_id is not None:
            return {"kind": self.kind, "target": self.target, "job": self.job_id}
        return {"kind": self.kind, "target": self.target, "state": self.state,
                "result": self.result, "delivered_at": self.delivered_at}  # fmt: skip

    @classmethod
    def decode(cls, data: JSON) -> RecordDelivery:
        job = data.get("job")
        result = data.get("result")
        return cls(
            kind=str(data.get("kind") or ""),
            target=str(data.get("target") or ""),
            job_id=str(job) if job is not None else None,
            state=_str_or_none(data.get("state")),
            result=dict(result) if isinstance(result, dict) else None,
            delivered_at=data.get("delivered_at"),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class InvokeOutcome:
    """How an event ended: its condition, the record and where it went."""

    condition: str
    at: float | None
    record: JSON | None = None
    deliveries: tuple[RecordDelivery, ...] | None = None
    error: str | None = None  # sendoff's own reason (function not found, internal error)

    @property
    def succeeded(self) -> bool:
        return self.condition == SUCCESS_CONDITION

    def encode(self) -> JSON:
        out: JSON = {"condition": self.condition}
        if self.error is not None:
            out["error"] = self.error
        out["at"] = self.at
        if self.record is not None:
            out["record"] = self.record
        if self.deliveries is not None:
            out["deliveries"] = list(map(RecordDelivery.encode, self.deliveries))
        return out

    @classmethod
    def decode(cls, data: JSON) -> InvokeOutcome:
        record = data.get("record")
        deliveries = data.get("deliveries")
        return cls(
            condition=str(data.get("condition") or ""),
            at=data.get("at"),
            record=record if isinstance(record, dict) else None,
            deliveries=tuple(RecordDelivery.decode(d) for d in deliveries)
            if isinstance(deliveries, list)
            else None,
            error=_str_or_none(data.get("error")),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class InvokeJob:
    """One accepted asynchronous invocation: the request, its attempts and its outcome."""

    kind: ClassVar[str] = INVOKE

    request_id: str
    account_id: str
    region: str
    function_name: str
    qualifier: str
    payload: str
    trace_header: str | None = None
    function_attempts: int = 0  # attempts that ran the function (success or error)
    system_retries: int = 0  # throttles and system errors (attempts not consumed)
    attempts: tuple[Attempt, ...] = ()
    last_response: LastResponse | None = None
    next_attempt_at: float | None = None
    outcome: InvokeOutcome | None = None
    redriven_from: str | None = None
    settled_lease: int | None = None  # the lease token of the last settle (0: accepted)
    handler_failures: int = 0
    handler_error: str | None = None

    def lost_leases(self, lease_token: int) -> int:
        """How many leases since the last settle ended without one, seen from the lease
        ``lease_token``: each was a worker that died or lost the lease while it ran the
        event. 0 for a body that does not say (accepted by an earlier version)."""
        if self.settled_lease is None:
            return 0
        return max(0, lease_token - 1 - self.settled_lease)

    def evolve(
        self,
        *,
        request_id: str | _Keep = KEEP,
        account_id: str | _Keep = KEEP,
        region: str | _Keep = KEEP,
        function_name: str | _Keep = KEEP,
        qualifier: str | _Keep = KEEP,
        payload: str | _Keep = KEEP,
        trace_header: str | _Keep | None = KEEP,
        function_attempts: int | _Keep = KEEP,
        system_retries: int | _Keep = KEEP,
        attempts: tuple[Attempt, ...] | _Keep = KEEP,
        last_response: LastResponse | _Keep | None = KEEP,
        next_attempt_at: float | _Keep | None = KEEP,
        outcome: InvokeOutcome | _Keep | None = KEEP,
        redriven_from: str | _Keep | None = KEEP,
        settled_lease: int | _Keep | None = KEEP,
        handler_failures: int | _Keep = KEEP,
        handler_error: str | _Keep | None = KEEP,
    ) -> InvokeJob:
        """This InvokeJob with the fields given changed (``dataclasses.replace``, without its
        per-field ``getattr`` and ``__init__``: the hot path copies jobs several times
        per event)."""
        new = _new(InvokeJob)
        _set(new, "request_id", self.request_id if request_id is KEEP else request_id)
        _set(new, "account_id", self.account_id if account_id is KEEP else account_id)
        _set(new, "region", self.region if region is KEEP else region)
        _set(new, "function_name", self.function_name if function_name is KEEP else function_name)
        _set(new, "qualifier", self.qualifier if qualifier is KEEP else qualifier)
        _set(new, "payload", self.payload if payload is KEEP else payload)
        _set(new, "trace_header", self.trace_header if trace_header is KEEP else trace_header)
        _set(
            new,
            "function_attempts",
            self.function_attempts if function_attempts is KEEP else function_attempts,
        )
        _set(
            new, "system_retries", self.system_retries if system_retries is KEEP else system_retries
        )
        _set(new, "attempts", self.attempts if attempts is KEEP else attempts)
        _set(new, "last_response", self.last_response if last_response is KEEP else last_response)
        _set(
            new,
            "next_attempt_at",
            self.next_attempt_at if next_attempt_at is KEEP else next_attempt_at,
        )
        _set(new, "outcome", self.outcome if outcome is KEEP else outcome)
        _set(new, "redriven_from", self.redriven_from if redriven_from is KEEP else redriven_from)
        _set(new, "settled_lease", self.settled_lease if settled_lease is KEEP else settled_lease)
        _set(
            new,
            "handler_failures",
            self.handler_failures if handler_failures is KEEP else handler_failures,
        )
        _set(new, "handler_error", self.handler_error if handler_error is KEEP else handler_error)
        return new

    def encode(self) -> JSON:
        out: JSON = {
            "kind": INVOKE,
            "request_id": self.request_id,
            "account_id": self.account_id,
            "region": self.region,
            "function_name": self.function_name,
            "qualifier": self.qualifier,
            "payload": self.payload,
            "trace_header": self.trace_header,
            "function_attempts": self.function_attempts,
            "system_retries": self.system_retries,
            "attempts": list(map(Attempt.encode, self.attempts)),
        }
        if self.last_response is not None:
            out["last_response"] = self.last_response.encode()
        if self.next_attempt_at is not None:
            out["next_attempt_at"] = self.next_attempt_at
        if self.outcome is not None:
            out["outcome"] = self.outcome.encode()
        if self.redriven_from is not None:
            out["redriven_from"] = self.redriven_from
        if self.settled_lease is not None:
            out["settled_lease"] = self.settled_lease
        if self.handler_failures:
            out["handler_failures"] = self.handler_failures
        if self.handler_error is not None:
            out["handler_error"] = self.handler_error
        return out

    @classmethod
    def decode(cls, body: JSON) -> InvokeJob:
        # every event decodes its body at least once per run: set the slots directly (as
        # ``evolve`` does), which costs about half of the generated frozen ``__init__``
        get = body.get
        attempts = get("attempts")
        last = get("last_response")
        outcome = get("outcome")
        trace = get("trace_header")
        redriven = get("redriven_from")
        settled = get("settled_lease")
        error = get("handler_error")
        job = _new(InvokeJob)
        _set(job, "request_id", str(get("request_id") or ""))
        _set(job, "account_id", str(get("account_id") or ""))
        _set(job, "region", str(get("region") or ""))
        _set(job, "function_name", str(get("function_name") or ""))
        _set(job, "qualifier", str(get("qualifier") or "$LATEST"))
        _set(job, "payload", str(get("payload") or ""))
        _set(job, "trace_header", None if trace is None else str(trace))
        _set(job, "function_attempts", int(get("function_attempts") or 0))
        _set(job, "system_retries", int(get("system_retries") or 0))
        _set(job, "attempts", tuple(map(Attempt.decode, attempts)) if attempts else ())
        _set(job, "last_response", LastResponse.decode(last) if isinstance(last, dict) else None)
        _set(job, "next_attempt_at", get("next_attempt_at"))
        _set(job, "outcome", InvokeOutcome.decode(outcome) if isinstance(outcome, dict) else None)
        _set(job, "redriven_from", None if redriven is None else str(redriven))
        _set(job, "settled_lease", None if settled is None else int(settled))
        _set(job, "handler_failures", int(get("handler_failures") or 0))
        _set(job, "handler_error", None if error is None else str(error))
        return job


@dataclass(frozen=True, kw_only=True, slots=True)
class DeliveryFailure:
    at: float
    error: str

    def encode(self) -> JSON:
        return {"at": self.at, "error": self.error}

    @classmethod
    def decode(cls, data: JSON) -> DeliveryFailure:
        return cls(at=float(data.get("at") or 0.0), error=str(data.get("error") or ""))


@dataclass(frozen=True, kw_only=True, slots=True)
class DeliveryJob:
    """One send from a service to a transport (``delivery/outbox.py``), retried until it
    is delivered or fails for good."""

    kind: ClassVar[str] = DELIVER

    scheme: str  # the transport: sqs, sns, lambda, events, http, email...
    target: str
    payload: Any  # the transport's input (normally a JSON object)
    source: JSON  # the submitting service's context (counted and routed on failure)
    failures: tuple[DeliveryFailure, ...] = ()
    result: JSON | None = None  # what the transport returned (a message id...)
    delivered_at: float | None = None
    error: str | None = None  # why it failed for good
    handler_failures: int = 0
    handler_error: str | None = None

    @property
    def group_id(self) -> str | None:
        """The FIFO message group of the payload, if any (deliveries of one group and
        target go one at a time)."""
        return group_of(self.payload)

    def evolve(
        self,
        *,
        scheme: str | _Keep = KEEP,
        target: str | _Keep = KEEP,
        payload: object = KEEP,
        source: JSON | _Keep = KEEP,
        failures: tuple[DeliveryFailure, ...] | _Keep = KEEP,
        result: JSON | _Keep | None = KEEP,
        delivered_at: float | _Keep | None = KEEP,
        error: str | _Keep | None = KEEP,
        handler_failures: int | _Keep = KEEP,
        handler_error: str | _Keep | None = KEEP,
    ) -> DeliveryJob:
        """This DeliveryJob with the fields given changed (``dataclasses.replace``, without its
        per-field ``getattr`` and ``__init__``: the hot path copies jobs several times
        per event)."""
        new = _new(DeliveryJob)
        _set(new, "scheme", self.scheme if scheme is KEEP else scheme)
        _set(new, "target", self.target if target is KEEP else target)
        _set(new, "payload", self.payload if payload is KEEP else payload)
        _set(new, "source", self.source if source is KEEP else source)
        _set(new, "failures", self.failures if failures is KEEP else failures)
        _set(new, "result", self.result if result is KEEP else result)
        _set(new, "delivered_at", self.delivered_at if delivered_at is KEEP else delivered_at)
        _set(new, "error", self.error if error is KEEP else error)
        _set(
            new,
            "handler_failures",
            self.handler_failures if handler_failures is KEEP else handler_failures,
        )
        _set(new, "handler_error", self.handler_error if handler_error is KEEP else handler_error)
        return new

    def encode(self) -> JSON:
        out: JSON = {
            "kind": DELIVER,
            "scheme": self.scheme,
            "target": self.target,
            "payload": self.payload,
            "source": self.source,
            "failures": list(map(DeliveryFailure.encode, self.failures)),
        }
        if self.result is not None:
            out["result"] = self.result
        if self.delivered_at is not None:
            out["delivered_at"] = self.delivered_at
        if self.error is not None:
            out["error"] = self.error
        if self.handler_failures:
            out["handler_failures"] = self.handler_failures
        if self.handler_error is not None:
            out["handler_error"] = self.handler_error
        return out

    @classmethod
    def decode(cls, body: JSON) -> DeliveryJob:
        source = body.get("source")
        result = body.get("result")
        return cls(
            scheme=str(body.get("scheme") or ""),
            target=str(body.get("target") or ""),
            payload=body.get("payload"),
            source=dict(source) if isinstance(source, dict) else {},
            failures=tuple(DeliveryFailure.decode(f) for f in body.get("failures") or ()),
            result=dict(result) if isinstance(result, dict) else None,
            delivered_at=body.get("delivered_at"),
            error=_str_or_none(body.get("error")),
            handler_failures=int(body.get("handler_failures") or 0),
            handler_error=_str_or_none(body.get("handler_error")),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordSource:
    """The ``source`` of a delivery that carries an event's execution record
    (``destination``) or its DLQ message (``dead-letter``), as destinations/router.py
    submits it; the failure counters and the IAM guard read it."""

    DESTINATION: ClassVar[str] = "destination"
    DEAD_LETTER: ClassVar[str] = "dead-letter"

    kind: str
    request_id: str
    function_arn: str
    condition: str | None = None  # destinations only
    role: str | None = None  # the execution role the send is made as

    @property
    def destination(self) -> bool:
        return self.kind == self.DESTINATION

    def encode(self) -> JSON:
        out: JSON = {"kind": self.kind, "request_id": self.request_id,
                     "function_arn": self.function_arn}  # fmt: skip
        if self.condition is not None:
            out["condition"] = self.condition
        if self.role:
            out["role"] = self.role
        return out

    @classmethod
    def decode(cls, source: JSON) -> RecordSource | None:
        """None for the source of any other delivery (SNS, EventBridge...)."""
        kind = source.get("kind")
        if kind not in (cls.DESTINATION, cls.DEAD_LETTER):
            return None
        return cls(
            kind=str(kind),
            request_id=str(source.get("request_id") or ""),
            function_arn=str(source.get("function_arn") or ""),
            condition=_str_or_none(source.get("condition")),
            role=_str_or_none(source.get("role")),
        )


Job = InvokeJob | DeliveryJob


def group_of(payload: Any) -> str | None:
    """The FIFO message group a delivery payload names (``group_id``), if any."""
    if isinstance(payload, dict):
        group = payload.get("group_id")
        return str(group) if group else None
    return None


def job_kind(body: JSON) -> str:
    """The handler a body is for (``invoke`` when it names none, as early bodies did)."""
    return str(body.get("kind") or INVOKE)


def is_invoke(body: JSON) -> bool:
    return job_kind(body) == INVOKE


def decode_job(body: JSON) -> Job | None:
    """The typed job of a stored body; None for a kind this module does not model."""
    kind = job_kind(body)
    if kind == INVOKE:
        return InvokeJob.decode(body)
    if kind == DELIVER:
        return DeliveryJob.decode(body)
    return None


# ---- the watchdog's view, for jobs of any kind (scheduler/watchdog.py) ----
def handler_failures_of(body: JSON) -> int:
    return int(body.get("handler_failures") or 0)


def with_handler_failure(body: JSON, *, failures: int, error: str, lease_token: int) -> JSON:
    """``body`` with sendoff's own failure count and last error set (any job kind), settled
    under ``lease_token`` (an invocation's ``settled_lease``: not a lost lease)."""
    out = {**body, "handler_failures": failures, "handler_error": error}
    if is_invoke(body):
        out["settled_lease"] = lease_token
    return out


def bare_body(body: JSON, *, condition: str, error: str, at: float) -> JSON:
    """What is left of a job that even its handler could not settle: its scalar fields
    (nothing nested, so it can always be stored) and an outcome naming the error."""
    out: JSON = {key: value for key, value in body.items() if isinstance(value, str | int | float)}
    out["outcome"] = InvokeOutcome(condition=condition, error=error, at=at).encode()
    return out


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
