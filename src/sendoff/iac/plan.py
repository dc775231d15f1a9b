"""Everything decided before anything is touched: the plan of a deployment (pure).

``prepare`` takes a processed template (after the SAM transform and code packaging), the
parameter overrides and the stack's previous deployment, and either raises (TemplateError
listing every problem with its place, UnsupportedError naming the unsupported types) or
returns a ``Plan``: parameter values, conditions, the resources to deploy in dependency
order, and the change set against the previous deployment. Each change says whether the
resource is added, modified (in place, or replaced when a create-only property changes;
``Conditional`` when that depends on values only known during deployment) or removed.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sendoff.iac.errors import Problem, TemplateError, UnsupportedError
from sendoff.iac.graph import Graph, build_graph
from sendoff.iac.intrinsics import (
    Context,
    IntrinsicError,
    Unknown,
    evaluate_conditions,
    resolve,
)
from sendoff.iac.parameters import Parameters, resolve_parameters
from sendoff.iac.resources import RESOURCE_TYPES, ResourceType
from sendoff.iac.resources.base import check_properties
from sendoff.iac.state import EMPTY_STATES, ResourceState, Stack
from sendoff.iac.template import Template, check_structure
from sendoff.model.json_types import JSON

_ARN = re.compile(r"^arn:aws[\w-]*:(?:sqs|sns|lambda|events):([a-z0-9-]*):(\d{12})?:")


class Action(enum.StrEnum):
    ADD = "Add"
    MODIFY = "Modify"
    REMOVE = "Remove"
    NONE = "None"


@dataclass(frozen=True, kw_only=True)
class Change:
    logical_id: str
    type: str
    action: Action
    replacement: str = ""  # "True", "False", "Conditional" for a Modify
    properties: tuple[str, ...] = ()  # what changed


@dataclass(frozen=True, kw_only=True)
class Plan:
    stack_name: str
    region: str
    account_id: str
    template: Template  # as submitted (for lines and for the record)
    processed: JSON  # after transforms and packaging: what is applied
    parameters: Parameters
    context: Context
    resources: Mapping[str, JSON]  # the resources to deploy (conditions true, supported)
    graph: Graph
    changes: tuple[Change, ...]
    previous: Stack | None = None
    skipped: Mapping[str, str] = field(default_factory=dict)  # logical id -> type
    warnings: tuple[str, ...] = ()

    @property
    def has_changes(self) -> bool:
        return any(c.action is not Action.NONE for c in self.changes)


class TypedLookup:
    """Resources before deployment: values ``Unknown`` (or, for resources the deployment
    keeps as they are, their current values), attribute names checked against the type."""

    def __init__(
        self,
        resources: Mapping[str, JSON],
        types: Mapping[str, ResourceType],
        known: Mapping[str, ResourceState] | None = None,
    ) -> None:
        self.resources = resources
        self.types = types
        self.known = known if known is not None else {}

    def has(self, name: str) -> bool:
        return name in self.resources

    def ref(self, name: str) -> Any:
        return self.known[name].ref if name in self.known else Unknown(name)

    def get_att(self, name: str, attribute: str) -> Any:
        type_name = self.resources[name].get("Type", "")
        rtype = self.types.get(type_name)
        if rtype is not None and attribute not in rtype.attributes:
            have = ", ".join(sorted(rtype.attributes)) or "none"
            raise LookupError(
                f"{name} ({type_name}) has no attribute {attribute!r} (it has: {have})"
            )
        if name in self.known and attribute in self.known[name].attributes:
            return self.known[name].attributes[attribute]
        return Unknown(f"{name}.{attribute}")


def prepare(
    template: Template,
    processed: JSON,
    *,
    stack_name: str,
    region: str,
    account_id: str,
    overrides: Mapping[str, str] | None = None,
    previous: Stack | None = None,
    exports: Mapping[str, str] | None = None,
    skip_unsupported: bool = False,
    types: Mapping[str, ResourceType] = RESOURCE_TYPES,
    previous_parameters: bool = True,
    stack_id: str = "",
) -> Plan:
    """The plan of a deployment. A parameter not overridden keeps its previous value when
    ``previous_parameters`` (``sendoff deploy``), else takes its Default (the API's
    UpdateStack, where ``UsePreviousValue`` asks for the previous one)."""
    body = template.with_body(processed)
    problems = check_structure(body)
    if problems:
        raise template.located(problems)
    prior = previous if previous is not None and previous.status not in EMPTY_STATES else None
    try:
        parameters = resolve_parameters(
            body.parameters,
            overrides or {},
            prior.parameters if prior and previous_parameters else None,
        )
    except TemplateError as exc:
        raise template.located(exc.problems) from None
    ctx = Context(
        account_id=account_id,
        region=region,
        stack_name=stack_name,
        stack_id=stack_id or (prior.id if prior is not None else ""),
        parameters=parameters.values,
        unavailable=parameters.unavailable,
        mappings=body.mappings,
        exports=exports or {},
    )
    try:
        conditions = evaluate_conditions(body.conditions, ctx)
    except IntrinsicError as exc:
        raise template.located([exc.problem]) from None
    ctx = replace(ctx, conditions=conditions)
    warnings: list[str] = []
    if "Rules" in processed:
        warnings.append("the template's Rules are not evaluated by sendoff")
    absent: dict[str, str] = {}
    unsupported: dict[str, list[str]] = {}
    resources: dict[str, JSON] = {}
    for logical_id, resource in body.resources.items():
        condition = resource.get("Condition")
        if condition is not None and not conditions.get(condition, False):
            absent[logical_id] = f"its condition {condition} is false"
        elif resource["Type"] not in types:
            unsupported.setdefault(resource["Type"], []).append(logical_id)
            absent[logical_id] = f"it is skipped ({resource['Type']} is not supported)"
        else:
            resources[logical_id] = resource
    if unsupported and not skip_unsupported:
        raise UnsupportedError(unsupported)
    skipped = {lid: t for t, ids in unsupported.items() for lid in ids}
    for type_name, ids in sorted(unsupported.items()):
        warnings.append(f"skipped {type_name} (not supported): {', '.join(ids)}")
    try:
        graph = build_graph(resources, parameters=frozenset(body.parameters), conditions=conditions)
    except TemplateError as exc:
        raise template.located([_explain(p, absent) for p in exc.problems]) from None
    problems, more = _check_resources(resources, types, ctx)
    warnings += more + foreign_arns(resources, account_id=account_id, region=region)
    problems += _check_outputs(body, resources, types, ctx, conditions)
    if problems:
        raise template.located([_explain(p, absent) for p in problems])
    changes = plan_changes(resources, graph, types, ctx, prior)
    return Plan(
        stack_name=stack_name,
        region=region,
        account_id=account_id,
        template=template,
        processed=processed,
        parameters=parameters,
        context=ctx,
        resources=resources,
        graph=graph,
        changes=changes,
        previous=previous,
        skipped=skipped,
        warnings=tuple(warnings),
    )


def foreign_arns(resources: Mapping[str, JSON], *, account_id: str, region: str) -> list[str]:
    """Warnings for literal ARNs naming another account or region than the server's."""
    notes = []
    for logical_id, resource in resources.items():
        for text in _strings(resource.get("Properties") or {}):
            match = _ARN.match(text)
            if match is None:
                continue
            arn_region, arn_account = match.group(1), match.group(2)
            if arn_account and arn_account != account_id:
                notes.append(
                    f"Resources.{logical_id}: {text} names account {arn_account}, but "
                    f"the server's is {account_id} (start it with --account-id "
                    f"{arn_account}, or build the ARN with ${{AWS::AccountId}})"
                )
            elif arn_region and arn_region != region:
                notes.append(
                    f"Resources.{logical_id}: {text} names region {arn_region}; this "
                    f"stack deploys to {region}"
                )
    return notes


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _explain(problem: Problem, absent: Mapping[str, str]) -> Problem:
    for name, why in absent.items():
        if f"reference {name!r}" in problem.message or f"resource {name!r}" in problem.message:
            return Problem(
                path=problem.path,
                message=f"refers to {name}, which is not deployed: {why}",
                line=problem.line,
            )
    return problem


