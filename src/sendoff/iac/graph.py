"""The order resources are created in: dependencies from references and DependsOn.

A resource depends on every resource it names through ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``
and ``DependsOn``. sendoff also orders by *literal* names: a property holding the name or
ARN of a resource declared with that literal name in the same template (the announcement's
``FunctionName: "YourLambdaFunctionWithEventInvokeConfig"``) comes after it. Such implied
edges never create a cycle; a cycle of explicit references is an error that names it.
Creation follows the dependency order, ties in template order; deletion is the reverse.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sendoff.iac.errors import Problem, TemplateError
from sendoff.iac.intrinsics import PSEUDO_PARAMETERS, references
from sendoff.iac.template import depends_on
from sendoff.model.arn import parse_arn
from sendoff.model.json_types import JSON

# resource type -> (name property, ARN service, prefix of the name in the ARN's resource part)
NAMED_TYPES: dict[str, tuple[str, str, str]] = {
    "AWS::Lambda::Function": ("FunctionName", "lambda", "function:"),
    "AWS::SQS::Queue": ("QueueName", "sqs", ""),
    "AWS::SNS::Topic": ("TopicName", "sns", ""),
    "AWS::Events::EventBus": ("Name", "events", "event-bus/"),
}
# property keys whose bare value is the name of a resource of a service
NAME_KEYS = {"FunctionName": "lambda", "QueueName": "sqs", "TopicName": "sns",
             "EventBusName": "events"}  # fmt: skip


@dataclass(frozen=True)
class Graph:
    order: tuple[str, ...]
    dependencies: Mapping[str, frozenset[str]]

    def deletion_order(self) -> tuple[str, ...]:
        return tuple(reversed(self.order))


def arn_name(arn: str) -> tuple[str, str] | None:
    """``(service, name)`` of an ARN of a Lambda function, queue, topic or event bus."""
    parsed = parse_arn(arn)
    if parsed is None:
        return None
    service, resource = parsed.service, parsed.resource
    if service == "lambda" and resource.startswith("function:"):
        return service, resource.split(":")[1]
    if service == "events" and resource.startswith("event-bus/"):
        return service, resource.split("/", 1)[1]
    if service in ("sqs", "sns"):
        return service, resource.split(":")[0]
    return None


def _strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)


def implied_dependencies(resources: Mapping[str, JSON]) -> dict[str, set[str]]:
    """Edges from properties holding the literal name or ARN of a resource in the template."""
    declared: dict[tuple[str, str], str] = {}
    for logical_id, resource in resources.items():
        named = NAMED_TYPES.get(resource.get("Type", ""))
        props = resource.get("Properties") or {}
        if named and isinstance(props.get(named[0]), str):
            declared[(named[1], props[named[0]])] = logical_id
    edges: dict[str, set[str]] = {}
    if not declared:
        return edges
    for logical_id, resource in resources.items():
        for key, text in _strings(resource.get("Properties") or {}):
            target = arn_name(text) if text.startswith("arn:") else None
            if target is None and key in NAME_KEYS:
                target = (NAME_KEYS[key], text)
            other = declared.get(target) if target else None
            if other is not None and other != logical_id:
                edges.setdefault(logical_id, set()).add(other)
    return edges


def build_graph(
    resources: Mapping[str, JSON],
    *,
    parameters: frozenset[str] = frozenset(),
    conditions: Mapping[str, bool] | None = None,
) -> Graph:
    """Dependencies and creation order; TemplateError for unknown names and cycles."""
    problems: list[Problem] = []
    deps: dict[str, set[str]] = {name: set() for name in resources}
    non_resources = parameters | PSEUDO_PARAMETERS
    for name, resource in resources.items():
        for target in depends_on(resource):
            if target not in resources:
                message = f"depends on unknown resource {target!r}"
                problems.append(Problem(path=("Resources", name, "DependsOn"), message=message))
            else:
                deps[name].add(target)
        props = resource.get("Properties") or {}
        for key, value in props.items() if isinstance(props, dict) else ():
            for target in sorted(references(value, conditions)):
                if target in resources:
                    deps[name].add(target)
                elif target not in non_resources:
                    message = f"unresolved reference {target!r}: no such parameter or resource"
                    where = ("Resources", name, "Properties", key)
                    problems.append(Problem(path=where, message=message))
    if problems:
        raise TemplateError(problems)
    cycle = find_cycle(deps)
    if cycle:
        message = "circular dependency between resources: " + " -> ".join(cycle)
        raise TemplateError([Problem(path=("Resources", cycle[0]), message=message)])
    for name, targets in implied_dependencies(resources).items():
        for target in sorted(targets):
            if not _reaches(deps, target, name):
                deps[name].add(target)
    position = {name: i for i, name in enumerate(resources)}
    return Graph(
        order=_topological(deps, position),
        dependencies={k: frozenset(v) for k, v in deps.items()},
    )


def _reaches(deps: Mapping[str, set[str]], start: str, goal: str) -> bool:
    seen, stack = set(), [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            stack.extend(deps.get(node, ()))
    return False


def find_cycle(deps: Mapping[str, set[str]]) -> list[str] | None:
    """One cycle as ``[a, b, ..., a]``, or None."""
    color: dict[str, int] = {}
    for root in deps:
        if color.get(root):
            continue
        path: list[str] = []
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(deps[root])))]
        color[root] = 1
        path.append(root)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                color[node] = 2
            elif color.get(child) == 1:
                return [*path[path.index(child) :], child]
            elif not color.get(child):
                color[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(deps.get(child, ())))))
    return None


def _topological(deps: Mapping[str, set[str]], position: Mapping[str, int]) -> tuple[str, ...]:
    waiting = {name: len(targets) for name, targets in deps.items()}
    dependents: dict[str, list[str]] = {name: [] for name in deps}
    for name, targets in deps.items():
        for target in targets:
            dependents[target].append(name)
    ready = [(position[n], n) for n, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(name)
        for dependent in dependents[name]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, (position[dependent], dependent))
    return tuple(order)
