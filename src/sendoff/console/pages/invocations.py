"""Invocations: a function's asynchronous events (filter by state, time and text), each
event's timeline (attempts, errors, waits, the record and where it went), and redrive."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sendoff.console.activity import Query
from sendoff.console.context import Console, NotFound
from sendoff.console.pages.base import function_head, head_context
from sendoff.console.resources import ResourceLink, describe_arn
from sendoff.console.web import pretty, read_form, redirect, span
from sendoff.model.job import (
    AttemptOutcome,
    DeliveryFailure,
    DeliveryJob,
    InvokeJob,
    RecordDelivery,
    is_invoke,
)
from sendoff.scheduler.redrive import redrive_events
from sendoff.store import EventRecord
from sendoff.store.base import TERMINAL_STATES, EventState
from sendoff.store.retention import describe_duration

PAGE_SIZE = 50
WITHIN = (("", "Any time"), ("15m", "Last 15 minutes"), ("1h", "Last hour"),
          ("24h", "Last 24 hours"), ("7d", "Last 7 days"))  # fmt: skip
WITHIN_S = {"15m": 900, "1h": 3600, "24h": 86400, "7d": 604800}
STATES = [s.value for s in EventState]


@dataclass(frozen=True, kw_only=True)
class Step:
    kind: str  # queued | attempt | wait | running | outcome
    title: str
    at: float | None = None
    detail: str = ""
    error: str = ""
    ok: bool | None = None


@dataclass(frozen=True, kw_only=True)
class Delivery:
    kind: str  # destination | dead-letter
    target: ResourceLink
    job_id: str
    state: str
    failures: tuple[DeliveryFailure, ...] = ()
    reference: str = ""  # "message <id>" (SQS, SNS) or "event <id>" (EventBridge)
    request_id: str | None = None  # Lambda: the destination function's invocation
    delivered_at: float | None = None
    error: str = ""


_TITLES = {
    AttemptOutcome.SUCCESS: "succeeded",
    AttemptOutcome.ERROR: "failed with a function error",
    AttemptOutcome.THROTTLED: "was throttled",
    AttemptOutcome.SYSTEM_ERROR: "could not start",
}


def timeline(event: EventRecord, *, time_scale: float) -> list[Step]:
    job = InvokeJob.decode(event.body)
    steps = [Step(kind="queued", title="Event queued", at=event.enqueued_at,
                  detail=f"{len(job.payload.encode()):,} byte payload"
                  + (f"; redrive of {job.redriven_from}" if job.redriven_from else ""))
             ]  # fmt: skip
    prev_end = event.enqueued_at
    for n, attempt in enumerate(job.attempts, start=1):
        started = attempt.started_at or prev_end
        if n > 1 and started - prev_end > 0.001:
            waited = span(started - prev_end)
            steps.append(Step(kind="wait", title=f"Waited {waited} before attempt {n}",
                              at=prev_end, detail=_scaled(time_scale)))  # fmt: skip
        duration = attempt.duration_ms
        detail = f"ran {duration:,.1f} ms" if duration is not None else ""
        if attempt.executed_version:
            detail += f" on {attempt.executed_version}"
        error = " — ".join(x for x in (attempt.error_type, attempt.error_message) if x)
        title = _TITLES[attempt.outcome] if attempt.outcome else "is running"
        steps.append(Step(kind="attempt", at=started, ok=attempt.outcome is AttemptOutcome.SUCCESS,
                          title=f"Attempt {n} {title}",
                          detail=detail.strip(), error=error))  # fmt: skip
        prev_end = started + (duration or 0) / 1000
    if event.state is EventState.RETRYING:
        due = job.next_attempt_at or event.due_at
        detail = f"next attempt at {_clock(due)}; {_scaled(time_scale)}".rstrip("; ")
        steps.append(Step(kind="wait", title="Waiting to retry", at=due, detail=detail))
    elif event.state is EventState.QUEUED:
        steps.append(Step(kind="wait", title="Waiting for a worker", at=event.due_at))
    elif event.state is EventState.RUNNING and not job.attempts:
        steps.append(Step(kind="running", title="Starting", at=None))
    outcome = job.outcome
    if outcome is not None:
        ok = event.state is EventState.SUCCEEDED
        title = "Succeeded" if ok else f"Failed: {outcome.condition}"
        steps.append(Step(kind="outcome", title=title, at=outcome.at, ok=ok,
                          error=outcome.error or ""))  # fmt: skip
    return steps


def _scaled(time_scale: float) -> str:
    return "" if time_scale == 1 else f"delays run at time scale {time_scale:g}"


def _retention(c: Console) -> str:
    """The retention window, as the page states it (sendoff.store.retention)."""
    settings = c.services.settings
    text = describe_duration(settings.event_retention_s)
    if settings.event_retention_max:
        text += f", at most {settings.event_retention_max:,} of them"
    return text


def _clock(ts: float) -> str:
    from sendoff.console.web import when_ms

    return when_ms(ts) + " UTC"


def parse_query(params: Any, *, now: float) -> tuple[Query, dict[str, str]]:
    state = params.get("state", "")
    within = params.get("within", "")
    text = params.get("q", "")[:200]
    states = (EventState(state),) if state in STATES else ()
    since = now - WITHIN_S[within] if within in WITHIN_S else None
    before = None
    raw = params.get("before", "")
    if ":" in raw:
        ts, _, event_id = raw.partition(":")
        try:
            before = (float(ts), event_id)
        except ValueError:
            before = None
    shown = {"state": state if states else "", "within": within if since else "", "q": text}
    return Query(states=states, since=since, text=text, before=before, limit=PAGE_SIZE), shown


class InvocationPages:
    def __init__(self, console: Console) -> None:
        self.console = console

    def routes(self) -> list[BaseRoute]:
        page = self.console.page
        return [
            Route("/functions/{name}/invocations", page(self.listing), methods=["GET"]),
            Route("/functions/{name}/invocations/redrive", page(self.redrive_matching),
                  methods=["POST"]),
            Route("/events/{id}", page(self.event), methods=["GET"]),
            Route("/events/{id}/redrive", page(self.redrive_one), methods=["POST"]),
        ]  # fmt: skip

    async def listing(self, request: Request) -> Response:
        c = self.console
        head = await function_head(c, request, "invocations")
        query, shown = parse_query(request.query_params, now=c.index.clock())
        result = c.index.query(c.function_key(head.name), query)
        older = None
        if result.more and result.rows:
            last = result.rows[-1]
            older = "?" + urlencode({**shown, "before": f"{last.enqueued_at!r}:{last.id}"})
        fragment = bool(request.headers.get("x-console-fragment"))
        return c.render(
            request, "_invocations_table.html" if fragment else "invocations.html",
            **head_context(head), result=result, shown=shown, states=STATES, within=WITHIN,
            older=older, paged=query.before is not None, filtered=any(shown.values()),
            retention=_retention(c),
        )  # fmt: skip

    async def redrive_matching(self, request: Request) -> Response:
        c = self.console
        head = await function_head(c, request, "invocations")
        form = await read_form(request)
        query, shown = parse_query(form.values, now=c.index.clock())
        failed = Query(states=(EventState.FAILED,), since=query.since, text=query.text)
        if query.states and query.states != (EventState.FAILED,):
            ids: list[str] = []
        else:
            ids = c.index.matching_ids(c.function_key(head.name), failed)
        pairs = await redrive_events(c.services.store, ids, now=c.index.clock())
        c.services.scheduler.wake()
        await c.index.refresh(new for _, new in pairs)
        back = f"{head.url}/invocations?" + urlencode({k: v for k, v in shown.items() if v})
        if not pairs:
            return redirect(back, "No failed events match this filter, so nothing was redriven.")
        return redirect(back, f"Redrove {len(pairs)} failed event(s); each runs again as a new"
                              " event (its request id is new).")  # fmt: skip

    async def event(self, request: Request) -> Response:
        c = self.console
        event = await c.services.store.get_event(request.path_params["id"])
        if event is None or not is_invoke(event.body):
            raise NotFound(f"There is no asynchronous event with request id"
                           f" {request.path_params['id']}.")  # fmt: skip
        c.index.upsert_event(event)
        job = InvokeJob.decode(event.body)
        outcome = job.outcome
        sent = outcome.deliveries or () if outcome else ()
        deliveries = [await self._delivery(item) for item in sent]
        name = job.function_name
        fragment = bool(request.headers.get("x-console-fragment"))
        return c.render(
            request, "_event_detail.html" if fragment else "event.html",
            event=event, qualifier=job.qualifier,
            attempts=len(job.attempts), condition=outcome.condition if outcome else None,
            steps=timeline(event, time_scale=c.services.settings.time_scale),
            record=pretty(outcome.record) if outcome and outcome.record else None,
            payload=pretty(job.payload), deliveries=deliveries,
            function=name, function_url=f"/console/functions/{quote(name, safe='')}",
            live=event.state not in TERMINAL_STATES or any(
                d.state not in ("succeeded", "failed") for d in deliveries),
            title=f"Event {event.id}", section="functions",
        )  # fmt: skip

    async def _delivery(self, item: RecordDelivery) -> Delivery:
        c = self.console
        target = describe_arn(item.target, account_id=c.account_id, region=c.region)
        if item.job_id is None:  # delivered at once, no job (Deliveries.send)
            result = item.result or {}
            return Delivery(
                kind=item.kind, target=target, job_id="", state=item.state or "",
                reference=_reference(result), request_id=result.get("request_id"),
                delivered_at=item.delivered_at,
            )  # fmt: skip
        stored = await c.services.store.get_event(item.job_id)
        if stored is None:
            return Delivery(kind=item.kind, target=target, job_id=item.job_id, state="unknown")
        job = DeliveryJob.decode(stored.body)
        result = job.result or {}
        return Delivery(
            kind=item.kind, target=target, job_id=stored.id, state=stored.state.value,
            failures=job.failures,
            reference=_reference(result), request_id=result.get("request_id"),
            delivered_at=job.delivered_at, error=job.error or "",
        )  # fmt: skip

    async def redrive_one(self, request: Request) -> Response:
        c = self.console
        event_id = request.path_params["id"]
        pairs = await redrive_events(c.services.store, [event_id], now=c.index.clock())
        if not pairs:
            return redirect(f"/console/events/{quote(event_id, safe='')}",
                            "Only failed events can be redriven.")  # fmt: skip
        c.services.scheduler.wake()
        new_id = pairs[0][1]
        await c.index.refresh([new_id])
        return redirect(f"/console/events/{quote(new_id, safe='')}",
                        f"Redriven: this is a new event re-running {event_id}.")  # fmt: skip


def _reference(result: dict[str, Any]) -> str:
    """What the receiving service called the delivery (a message id, an event id)."""
    if result.get("message_id"):
        return f"message {result['message_id']}"
    if result.get("event_id"):
        return f"event {result['event_id']}"
    return ""