def _check_resources(
    resources: Mapping[str, JSON], types: Mapping[str, ResourceType], ctx: Context
) -> tuple[list[Problem], list[str]]:
    problems: list[Problem] = []
    warnings: list[str] = []
    static = ctx.with_resources(TypedLookup(resources, types))
    for logical_id, resource in resources.items():
        path = ("Resources", logical_id, "Properties")
        try:
            props = resolve(resource.get("Properties") or {}, static, path)
        except IntrinsicError as exc:
            problems.append(exc.problem)
            continue
        _, found, notes = check_properties(types[resource["Type"]], props, path)
        problems += found
        warnings += notes
    return problems, warnings


def _check_outputs(
    body: Template,
    resources: Mapping[str, JSON],
    types: Mapping[str, ResourceType],
    ctx: Context,
    conditions: Mapping[str, bool],
) -> list[Problem]:
    problems: list[Problem] = []
    static = ctx.with_resources(TypedLookup(resources, types))
    for name, output in body.outputs.items():
        condition = output.get("Condition")
        if condition is not None and not conditions.get(condition, False):
            continue
        try:
            resolve(output.get("Value"), static, ("Outputs", name, "Value"))
            resolve((output.get("Export") or {}).get("Name"), static, ("Outputs", name, "Export"))
        except IntrinsicError as exc:
            problems.append(exc.problem)
    return problems


