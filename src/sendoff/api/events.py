"""The EventBridge wire edge: JSON 1.1 over ``POST /`` with ``X-Amz-Target: AWSEvents.*``.

Each operation parses its request into typed values (shape checks answer AWS's
``N validation errors detected: ...`` messages), calls :class:`EventBusService`, and renders
the response. Domain errors become ``{"__type": code, "message": ...}`` in :func:`_error`,
the one place that happens. ``GET /_sendoff/buses`` shows buses, rules and each rule's
failed target deliveries (``FailedInvocations``), for the CLI and for people.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sendoff.api.context import CALLER_KEY, request_context
from sendoff.api.json11 import CONTENT_TYPE, read_object, wire_error
from sendoff.api.json_shapes import (
    TOO_DEEP,
)
from sendoff.api.json_shapes import Shape as BaseShape
from sendoff.model.json_types import JSON
from sendoff.model.scope import Scope
from sendoff.services.events.envelope import EntryInput
from sendoff.services.events.errors import EventsError, InternalFailure, ValidationFailed
from sendoff.services.events.model import (
    EventBus,
    InputTransformer,
    RetryPolicy,
    Rule,
    RuleState,
    Target,
    bus_arn,
    rule_arn,
)
from sendoff.services.events.service import EventBusService, RuleSpec

log = logging.getLogger("sendoff.api.events")

BUS_NAME: Final = r"[/\.\-_A-Za-z0-9]+"
BUS_NAME_OR_ARN: Final = (
    r"(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[/\.\-_A-Za-z0-9]+"
)
RULE_NAME: Final = r"[\.\-_A-Za-z0-9]+"

OPERATIONS: Final = (
    "CreateEventBus", "DescribeEventBus", "ListEventBuses", "DeleteEventBus", "PutRule",
    "DescribeRule", "ListRules", "DeleteRule", "EnableRule", "DisableRule", "PutTargets",
    "RemoveTargets", "ListTargetsByRule", "PutEvents", "TestEventPattern",
)  # fmt: skip

MIN_TIME_S: Final = -62_135_596_800  # 0001-01-01T00:00:00Z
MAX_TIME_S: Final = 253_402_300_799  # 9999-12-31T23:59:59Z

Operation = Callable[[Scope, JSON], Awaitable[JSON]]


class Shape(BaseShape):
    """Request members of an EventBridge operation (violations: ValidationException)."""

    invalid = ValidationFailed


# --------------------------------------------------------------------------- wire shapes


def _drop_none(values: JSON) -> JSON:
    return {k: v for k, v in values.items() if v is not None}


def bus_to_wire(scope: Scope, bus: EventBus) -> JSON:
    return _drop_none(
        {
            "Name": bus.name,
            "Arn": bus_arn(scope, bus.name),
            "Description": bus.description,
            "CreationTime": bus.created_at,
            "LastModifiedTime": bus.modified_at,
        }
    )


def rule_to_wire(scope: Scope, rule: Rule, *, describe: bool = False) -> JSON:
    return _drop_none(
        {
            "Name": rule.name,
            "Arn": rule_arn(scope, rule.bus, rule.name),
            "EventPattern": rule.event_pattern,
            "ScheduleExpression": rule.schedule_expression,
            "State": rule.state.value,
            "Description": rule.description,
            "RoleArn": rule.role_arn,
            "EventBusName": rule.bus,
            "CreatedBy": rule.created_by if describe else None,
        }
    )


def target_to_wire(target: Target) -> JSON:
    wire = _drop_none(
        {
            "Id": target.id,
            "Arn": target.arn,
            "RoleArn": target.role_arn,
            "Input": target.input,
            "InputPath": target.input_path,
        }
    )
    if target.input_transformer is not None:
        transformer: JSON = {"InputTemplate": target.input_transformer.template}
        if target.input_transformer.paths:
            transformer["InputPathsMap"] = dict(target.input_transformer.paths)
        wire["InputTransformer"] = transformer
    if target.sqs_message_group_id is not None:
        wire["SqsParameters"] = {"MessageGroupId": target.sqs_message_group_id}
    if target.dead_letter_arn is not None:
        wire["DeadLetterConfig"] = {"Arn": target.dead_letter_arn}
    if target.retry_policy is not None:
        wire["RetryPolicy"] = _drop_none(
            {
                "MaximumRetryAttempts": target.retry_policy.maximum_retry_attempts,
                "MaximumEventAgeInSeconds": target.retry_policy.maximum_event_age_s,
            }
        )
    return wire


def target_from_wire(shape: BaseShape) -> Target | None:
    target_id = shape.string("Id", required=True, min_len=1, max_len=64, pattern=RULE_NAME)
    arn = shape.string("Arn", required=True, min_len=1, max_len=1600)
    role = shape.string("RoleArn", min_len=1, max_len=1600)
    constant = shape.string("Input", max_len=8192)
    input_path = shape.string("InputPath", max_len=256)
    transformer = None
    if (spec := shape.struct("InputTransformer")) is not None:
        template = spec.string("InputTemplate", required=True, min_len=1, max_len=8192)
        paths = spec.body.get("InputPathsMap") or {}
        if not isinstance(paths, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in paths.items()
        ):
            spec._fail(paths, "InputPathsMap", "be a map of strings to strings")
            paths = {}
        transformer = InputTransformer(template=template or "", paths=paths)
    group_id = None
    if (sqs := shape.struct("SqsParameters")) is not None:
        group_id = sqs.string("MessageGroupId")
    dead_letter = None
    if (dlq := shape.struct("DeadLetterConfig")) is not None:
        dead_letter = dlq.string("Arn", min_len=1, max_len=1600)
    retry = None
    if (policy := shape.struct("RetryPolicy")) is not None:
        retry = RetryPolicy(
            maximum_retry_attempts=policy.integer("MaximumRetryAttempts", low=0, high=185),
            maximum_event_age_s=policy.integer("MaximumEventAgeInSeconds", low=60, high=86400),
        )
    if target_id is None or arn is None:
        return None
    return Target(
        id=target_id,
        arn=arn,
        role_arn=role,
        input=constant,
        input_path=input_path,
        input_transformer=transformer,
        sqs_message_group_id=group_id,
        dead_letter_arn=dead_letter,
        retry_policy=retry,
    )


def entry_from_wire(shape: BaseShape) -> EntryInput:
    time_value = shape.body.get("Time")
    time_s: float | None = None
    if isinstance(time_value, int | float) and not isinstance(time_value, bool):
        if MIN_TIME_S <= time_value <= MAX_TIME_S:
            time_s = float(time_value)
        else:  # a datetime cannot hold it (and AWS's envelope time is a 4-digit year)
            shape._fail(time_value, "Time", "be a timestamp between 0001-01-01 and 9999-12-31")
    elif time_value is not None:
        shape._fail(time_value, "Time", "be a timestamp")
    resources = [r for r in shape.items("Resources") if isinstance(r, str)]
    return EntryInput(
        source=shape.string("Source"),
        detail_type=shape.string("DetailType"),
        detail=shape.string("Detail"),
        resources=tuple(resources),
        time_s=time_s,
        bus=shape.string("EventBusName", min_len=1, max_len=1600),
        trace_header=shape.string("TraceHeader", min_len=1, max_len=500),
    )


# --------------------------------------------------------------------------- the edge


class EventsApi:
    def __init__(self, service: EventBusService, *, account_id: str, default_region: str) -> None:
        self.service = service
        self.account_id = account_id
        self.default_region = default_region
        self.operations: dict[str, Operation] = {
            name: getattr(self, re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower())
            for name in OPERATIONS
        }

    def routes(self) -> list[Route]:
        return [Route("/_sendoff/buses", self.overview, methods=["GET"])]

    async def endpoint(self, request: Request) -> Response:
        ctx = request_context(
            request, account_id=self.account_id, default_region=self.default_region
        )
        headers = {"x-amzn-RequestId": ctx.request_id}
        name = request.headers.get("x-amz-target", "").split(".", 1)[-1]
        operation = self.operations.get(name)
        if operation is None:
            return wire_error("UnknownOperationException", f"Unknown operation {name}", headers)
        read = await read_object(request, headers)
        if isinstance(read, Response):
            return read
        body, where = read
        if where is not None:
            return _error(ValidationFailed(_not_unicode(where)), headers)
        scope = Scope(account_id=ctx.account_id, region=ctx.region)
        trace = request.headers.get("x-amzn-trace-id")
        if trace and name == "PutEvents" and isinstance(body.get("Entries"), list):
            for entry in body["Entries"]:  # SDK calls from inside functions: keep the lineage
                if isinstance(entry, dict):
                    entry.setdefault("TraceHeader", trace[:500])
        try:
            result = await operation(scope, body)
        except EventsError as exc:
            return _error(exc, headers)
        except RecursionError:  # a member's JSON text nested deeper than Python parses
            return _error(ValidationFailed(TOO_DEEP), headers)
        except Exception:
            log.exception("unhandled error in AWSEvents.%s", name)
            return _error(InternalFailure("An internal error occurred."), headers)
        return Response(
            json.dumps(result, separators=(",", ":")).encode(),
            media_type=CONTENT_TYPE,
            headers=headers,
        )

    # ---- buses ----
    async def create_event_bus(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        name = shape.string("Name", required=True, min_len=1, max_len=256, pattern=BUS_NAME)
        description = shape.string("Description", max_len=512)
        shape.done()
        assert name is not None
        bus = await self.service.create_event_bus(scope, name, description=description)
        return _drop_none({"EventBusArn": bus_arn(scope, bus.name), "Description": description})

    async def describe_event_bus(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        name = shape.string("Name", min_len=1, max_len=1600, pattern=BUS_NAME_OR_ARN)
        shape.done()
        owner, bus = await self.service.describe_event_bus(scope, name)
        return bus_to_wire(owner, bus)

    async def list_event_buses(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        prefix = shape.string("NamePrefix", min_len=1, max_len=256, pattern=BUS_NAME)
        token = shape.string("NextToken", min_len=1, max_len=2048)
        limit = shape.integer("Limit", low=1, high=100)
        shape.done()
        page = await self.service.list_event_buses(
            scope, prefix=prefix or "", token=token, limit=limit
        )
        return _drop_none(
            {
                "EventBuses": [bus_to_wire(scope, b) for b in page.items],
                "NextToken": page.next_token,
            }
        )

    async def delete_event_bus(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        name = shape.string("Name", required=True, min_len=1, max_len=256, pattern=BUS_NAME)
        shape.done()
        assert name is not None
        await self.service.delete_event_bus(scope, name)
        return {}

    # ---- rules ----
    def _rule_ref(self, body: JSON, name_key: str = "Name") -> tuple[Shape, str, str | None]:
        shape = Shape(body)
        name = shape.string(name_key, required=True, min_len=1, max_len=64, pattern=RULE_NAME)
        bus = shape.string("EventBusName", min_len=1, max_len=1600, pattern=BUS_NAME_OR_ARN)
        return shape, name or "", bus

    async def put_rule(self, scope: Scope, body: JSON) -> JSON:
        shape, name, bus = self._rule_ref(body)
        pattern = shape.string("EventPattern", max_len=4096)
        schedule = shape.string("ScheduleExpression", max_len=256)
        state = shape.string("State", allowed=[s.value for s in RuleState])
        description = shape.string("Description", max_len=512)
        role = shape.string("RoleArn", min_len=1, max_len=1600)
        shape.done()
        spec = RuleSpec(
            name=name,
            bus=bus,
            event_pattern=pattern,
            schedule_expression=schedule,
            state=RuleState(state) if state else RuleState.ENABLED,
            description=description,
            role_arn=role,
        )
        owner, rule = await self.service.put_rule(scope, spec)
        return {"RuleArn": rule_arn(owner, rule.bus, rule.name)}

    async def describe_rule(self, scope: Scope, body: JSON) -> JSON:
        shape, name, bus = self._rule_ref(body)
        shape.done()
        owner, rule = await self.service.describe_rule(scope, name, bus)
        return rule_to_wire(owner, rule, describe=True)

    async def list_rules(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        prefix = shape.string("NamePrefix", min_len=1, max_len=64, pattern=RULE_NAME)
        bus = shape.string("EventBusName", min_len=1, max_len=1600, pattern=BUS_NAME_OR_ARN)
        token = shape.string("NextToken", min_len=1, max_len=2048)
        limit = shape.integer("Limit", low=1, high=100)
        shape.done()
        owner, page = await self.service.list_rules(
            scope, bus, prefix=prefix or "", token=token, limit=limit
        )
        return _drop_none(
            {"Rules": [rule_to_wire(owner, r) for r in page.items], "NextToken": page.next_token}
        )

    async def delete_rule(self, scope: Scope, body: JSON) -> JSON:
        shape, name, bus = self._rule_ref(body)
        force = body.get("Force") is True
        shape.done()
        await self.service.delete_rule(scope, name, bus, force=force)
        return {}

    async def enable_rule(self, scope: Scope, body: JSON) -> JSON:
        shape, name, bus = self._rule_ref(body)
        shape.done()
        await self.service.set_rule_state(scope, name, bus, RuleState.ENABLED)
        return {}

    async def disable_rule(self, scope: Scope, body: JSON) -> JSON:
        shape, name, bus = self._rule_ref(body)
        shape.done()
        await self.service.set_rule_state(scope, name, bus, RuleState.DISABLED)
        return {}

    # ---- targets ----
    async def put_targets(self, scope: Scope, body: JSON) -> JSON:
        shape, rule, bus = self._rule_ref(body, "Rule")
        targets: list[Target] = []
        for index, item in enumerate(shape.items("Targets", required=True, max_len=100), 1):
            member = shape.member("Targets", index, item)
            if member is not None and (target := target_from_wire(member)) is not None:
                targets.append(target)
        shape.done()
        failures = await self.service.put_targets(scope, rule, bus, targets)
        return {
            "FailedEntryCount": len(failures),
            "FailedEntries": [
                {
                    "TargetId": f.target_id,
                    "ErrorCode": f.error_code,
                    "ErrorMessage": f.error_message,
                }
                for f in failures
            ],
        }

    async def remove_targets(self, scope: Scope, body: JSON) -> JSON:
        shape, rule, bus = self._rule_ref(body, "Rule")
        ids = shape.items("Ids", required=True, max_len=100)
        shape.done()
        failures = await self.service.remove_targets(scope, rule, bus, [str(i) for i in ids])
        return {"FailedEntryCount": len(failures), "FailedEntries": []}

    async def list_targets_by_rule(self, scope: Scope, body: JSON) -> JSON:
        shape, rule, bus = self._rule_ref(body, "Rule")
        token = shape.string("NextToken", min_len=1, max_len=2048)
        limit = shape.integer("Limit", low=1, high=100)
        shape.done()
        page = await self.service.list_targets(scope, rule, bus, token=token, limit=limit)
        return _drop_none(
            {"Targets": [target_to_wire(t) for t in page.items], "NextToken": page.next_token}
        )

    # ---- events ----
    async def put_events(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        entries = []
        for index, item in enumerate(shape.items("Entries", required=True), 1):
            if (member := shape.member("Entries", index, item)) is not None:
                entries.append(entry_from_wire(member))
        shape.done()
        results = await self.service.put_events(scope, entries)
        return {
            "FailedEntryCount": sum(1 for r in results if r.error_code),
            "Entries": [
                {"EventId": r.event_id}
                if r.event_id
                else {"ErrorCode": r.error_code, "ErrorMessage": r.error_message}
                for r in results
            ],
        }

    async def test_event_pattern(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        pattern = shape.string("EventPattern", required=True, max_len=4096)
        event = shape.string("Event", required=True)
        shape.done()
        assert pattern is not None and event is not None
        return {"Result": self.service.test_event_pattern(pattern, event)}

    # ---- /_sendoff/buses ----
    async def overview(self, request: Request) -> Response:
        """Buses of one region with their rules and failed target deliveries."""
        caller = request.scope.get(CALLER_KEY)  # under --auth sigv4: only the caller's account
        scope = Scope(
            account_id=caller.account_id
            if caller is not None
            else request.query_params.get("account", self.account_id),
            region=request.query_params.get("region", self.default_region),
        )
        stats = await self.service.failures.stats(scope)
        buses = []
        for bus in (await self.service.list_event_buses(scope, limit=100_000)).items:
            rules = await self.service.repo.rules_of(scope, bus.name)
            buses.append(
                {
                    "name": bus.name,
                    "arn": bus_arn(scope, bus.name),
                    "rules": [_rule_overview(scope, r, stats) for r in rules],
                }
            )
        return JSONResponse({"account": scope.account_id, "region": scope.region, "buses": buses})


def _rule_overview(scope: Scope, rule: Rule, stats: dict[str, dict[str, Any]]) -> JSON:
    counted = stats.get(f"{rule.bus}:{rule.name}", {})
    return {
        "name": rule.name,
        "arn": rule_arn(scope, rule.bus, rule.name),
        "state": rule.state.value,
        "targets": [t.arn for t in rule.targets],
        "failed_invocations": counted.get("failed_invocations", 0),
        "recent_failures": counted.get("recent", []),
    }


def _not_unicode(where: str) -> str:
    return (
        f"1 validation error detected: Value at '{where}' failed to satisfy constraint:"
        " Member must contain only valid Unicode characters"
    )


def _error(error: EventsError, headers: dict[str, str]) -> Response:
    """The one place event-bus domain errors become JSON 1.1 wire errors."""
    status = 500 if error.status >= 500 else 400
    return wire_error(error.code, error.message, headers, status=status)
