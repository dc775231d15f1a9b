"""Event buses, rules and targets as frozen records, their ARNs, and their stored form.

Everything lives in one account/region :class:`Scope`. The ``default`` bus exists implicitly
in every scope; custom buses, rules (with their targets inside) are store documents:

* ``events-bus``  ``{account}/{region}/{bus}``          -> :func:`bus_to_doc`
* ``events-rule`` ``{account}/{region}/{bus}:{rule}``   -> :func:`rule_to_doc`

Bus names may contain ``/`` (partner buses) but never ``:``, so ``bus:`` is a safe prefix
for the rules of one bus.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sendoff.model.arn import parse_arn
from sendoff.model.json_types import JSON
from sendoff.model.scope import Scope

DEFAULT_BUS = "default"
MAX_TARGETS_PER_RULE = 5


class RuleState(enum.StrEnum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"
    ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"


MATCHING_STATES = frozenset(
    {RuleState.ENABLED, RuleState.ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS}
)


@dataclass(frozen=True, kw_only=True)
class EventBus:
    name: str
    description: str | None = None
    created_at: float | None = None  # None for the implicit default bus
    modified_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class InputTransformer:
    template: str
    paths: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    maximum_retry_attempts: int | None = None
    maximum_event_age_s: int | None = None


@dataclass(frozen=True, kw_only=True)
class Target:
    id: str
    arn: str
    role_arn: str | None = None
    input: str | None = None
    input_path: str | None = None
    input_transformer: InputTransformer | None = None
    sqs_message_group_id: str | None = None
    dead_letter_arn: str | None = None
    retry_policy: RetryPolicy | None = None


@dataclass(frozen=True, kw_only=True)
class Rule:
    name: str
    bus: str
    state: RuleState = RuleState.ENABLED
    event_pattern: str | None = None
    schedule_expression: str | None = None
    description: str | None = None
    role_arn: str | None = None
    created_by: str = ""
    targets: tuple[Target, ...] = ()

    @property
    def matches_events(self) -> bool:
        return self.state in MATCHING_STATES and self.event_pattern is not None


# --------------------------------------------------------------------------- ARNs


def bus_arn(scope: Scope, name: str) -> str:
    return scope.service_arn("events", f"event-bus/{name}")


def rule_arn(scope: Scope, bus: str, name: str) -> str:
    path = name if bus == DEFAULT_BUS else f"{bus}/{name}"
    return scope.service_arn("events", f"rule/{path}")


def resolve_bus(scope: Scope, name_or_arn: str | None) -> tuple[Scope, str]:
    """The scope and name a caller's ``EventBusName`` (a name or a bus ARN) refers to."""
    if not name_or_arn:
        return scope, DEFAULT_BUS
    if name_or_arn.startswith("arn:"):
        arn = parse_arn(name_or_arn)
        if arn is not None and arn.service == "events" and arn.resource.startswith("event-bus/"):
            owner = Scope(account_id=arn.account_id or scope.account_id,
                          region=arn.region or scope.region)  # fmt: skip
            return owner, arn.resource.removeprefix("event-bus/")
    return scope, name_or_arn


def bus_key(scope: Scope, name: str) -> str:
    return f"{scope.key}/{name}"


def rule_key(scope: Scope, bus: str, name: str) -> str:
    return f"{scope.key}/{bus}:{name}"


# --------------------------------------------------------------------------- stored form


def bus_to_doc(bus: EventBus) -> JSON:
    return {
        "name": bus.name,
        "description": bus.description,
        "created_at": bus.created_at,
        "modified_at": bus.modified_at,
    }


def bus_from_doc(doc: Mapping[str, Any]) -> EventBus:
    return EventBus(
        name=doc["name"],
        description=doc.get("description"),
        created_at=doc.get("created_at"),
        modified_at=doc.get("modified_at"),
    )


def target_to_doc(target: Target) -> JSON:
    doc: JSON = {"id": target.id, "arn": target.arn}
    for key, value in (
        ("role_arn", target.role_arn),
        ("input", target.input),
        ("input_path", target.input_path),
        ("sqs_message_group_id", target.sqs_message_group_id),
        ("dead_letter_arn", target.dead_letter_arn),
    ):
        if value is not None:
            doc[key] = value
    if target.input_transformer is not None:
        doc["input_transformer"] = {
            "template": target.input_transformer.template,
            "paths": dict(target.input_transformer.paths),
        }
    if target.retry_policy is not None:
        doc["retry_policy"] = {
            "maximum_retry_attempts": target.retry_policy.maximum_retry_attempts,
            "maximum_event_age_s": target.retry_policy.maximum_event_age_s,
        }
    return doc


def target_from_doc(doc: Mapping[str, Any]) -> Target:
    transformer = doc.get("input_transformer")
    retry = doc.get("retry_policy")
    return Target(
        id=doc["id"],
        arn=doc["arn"],
        role_arn=doc.get("role_arn"),
        input=doc.get("input"),
        input_path=doc.get("input_path"),
        input_transformer=InputTransformer(
            template=transformer["template"], paths=dict(transformer.get("paths") or {})
        )
        if transformer
        else None,
        sqs_message_group_id=doc.get("sqs_message_group_id"),
        dead_letter_arn=doc.get("dead_letter_arn"),
        retry_policy=RetryPolicy(
            maximum_retry_attempts=retry.get("maximum_retry_attempts"),
            maximum_event_age_s=retry.get("maximum_event_age_s"),
        )
        if retry
        else None,
    )


def rule_to_doc(rule: Rule) -> JSON:
    return {
        "name": rule.name,
        "bus": rule.bus,
        "state": rule.state.value,
        "event_pattern": rule.event_pattern,
        "schedule_expression": rule.schedule_expression,
        "description": rule.description,
        "role_arn": rule.role_arn,
        "created_by": rule.created_by,
        "targets": [target_to_doc(t) for t in rule.targets],
    }


def rule_from_doc(doc: Mapping[str, Any]) -> Rule:
    return Rule(
        name=doc["name"],
        bus=doc["bus"],
        state=RuleState(doc.get("state", RuleState.ENABLED.value)),
        event_pattern=doc.get("event_pattern"),
        schedule_expression=doc.get("schedule_expression"),
        description=doc.get("description"),
        role_arn=doc.get("role_arn"),
        created_by=doc.get("created_by", ""),
        targets=tuple(target_from_doc(t) for t in doc.get("targets") or ()),
    )