def plan_changes(
    resources: Mapping[str, JSON],
    graph: Graph,
    types: Mapping[str, ResourceType],
    ctx: Context,
    previous: Stack | None,
) -> tuple[Change, ...]:
    """The change set: each resource's action, comparing with what was applied before."""
    old = dict(previous.resources) if previous else {}
    stable: dict[str, ResourceState] = {}  # kept, or updated in place: their values hold
    changes: list[Change] = []
    lookup = TypedLookup(resources, types, stable)
    for logical_id in graph.order:
        resource = resources[logical_id]
        type_name = resource["Type"]
        before = old.get(logical_id)
        if before is None or before.type != type_name:
            replacement = "" if before is None else "True"
            action = Action.ADD if before is None else Action.MODIFY
            changes.append(
                Change(
                    logical_id=logical_id, type=type_name, action=action, replacement=replacement
                )
            )
            continue
        rtype = types[type_name]
        path = ("Resources", logical_id, "Properties")
        props = resolve(resource.get("Properties") or {}, ctx.with_resources(lookup), path)
        props, _, _ = check_properties(rtype, props, path)
        differ = sorted(
            k
            for k in set(props) | set(before.properties)
            if props.get(k) != before.properties.get(k)
        )
        if not differ:
            stable[logical_id] = before
            changes.append(Change(logical_id=logical_id, type=type_name, action=Action.NONE))
            continue
        create_only = [k for k in differ if k in rtype.schema and rtype.schema[k].create_only]
        certain = [k for k in create_only if not _has_unknown(props.get(k))]
        replacement = "True" if certain else "Conditional" if create_only else "False"
        if replacement == "False":
            stable[logical_id] = before
        changes.append(
            Change(
                logical_id=logical_id,
                type=type_name,
                action=Action.MODIFY,
                replacement=replacement,
                properties=tuple(differ),
            )
        )
    for logical_id, before in old.items():
        if logical_id not in resources:
            changes.append(Change(logical_id=logical_id, type=before.type, action=Action.REMOVE))
    return tuple(changes)


def _has_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    return False
