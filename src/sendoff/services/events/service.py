"""The event-bus service: buses, rules, targets, and routing events to targets.

``put_events`` builds each event's envelope, matches it against the enabled rules of its
bus (``sendoff.services.events_pattern``) and, for every target of every matching rule,
submits one durable delivery job to the outbox before answering. The outbox then delivers
with retries and backoff; a job it gives up on is counted against its rule
(:mod:`sendoff.services.events.failures`).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, Generic, TypeVar

from sendoff import errors as sendoff_errors
from sendoff.delivery import Deliveries
from sendoff.model.clock import Clock, iso_seconds_z, system_clock
from sendoff.model.scope import Scope
from sendoff.services import events_pattern
from sendoff.services.events.envelope import (
    AcceptedEntry,
    EntryInput,
    EntryResult,
    build_event,
    check_entry,
    check_request,
    new_event_id,
)
from sendoff.services.events.errors import (
    InvalidEventPattern,
    LimitExceeded,
    ValidationFailed,
    bus_not_found,
    rule_not_found,
)
from sendoff.services.events.failures import SOURCE_KIND, DeliveryFailures
from sendoff.services.events.model import (
    DEFAULT_BUS,
    MAX_TARGETS_PER_RULE,
    EventBus,
    Rule,
    RuleState,
    Target,
    resolve_bus,
    rule_arn,
)
from sendoff.services.events.repository import EventsRepository, decode_token, encode_token
from sendoff.services.events.schedule import check_schedule_expression
from sendoff.services.events.targets import MAX_BUS_HOPS, check_target, delivery_for
from sendoff.services.events.transform import Delivered, compact, render_input
from sendoff.store import Store

log = logging.getLogger("sendoff.events")

T = TypeVar("T")
DEFAULT_PAGE: Final = 100
TEST_EVENT_FIELDS: Final = ("id", "account", "source", "time", "region", "detail-type")


@dataclass(frozen=True, kw_only=True)
class Page(Generic[T]):
    items: list[T]
    next_token: str | None = None


@dataclass(frozen=True, kw_only=True)
class RuleSpec:
    """What PutRule asks for (the stored rule replaces any previous one, targets kept)."""

    name: str
    bus: str | None = None  # name or ARN
    event_pattern: str | None = None
    schedule_expression: str | None = None
    state: RuleState = RuleState.ENABLED
    description: str | None = None
    role_arn: str | None = None


@dataclass(frozen=True, kw_only=True)
class TargetFailure:
    target_id: str
    error_code: str
    error_message: str


@functools.lru_cache(maxsize=1024)
def compile_pattern(text: str) -> events_pattern.EventPattern:
    try:
        return events_pattern.compile_pattern(text)
    except events_pattern.InvalidEventPattern as exc:
        raise InvalidEventPattern(str(exc)) from None


class EventBusService:
    def __init__(
        self, store: Store, deliveries: Deliveries, *, clock: Clock = system_clock
    ) -> None:
        self.repo = EventsRepository(store)
        self.deliveries = deliveries
        self.failures = DeliveryFailures(store, deliveries, clock=clock)
        self.clock = clock

    # ------------------------------------------------------------------ buses
    async def create_event_bus(
        self, scope: Scope, name: str, *, description: str | None = None
    ) -> EventBus:
        if "/" in name:
            raise ValidationFailed(
                f"Event bus name {name} is not valid: only partner event buses may contain '/'."
            )
        now = self.clock()
        bus = EventBus(name=name, description=description, created_at=now, modified_at=now)
        await self.repo.create_bus(scope, bus)
        return bus

    async def describe_event_bus(
        self, scope: Scope, name_or_arn: str | None
    ) -> tuple[Scope, EventBus]:
        owner, name = resolve_bus(scope, name_or_arn)
        return owner, await self.repo.require_bus(owner, name)

    async def list_event_buses(
        self, scope: Scope, *, prefix: str = "", token: str | None = None, limit: int | None = None
    ) -> Page[EventBus]:
        after = decode_token(token)
        buses = [
            b for b in await self.repo.list_buses(scope, prefix) if after is None or b.name > after
        ]
        return _page(buses, limit, key=lambda b: b.name)

    async def delete_event_bus(self, scope: Scope, name: str) -> None:
        if name == DEFAULT_BUS:
            raise ValidationFailed("Cannot delete event bus default.")
        if await self.repo.delete_bus(scope, name):
            await self.failures.forget(scope, name)

    # ------------------------------------------------------------------ rules
    async def put_rule(self, scope: Scope, spec: RuleSpec) -> tuple[Scope, Rule]:
        owner, bus = resolve_bus(scope, spec.bus)
        if spec.event_pattern is None and spec.schedule_expression is None:
            raise ValidationFailed(
                "Parameter(s) EventPattern or ScheduleExpression must be specified."
            )
        if spec.schedule_expression is not None:
            if bus != DEFAULT_BUS:
                raise ValidationFailed(
                    "ScheduleExpression is supported only on the default event bus."
                )
            check_schedule_expression(spec.schedule_expression)
        if spec.event_pattern is not None:
            compile_pattern(spec.event_pattern)
        await self.repo.require_bus(owner, bus)
        fresh = Rule(
            name=spec.name,
            bus=bus,
            state=spec.state,
            event_pattern=spec.event_pattern,
            schedule_expression=spec.schedule_expression,
            description=spec.description,
            role_arn=spec.role_arn,
            created_by=owner.account_id,
        )

        def change(current: Rule | None) -> Rule:
            return fresh if current is None else replace(fresh, targets=current.targets)

        stored = await self.repo.update_rule(owner, bus, spec.name, change)
        assert stored is not None
        return owner, stored

    async def describe_rule(self, scope: Scope, name: str, bus: str | None) -> tuple[Scope, Rule]:
        owner, bus_name = resolve_bus(scope, bus)
        return owner, await self.repo.require_rule(owner, bus_name, name)

    async def list_rules(
        self,
        scope: Scope,
        bus: str | None,
        *,
        prefix: str = "",
        token: str | None = None,
        limit: int | None = None,
    ) -> tuple[Scope, Page[Rule]]:
        owner, bus_name = resolve_bus(scope, bus)
        await self.repo.require_bus(owner, bus_name)
        size = limit or DEFAULT_PAGE
        rules = await self.repo.list_rules(
            owner, bus_name, prefix=prefix, after=decode_token(token), limit=size + 1
        )
        return owner, _page(rules, size, key=lambda r: r.name)

    async def delete_rule(
        self, scope: Scope, name: str, bus: str | None, *, force: bool = False
    ) -> None:
        owner, bus_name = resolve_bus(scope, bus)

        async def check(rule: Rule) -> None:
            if rule.targets and not force:
                raise ValidationFailed("Rule can't be deleted since it has targets.")

        if await self.repo.delete_rule(owner, bus_name, name, check):
            await self.failures.forget(owner, bus_name, name)

    async def set_rule_state(
        self, scope: Scope, name: str, bus: str | None, state: RuleState
    ) -> None:
        owner, bus_name = resolve_bus(scope, bus)

        def change(current: Rule | None) -> Rule | None:
            if current is None:
                raise rule_not_found(name, bus_name)
            return None if current.state is state else replace(current, state=state)

        await self.repo.require_bus(owner, bus_name)
        await self.repo.update_rule(owner, bus_name, name, change)

    # ------------------------------------------------------------------ targets
    async def put_targets(
        self, scope: Scope, rule: str, bus: str | None, targets: Sequence[Target]
    ) -> list[TargetFailure]:
        owner, bus_name = resolve_bus(scope, bus)
        failures: list[TargetFailure] = []
        accepted: list[Target] = []
        for target in targets:
            problem = check_target(target)
            if problem is None:
                accepted.append(target)
            else:
                failures.append(
                    TargetFailure(
                        target_id=target.id, error_code="ValidationException", error_message=problem
                    )
                )

        def change(current: Rule | None) -> Rule | None:
            if current is None:
                raise rule_not_found(rule, bus_name)
            merged = {t.id: t for t in current.targets}
            for target in accepted:
                merged[target.id] = target
            if len(merged) > MAX_TARGETS_PER_RULE:
                raise LimitExceeded("The requested resource exceeds the maximum number allowed.")
            return replace(current, targets=tuple(merged.values())) if accepted else None

        await self.repo.require_bus(owner, bus_name)
        await self.repo.update_rule(owner, bus_name, rule, change)
        return failures

    async def remove_targets(
        self, scope: Scope, rule: str, bus: str | None, ids: Sequence[str]
    ) -> list[TargetFailure]:
        owner, bus_name = resolve_bus(scope, bus)
        removing = set(ids)

        def change(current: Rule | None) -> Rule | None:
            if current is None:
                raise rule_not_found(rule, bus_name)
            kept = tuple(t for t in current.targets if t.id not in removing)
            return None if len(kept) == len(current.targets) else replace(current, targets=kept)

        await self.repo.require_bus(owner, bus_name)
        await self.repo.update_rule(owner, bus_name, rule, change)
        return []

    async def list_targets(
        self,
        scope: Scope,
        rule: str,
        bus: str | None,
        *,
        token: str | None = None,
        limit: int | None = None,
    ) -> Page[Target]:
        owner, bus_name = resolve_bus(scope, bus)
        stored = await self.repo.require_rule(owner, bus_name, rule)
        after = decode_token(token)
        targets = list(stored.targets)
        if after is not None:
            ids = [t.id for t in targets]
            targets = targets[ids.index(after) + 1 :] if after in ids else []
        return _page(targets, limit, key=lambda t: t.id)

    # ------------------------------------------------------------------ events
    async def put_events(self, scope: Scope, entries: Sequence[EntryInput]) -> list[EntryResult]:
        """Accept up to 10 events; each answer is an EventId or a per-entry error."""
        check_request(entries)
        routes = _RouteCache(self.repo)
        results: list[EntryResult] = []
        for entry in entries:
            checked = check_entry(entry)
            if isinstance(checked, EntryResult):
                results.append(checked)
                continue
            try:
                results.append(EntryResult(event_id=await self._accept(scope, checked, routes)))
            except sendoff_errors.StoreError as exc:
                log.exception("could not route an event")
                results.append(EntryResult(error_code="InternalFailure", error_message=str(exc)))
        return results

    async def _accept(self, scope: Scope, accepted: AcceptedEntry, routes: _RouteCache) -> str:
        entry = accepted.entry
        owner, bus = resolve_bus(scope, entry.bus)
        event = build_event(
            event_id=new_event_id(),
            scope=owner,
            source=entry.source or "",
            detail_type=entry.detail_type or "",
            detail=accepted.detail,
            resources=entry.resources,
            time_s=entry.time_s if entry.time_s is not None else self.clock(),
        )
        rules = await routes.rules(owner, bus)
        if rules is None:
            log.info("event %s put on missing bus %s: accepted and dropped", event["id"], bus)
        else:
            await self._route(owner, bus, rules, event, trace_header=entry.trace_header, hops=0)
        return str(event["id"])

    async def put_event_on_bus(
        self,
        bus_arn: str,
        *,
        source: str,
        detail_type: str,
        detail: dict[str, Any] | str,
        resources: Sequence[str] = (),
        time: str | float | None = None,
        hops: int = 0,
        trace_header: str | None = None,
    ) -> str:
        """Put one event on a bus given by ARN (bus targets, Lambda destinations)."""
        if hops > MAX_BUS_HOPS:
            raise ValidationFailed(
                f"Event not forwarded to {bus_arn}: it already crossed {MAX_BUS_HOPS} event buses"
                " (a routing loop?)."
            )
        if isinstance(detail, str):
            try:
                detail = json.loads(detail)
            except (ValueError, RecursionError):
                raise ValidationFailed("Detail is malformed.") from None
            if not isinstance(detail, dict):
                raise ValidationFailed("Detail is malformed.")
        owner, bus = resolve_bus(Scope(account_id="", region=""), bus_arn)
        if not owner.account_id or not owner.region or bus_arn == bus:
            raise ValidationFailed(f"{bus_arn} is not an event bus ARN.")
        rules = await _RouteCache(self.repo).rules(owner, bus)
        if rules is None:
            raise bus_not_found(bus)
        event = build_event(
            event_id=new_event_id(),
            scope=owner,
            source=source,
            detail_type=detail_type,
            detail=detail,
            resources=resources,
            time_s=_epoch(time) if time is not None else self.clock(),
        )
        await self._route(owner, bus, rules, event, trace_header=trace_header, hops=hops)
        return str(event["id"])

    async def _route(
        self,
        owner: Scope,
        bus: str,
        rules: list[Rule],
        event: dict[str, Any],
        *,
        trace_header: str | None,
        hops: int,
    ) -> None:
        ingestion_time = iso_seconds_z(self.clock())
        for rule in rules:
            if not rule.matches_events or not rule.targets:
                continue
            assert rule.event_pattern is not None
            try:
                pattern = compile_pattern(rule.event_pattern)
            except InvalidEventPattern:
                log.warning("rule %s has a pattern that no longer compiles", rule.name)
                continue
            if not pattern.matches(event):
                continue
            arn = rule_arn(owner, bus, rule.name)
            delivered = Delivered(
                event=event, rule_arn=arn, rule_name=rule.name, ingestion_time=ingestion_time
            )
            for target in rule.targets:
                text = render_input(target, delivered)
                if text is None:  # as AWS: an input template that renders to invalid JSON
                    log.warning(
                        "rule %s target %s: the input template does not render to JSON for"
                        " event %s; nothing delivered",
                        rule.name,
                        target.id,
                        event["id"],
                    )
                    continue
                job = delivery_for(
                    target,
                    text=text,
                    event=event,
                    trace_header=trace_header,
                    hops=hops,
                )
                source: dict[str, Any] = {
                    "kind": SOURCE_KIND,
                    "account_id": owner.account_id,
                    "region": owner.region,
                    "bus": bus,
                    "rule": rule.name,
                    "rule_arn": arn,
                    "target_id": target.id,
                    "event_id": event["id"],
                }
                if target.dead_letter_arn:
                    source["dead_letter_arn"] = target.dead_letter_arn
                    source["event"] = compact(event)
                await self.deliveries.submit(
                    scheme=job.scheme,
                    target=job.target,
                    payload=job.payload,
                    scope_key=owner.key,
                    source=source,
                )

    # ------------------------------------------------------------------ patterns
    def test_event_pattern(self, pattern: str, event_text: str) -> bool:
        compiled = compile_pattern(pattern)
        try:
            event = json.loads(event_text)
        except (ValueError, RecursionError):
            raise ValidationFailed("Parameter Event is not valid.") from None
        if not isinstance(event, dict) or any(f not in event for f in TEST_EVENT_FIELDS):
            raise ValidationFailed("Parameter Event is not valid.")
        return compiled.matches(event)


class _RouteCache:
    """Rules per bus, loaded once per request (None: the bus does not exist)."""

    def __init__(self, repo: EventsRepository) -> None:
        self.repo = repo
        self._rules: dict[tuple[str, str], list[Rule] | None] = {}

    async def rules(self, owner: Scope, bus: str) -> list[Rule] | None:
        key = (owner.key, bus)
        if key not in self._rules:
            exists = await self.repo.get_bus(owner, bus) is not None
            self._rules[key] = await self.repo.rules_of(owner, bus) if exists else None
        return self._rules[key]


def _page(items: list[T], limit: int | None, *, key: Any) -> Page[T]:
    size = limit or DEFAULT_PAGE
    if len(items) <= size:
        return Page(items=items)
    kept = items[:size]
    return Page(items=kept, next_token=encode_token(str(key(kept[-1]))))


def _epoch(time: str | float) -> float:
    if isinstance(time, int | float):
        return float(time)
    try:
        return datetime.fromisoformat(time.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ValidationFailed(f"Time {time!r} is not a timestamp.") from None
