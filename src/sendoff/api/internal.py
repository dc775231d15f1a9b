"""sendoff's own JSON endpoints under /_sendoff/ (for the CLI and, later, the console).

GET  /_sendoff/logs/{function}?after=SEQ[&region=R]  log lines after a sequence number (the
                                                region: the request's signed one by default)
GET  /_sendoff/events?function=&state=&after=&limit=   async events, oldest first, with
                                                the retention (``pruned_before``: events
                                                that finished before it may be gone)
GET  /_sendoff/events/stats                     job counts by state
GET  /_sendoff/events/{id}                      one event with its attempts, record, deliveries
POST /_sendoff/events/redrive                   re-enqueue failed events (JSON: {"ids": [...]}
                                                or {"function": name}); answers the new ids;
                                                404 EventNotFound if a named id is not
                                                stored (e.g. pruned by retention)
GET  /metrics                                   Prometheus metrics
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sendoff.api.context import CALLER_KEY, request_context
from sendoff.api.json_shapes import NotJson, parse_json
from sendoff.functions.invoker import log_key
from sendoff.metrics import Metrics
from sendoff.model.digits import is_digits
from sendoff.model.job import DeliveryJob, InvokeJob, decode_job, is_invoke, job_kind
from sendoff.model.log_names import lines_key
from sendoff.model.scope import Scope
from sendoff.scheduler.redrive import redrive_events
from sendoff.store import EventRecord, Store
from sendoff.store.base import EventState
from sendoff.store.retention import describe_duration, read_state

SHOWN_DEPTH = 100  # levels of an event's JSON shown before "..." (deeper payloads exist)


class BadRequest(Exception):
    """A malformed query or body: answered 400 with ``{"message": ...}``."""


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name) or ""
    if not raw:
        return default
    if not is_digits(raw.lstrip("-")) or len(raw) > 19:
        raise BadRequest(f"{name} must be an integer")
    value = int(raw)
    if not -(2**63) <= value < 2**63:  # what the stores' INTEGER columns hold
        raise BadRequest(f"{name} must be a 64-bit integer")
    return value


def clip_depth(value: Any, limit: int) -> Any:
    """``value`` with anything nested deeper than ``limit`` replaced by a note."""
    if limit <= 0:
        return f"... (nested deeper than {SHOWN_DEPTH} levels)"
    if isinstance(value, dict):
        return {k: clip_depth(v, limit - 1) for k, v in value.items()}
    if isinstance(value, list):
        return [clip_depth(v, limit - 1) for v in value]
    return value


def event_summary(event: EventRecord) -> dict[str, Any]:
    job = decode_job(event.body)
    invoke = job if isinstance(job, InvokeJob) else None
    delivery = job if isinstance(job, DeliveryJob) else None
    return {
        "id": event.id,
        "kind": job_kind(event.body),
        "function": invoke.function_name if invoke else None,
        "qualifier": invoke.qualifier if invoke else None,
        "target": delivery.target if delivery else None,
        "state": event.state.value,
        "enqueued_at": event.enqueued_at,
        "attempts": len(invoke.attempts) if invoke else len(delivery.failures) if delivery else 0,
        "next_attempt_at": event.due_at
        if event.state in (EventState.QUEUED, EventState.RETRYING)
        else None,
        "condition": invoke.outcome.condition if invoke and invoke.outcome else None,
    }


def _function_of(event: EventRecord) -> str | None:
    return InvokeJob.decode(event.body).function_name if is_invoke(event.body) else None


def _caller_account(request: Request) -> str | None:
    """Under --auth sigv4, the verified caller's account: events of other accounts are
    not theirs to see or redrive. None without authentication (the server's view)."""
    caller = request.scope.get(CALLER_KEY)
    return None if caller is None else str(caller.account_id)


def _mine(event: EventRecord, account: str | None) -> bool:
    return account is None or event.function_key.startswith(f"{account}/")


class InternalApi:
    def __init__(
        self,
        store: Store,
        metrics: Metrics,
        wake: Any,
        executor_stats: Any,
        *,
        account_id: str = "000000000000",
        default_region: str = "us-east-1",
    ) -> None:
        self.account_id = account_id  # unsigned requests' account (--auth none)
        self.default_region = default_region
        self.store = store
        self.metrics = metrics
        self.wake = wake
        self.executor_stats = executor_stats

    def routes(self) -> list[Route]:
        return [
            Route("/_sendoff/logs/{function}", _answering_400(self.logs), methods=["GET"]),
            Route("/_sendoff/events", _answering_400(self.events), methods=["GET"]),
            Route("/_sendoff/events/redrive", _answering_400(self.redrive), methods=["POST"]),
            Route("/_sendoff/events/stats", self.stats, methods=["GET"]),
            Route("/_sendoff/events/{id}", self.event, methods=["GET"]),
            Route("/metrics", self.prometheus, methods=["GET"]),
        ]

    async def logs(self, request: Request) -> Response:
        after = _int_param(request, "after", 0)
        limit = min(_int_param(request, "limit", 1000), 10_000)
        ctx = request_context(
            request, account_id=self.account_id, default_region=self.default_region
        )
        name = request.path_params["function"]
        # logs are regional; an unsigned client (no credentials to sign with) names the
        # region in the query, as /_sendoff/stacks does
        region = request.query_params.get("region") or ctx.region
        group = log_key(ctx.account_id, region, name)
        function = await self.store.get("function", f"{ctx.account_id}/{region}/{name}")
        override = function.value.get("latest", {}).get("log_group") if function else None
        if isinstance(override, str) and override:  # LoggingConfig.LogGroup
            group = lines_key(Scope(account_id=ctx.account_id, region=region), override)
        rows = await self.store.read_logs(group, after_seq=after, limit=limit)
        events = [
            {"stream": s, "timestamp": e.timestamp_ms, "message": e.message, "seq": e.seq}
            for s, e in rows
        ]
        return JSONResponse({"events": events, "next": events[-1]["seq"] if events else after})

    async def events(self, request: Request) -> Response:
        params = request.query_params
        function = params.get("function")
        prefix = params.get("prefix", "")
        if function:
            prefix = function if "/" in function else ""
        account = _caller_account(request)
        if account is not None and not prefix:
            prefix = f"{account}/"  # only the caller's account
        elif account is not None and not prefix.startswith(f"{account}/"):
            prefix = f"{account}/-/"  # another account's: matches nothing
        try:
            states = [EventState(s) for s in params.getlist("state") if s]
        except ValueError:
            known = ", ".join(s.value for s in EventState)
            raise BadRequest(f"state must be one of {known}") from None
        limit = max(1, min(_int_param(request, "limit", 100), 1000))
        after = params.get("after") or None
        if function and "/" not in function:
            # A bare name is in no key prefix (every region): filter page by page, so
            # other functions' events do not push this one's off the page.
            rows: list[EventRecord] = []
            while len(rows) < limit:
                page = await self.store.list_events(
                    function_key_prefix=prefix, states=states, after_id=after, limit=1000
                )
                rows += [e for e in page if _function_of(e) == function]
                if len(page) < 1000:
                    break
                after = page[-1].id
            rows = rows[:limit]
        else:
            rows = await self.store.list_events(
                function_key_prefix=prefix, states=states, after_id=after, limit=limit
            )
        kinds = params.getlist("kind")
        if kinds:
            rows = [e for e in rows if job_kind(e.body) in kinds]
        retention = await read_state(self.store)
        return JSONResponse(
            {
                "events": [event_summary(e) for e in rows],
                "next": rows[-1].id if rows else None,
                "pruned_before": retention.get("pruned_before"),
                "event_retention_s": retention.get("event_retention_s"),
            }
        )

    async def stats(self, request: Request) -> Response:
        """Job counts by state (invocations and deliveries together), and what this
        process has written to the store (``store_writes``, for benchmarks)."""
        counts = {s.value: await self.store.count_events(states=[s]) for s in EventState}
        return JSONResponse(
            {
                "states": counts,
                "total": sum(counts.values()),
                "store_writes": self.store.write_counts(),
            }
        )

    async def event(self, request: Request) -> Response:
        event = await self.store.get_event(request.path_params["id"])
        if event is None or not _mine(event, _caller_account(request)):
            return JSONResponse({"message": "no such event"}, status_code=404)
        detail = {**event_summary(event), "body": event.body}
        deliveries = []
        invoke = InvokeJob.decode(event.body) if is_invoke(event.body) else None
        outcome = invoke.outcome if invoke else None
        for item in outcome.deliveries or () if outcome else ():
            if item.job_id is None:  # delivered at once, no job (Deliveries.send)
                deliveries.append({**item.encode(), "failures": []})
                continue
            job = await self.store.get_event(item.job_id)
            failures = [f.encode() for f in DeliveryJob.decode(job.body).failures] if job else None
            deliveries.append(
                {**item.encode(), "state": job.state.value if job else "unknown",
                 "failures": failures}
            )  # fmt: skip
        detail["deliveries"] = deliveries
        try:
            text = json.dumps(detail)
        except RecursionError:  # a payload nested deeper than the encoder recurses
            text = json.dumps(clip_depth(detail, SHOWN_DEPTH))
        # ASCII escapes: a payload may hold a lone surrogate ("\ud800"), which UTF-8 cannot
        return Response(text.encode(), media_type="application/json")

    async def redrive(self, request: Request) -> Response:
        raw = await request.body()
        try:
            spec = parse_json(raw) if raw else {}
        except NotJson as exc:
            raise BadRequest(f"body is not JSON: {exc}") from None
        ids = spec.get("ids") if isinstance(spec, dict) else None
        if not isinstance(spec, dict) or not isinstance(ids or [], list):
            raise BadRequest('body must be {"ids": [...]} or {"function": "name"}')
        ids = [str(i) for i in ids or []]
        if not ids:
            failed = await self.store.list_events(states=[EventState.FAILED], limit=10_000)
            ids = [
                e.id for e in failed
                if is_invoke(e.body)
                and (not spec.get("function") or _function_of(e) == spec["function"])
            ]  # fmt: skip
        else:
            missing = [i for i in dict.fromkeys(ids) if await self.store.get_event(i) is None]
            if missing:
                return await self._not_stored(missing)
        import time

        account = _caller_account(request)
        if account is not None:
            events = [await self.store.get_event(i) for i in ids]
            ids = [e.id for e in events if e is not None and _mine(e, account)]
        pairs = await redrive_events(self.store, ids, now=time.time())
        new_ids = [new for _, new in pairs]
        self.wake()
        return JSONResponse({"redriven": new_ids})

    async def _not_stored(self, missing: list[str]) -> Response:
        """Nothing is redriven when a named event is not stored; say why it may be gone."""
        retention = await read_state(self.store)
        message = f"no such event: {', '.join(missing)}"
        if retention.get("event_retention_s") is not None:
            message += (
                "; finished events are kept for"
                f" {describe_duration(retention['event_retention_s'])} (--event-retention)"
            )
            if retention.get("pruned_before"):
                message += f", and those that finished before {_iso(retention['pruned_before'])}"
                message += " were pruned"
        return JSONResponse(
            {"__type": "EventNotFound", "message": message, "missing": missing},
            status_code=404,
            headers={"x-amzn-errortype": "EventNotFound"},
        )

    async def prometheus(self, request: Request) -> Response:
        self.metrics.concurrent_executions.set(self.executor_stats().get("busy", 0))
        return Response(self.metrics.render(), media_type=self.metrics.content_type)


def _iso(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _answering_400(
    endpoint: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except BadRequest as exc:
            return JSONResponse({"message": str(exc)}, status_code=400)

    return guarded
