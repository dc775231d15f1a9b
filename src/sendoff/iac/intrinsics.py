"""CloudFormation's intrinsic functions, condition functions and pseudo parameters.

``resolve(value, ctx)`` evaluates every ``Ref`` and ``Fn::*`` inside a value. Resources are
reached through ``ctx.resources`` (a ``ResourceLookup``): before deployment a lookup that
answers ``Unknown`` placeholders lets the whole template be checked; during deployment a
lookup over the created resources gives the real values. ``AWS::NoValue`` removes the key
or list item that holds it. ``references(value)`` lists the names a value refers to (for
the dependency graph), following only the taken branch of ``Fn::If``.

Every function is pure: no I/O, and the same inputs give the same result.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sendoff.iac.errors import Path, Problem

CONDITION_FUNCTIONS = frozenset({"Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Condition"})
UNSUPPORTED_FUNCTIONS = frozenset({"Fn::Cidr", "Fn::Transform", "Fn::Length", "Fn::ToJsonString"})
PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId", "AWS::Region", "AWS::StackName", "AWS::StackId", "AWS::Partition",
        "AWS::NoValue", "AWS::URLSuffix", "AWS::NotificationARNs",
    }
)  # fmt: skip
_SUB_VAR = re.compile(r"\$\{([^}]*)\}")


class IntrinsicError(Exception):
    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.problem = Problem(path=path, message=message)


@dataclass(frozen=True)
class Unknown:
    """A value known only once a resource exists (e.g. ``Queue.Arn`` before deployment)."""

    origin: str

    def __str__(self) -> str:
        return f"{{{self.origin}}}"


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()


class ResourceLookup(Protocol):
    """The template's resources as intrinsics see them; ``get_att`` raises LookupError
    (with a message) for an attribute the resource does not have."""

    def has(self, name: str) -> bool: ...

    def ref(self, name: str) -> Any: ...

    def get_att(self, name: str, attribute: str) -> Any: ...


class Placeholders:
    """Resources whose values are not known yet: every Ref and GetAtt is ``Unknown``."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names = frozenset(names)

    def has(self, name: str) -> bool:
        return name in self.names

    def ref(self, name: str) -> Any:
        return Unknown(name)

    def get_att(self, name: str, attribute: str) -> Any:
        return Unknown(f"{name}.{attribute}")


@dataclass(frozen=True, kw_only=True)
class Context:
    account_id: str
    region: str
    stack_name: str
    stack_id: str = ""
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"
    parameters: Mapping[str, Any] = field(default_factory=dict)
    conditions: Mapping[str, bool] = field(default_factory=dict)
    mappings: Mapping[str, Any] = field(default_factory=dict)
    exports: Mapping[str, str] = field(default_factory=dict)
    unavailable: Mapping[str, str] = field(default_factory=dict)  # parameter -> why
    resources: ResourceLookup = field(default_factory=Placeholders)

    def pseudo(self, name: str) -> Any:
        return {
            "AWS::AccountId": self.account_id,
            "AWS::Region": self.region,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": self.stack_id
            or f"arn:{self.partition}:cloudformation:{self.region}:{self.account_id}:stack/"
            f"{self.stack_name}/00000000-0000-0000-0000-000000000000",
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::NoValue": NO_VALUE,
            "AWS::NotificationARNs": [],
        }[name]

    def with_resources(self, resources: ResourceLookup) -> Context:
        return replace(self, resources=resources)


def function_of(value: Any) -> str | None:
    """The intrinsic function name if ``value`` is a one-key function call."""
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        if key == "Ref" or key == "Condition" or (isinstance(key, str) and key.startswith("Fn::")):
            return str(key)
    return None


def resolve(value: Any, ctx: Context, path: Path = ()) -> Any:
    """Evaluate every intrinsic inside ``value``; raise IntrinsicError on the first error."""
    function = function_of(value)
    if function is not None and function != "Condition":
        return _call(function, value[function], ctx, (*path, function))
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            resolved = resolve(item, ctx, (*path, key))
            if resolved is not NO_VALUE:
                out[key] = resolved
        return out
    if isinstance(value, list):
        items = [resolve(item, ctx, (*path, i)) for i, item in enumerate(value)]
        return [item for item in items if item is not NO_VALUE]
    return value


def _text(value: Any, path: Path, what: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise IntrinsicError(path, f"{what} must be a string, not {type(value).__name__}")


def _list(value: Any, path: Path, what: str, size: int | None = None) -> list[Any]:
    if not isinstance(value, list) or (size is not None and len(value) != size):
        shape = f"a list of {size} items" if size else "a list"
        raise IntrinsicError(path, f"{what} takes {shape}")
    return value


def _ref(name: Any, ctx: Context, path: Path) -> Any:
    if not isinstance(name, str):
        raise IntrinsicError(path, "Ref takes the name of a parameter or resource")
    if name in ctx.parameters:
        return ctx.parameters[name]
    if name in ctx.unavailable:
        raise IntrinsicError(path, ctx.unavailable[name])
    if name in PSEUDO_PARAMETERS:
        return ctx.pseudo(name)
    if ctx.resources.has(name):
        return ctx.resources.ref(name)
    raise IntrinsicError(path, f"unresolved reference {name!r}: no such parameter or resource")


def _get_att(args: Any, ctx: Context, path: Path) -> Any:
    if isinstance(args, str):
        args = args.split(".", 1)
    parts = _list(args, path, "Fn::GetAtt", 2)
    name = parts[0]
    attribute = resolve(parts[1], ctx, (*path, 1))
    if not isinstance(name, str) or not isinstance(attribute, str):
        raise IntrinsicError(path, "Fn::GetAtt takes [LogicalId, AttributeName]")
    if not ctx.resources.has(name):
        raise IntrinsicError(path, f"unresolved reference {name!r} in Fn::GetAtt: no such resource")
    try:
        return ctx.resources.get_att(name, attribute)
    except LookupError as exc:
        raise IntrinsicError(path, exc.args[0] if exc.args else str(exc)) from None


def sub_variables(template: str) -> Iterator[str]:
    """The ``${...}`` names of a Fn::Sub string, without the ``${!literal}`` escapes."""
    for match in _SUB_VAR.finditer(template):
        inner = match.group(1)
        if not inner.startswith("!"):
            yield inner.strip()


def _sub(args: Any, ctx: Context, path: Path) -> Any:
    if isinstance(args, str):
        template, variables = args, {}
    else:
        parts = _list(args, path, "Fn::Sub", 2)
        template, variables = parts[0], parts[1]
        if not isinstance(variables, dict):
            raise IntrinsicError((*path, 1), "Fn::Sub variables must be a mapping")
        variables = {k: resolve(v, ctx, (*path, 1, k)) for k, v in variables.items()}
    if not isinstance(template, str):
        raise IntrinsicError(path, "Fn::Sub takes a string or [string, {variables}]")
    unknown: list[str] = []

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner.startswith("!"):
            return "${" + inner[1:] + "}"
        name = inner.strip()
        if name in variables:
            value = variables[name]
        elif "." in name and name not in ctx.parameters and name not in PSEUDO_PARAMETERS:
            resource, attribute = name.split(".", 1)
            if not ctx.resources.has(resource):
                raise IntrinsicError(path, f"unresolved reference ${{{name}}} in Fn::Sub")
            try:
                value = ctx.resources.get_att(resource, attribute)
            except LookupError as exc:
                raise IntrinsicError(path, exc.args[0] if exc.args else str(exc)) from None
        else:
            value = _ref(name, ctx, path)
        if isinstance(value, Unknown):
            unknown.append(value.origin)
            return ""
        if isinstance(value, list):
            raise IntrinsicError(path, f"${{{name}}} is a list; Fn::Sub needs a string")
        return _text(value, path, f"${{{name}}}")

    result = _SUB_VAR.sub(replace, template)
    return Unknown(f"Fn::Sub({', '.join(unknown)})") if unknown else result


def _join(args: Any, ctx: Context, path: Path) -> Any:
    parts = _list(args, path, "Fn::Join", 2)
    delimiter = parts[0]
    items = resolve(parts[1], ctx, (*path, 1))
    if isinstance(items, Unknown):
        return items
    if not isinstance(delimiter, str) or not isinstance(items, list):
        raise IntrinsicError(path, "Fn::Join takes [delimiter, [values]]")
    unknown = [i for i in items if isinstance(i, Unknown)]
    if unknown:
        return Unknown(f"Fn::Join({', '.join(u.origin for u in unknown)})")
    return delimiter.join(_text(i, (*path, 1), "Fn::Join values") for i in items)


def _select(args: Any, ctx: Context, path: Path) -> Any:
    parts = _list(args, path, "Fn::Select", 2)
    index = resolve(parts[0], ctx, (*path, 0))
    items = resolve(parts[1], ctx, (*path, 1))
    if isinstance(items, Unknown) or isinstance(index, Unknown):
        return Unknown("Fn::Select")
    try:
        position = int(index)
    except (TypeError, ValueError):
        raise IntrinsicError(path, f"Fn::Select index must be a number, not {index!r}") from None
    if not isinstance(items, list):
        raise IntrinsicError(path, "Fn::Select takes [index, [values]]")
    if not 0 <= position < len(items):
        raise IntrinsicError(path, f"Fn::Select index {position} is out of range ({len(items)})")
    return items[position]


def _split(args: Any, ctx: Context, path: Path) -> Any:
    parts = _list(args, path, "Fn::Split", 2)
    source = resolve(parts[1], ctx, (*path, 1))
    if isinstance(source, Unknown):
        return source
    if not isinstance(parts[0], str) or not parts[0] or not isinstance(source, str):
        raise IntrinsicError(path, "Fn::Split takes [delimiter, string]")
    return source.split(parts[0])


def _if(args: Any, ctx: Context, path: Path) -> Any:
    parts = _list(args, path, "Fn::If", 3)
    name = parts[0]
    if name not in ctx.conditions:
        raise IntrinsicError(path, f"Fn::If names unknown condition {name!r}")
    chosen = 1 if ctx.conditions[name] else 2
    return resolve(parts[chosen], ctx, (*path, chosen))


def _get_azs(args: Any, ctx: Context, path: Path) -> Any:
    region = resolve(args, ctx, path)
    if isinstance(region, Unknown):
        return region
    region = region or ctx.region
    return [f"{region}{zone}" for zone in "abc"]


def _base64(args: Any, ctx: Context, path: Path) -> Any:
    value = resolve(args, ctx, path)
    if isinstance(value, Unknown):
        return value
    return base64.b64encode(_text(value, path, "Fn::Base64").encode()).decode()


def _find_in_map(args: Any, ctx: Context, path: Path) -> Any:
    parts = _list(args, path, "Fn::FindInMap", 3)
    keys = [resolve(p, ctx, (*path, i)) for i, p in enumerate(parts)]
    if any(isinstance(k, Unknown) for k in keys):
        return Unknown("Fn::FindInMap")
    node: Any = ctx.mappings
    for i, key in enumerate(keys):
        if not isinstance(node, dict) or str(key) not in node:
            where = ".".join(str(k) for k in keys[: i + 1])
            raise IntrinsicError(path, f"Fn::FindInMap: no mapping entry {where!r}")
        node = node[str(key)]
    return node


def _import_value(args: Any, ctx: Context, path: Path) -> Any:
    name = resolve(args, ctx, path)
    if isinstance(name, Unknown):
        return name
    if name not in ctx.exports:
        raise IntrinsicError(path, f"Fn::ImportValue: no stack exports {name!r}")
    return ctx.exports[name]


_FUNCTIONS: dict[str, Callable[[Any, Context, Path], Any]] = {
    "Ref": _ref,
    "Fn::GetAtt": _get_att,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::If": _if,
    "Fn::GetAZs": _get_azs,
    "Fn::Base64": _base64,
    "Fn::FindInMap": _find_in_map,
    "Fn::ImportValue": _import_value,
}


def _call(function: str, args: Any, ctx: Context, path: Path) -> Any:
    if function in _FUNCTIONS:
        return _FUNCTIONS[function](args, ctx, path)
    if function in CONDITION_FUNCTIONS:
        return evaluate_condition({function: args}, ctx, path[:-1])
    if function in UNSUPPORTED_FUNCTIONS:
        raise IntrinsicError(path, f"{function} is not supported by sendoff")
    raise IntrinsicError(path, f"unknown intrinsic function {function}")


# ---- conditions ----


def evaluate_condition(value: Any, ctx: Context, path: Path = ()) -> bool:
    """Evaluate a condition function (Fn::Equals/And/Or/Not, {Condition: name})."""
    function = function_of(value)
    if function is None:
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return bool(value == "true")
        raise IntrinsicError(path, "a condition must be Fn::Equals, Fn::And, Fn::Or or Fn::Not")
    args = value[function]
    here = (*path, function)
    if function == "Condition":
        if args not in ctx.conditions:
            raise IntrinsicError(here, f"unknown condition {args!r}")
        return bool(ctx.conditions[args])
    if function == "Fn::Equals":
        pair = _list(args, here, function, 2)
        left, right = (resolve(a, ctx, (*here, i)) for i, a in enumerate(pair))
        if isinstance(left, Unknown) or isinstance(right, Unknown):
            raise IntrinsicError(here, "conditions cannot refer to resources")
        return bool(_comparable(left) == _comparable(right))
    if function == "Fn::Not":
        return not evaluate_condition(_list(args, here, function, 1)[0], ctx, (*here, 0))
    if function in ("Fn::And", "Fn::Or"):
        items = _list(args, here, function)
        if not 2 <= len(items) <= 10:
            raise IntrinsicError(here, f"{function} takes 2 to 10 conditions")
        results = [evaluate_condition(c, ctx, (*here, i)) for i, c in enumerate(items)]
        return all(results) if function == "Fn::And" else any(results)
    raise IntrinsicError(here, f"{function} is not a condition function")


def _comparable(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def evaluate_conditions(definitions: Mapping[str, Any], ctx: Context) -> dict[str, bool]:
    """Evaluate every named condition (they may refer to each other, without cycles)."""
    lazy = _LazyConditions(definitions, ctx)
    return {name: lazy[name] for name in definitions}


class _LazyConditions(Mapping[str, bool]):
    def __init__(self, definitions: Mapping[str, Any], ctx: Context) -> None:
        self.definitions = definitions
        self.ctx = replace(ctx, conditions=self)
        self.results: dict[str, bool] = {}
        self.visiting: list[str] = []

    def __getitem__(self, name: str) -> bool:
        if name in self.results:
            return self.results[name]
        if name not in self.definitions:
            raise KeyError(name)
        if name in self.visiting:
            cycle = " -> ".join([*self.visiting[self.visiting.index(name) :], name])
            raise IntrinsicError(("Conditions", name), f"circular condition: {cycle}")
        self.visiting.append(name)
        try:
            value = evaluate_condition(self.definitions[name], self.ctx, ("Conditions", name))
        finally:
            self.visiting.pop()
        self.results[name] = value
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self.definitions)

    def __len__(self) -> int:
        return len(self.definitions)


# ---- references (for the dependency graph) ----


def references(value: Any, conditions: Mapping[str, bool] | None = None) -> set[str]:
    """Names a value refers to through Ref, Fn::GetAtt and Fn::Sub.

    With ``conditions``, only the taken branch of each Fn::If counts."""
    found: set[str] = set()
    _collect(value, conditions, found)
    return found


def _collect(value: Any, conditions: Mapping[str, bool] | None, found: set[str]) -> None:
    function = function_of(value)
    if function == "Ref":
        if isinstance(value["Ref"], str):
            found.add(value["Ref"])
        return
    if function == "Fn::GetAtt":
        _collect_get_att(value[function], conditions, found)
        return
    if function == "Fn::Sub":
        _collect_sub(value[function], conditions, found)
        return
    if function == "Fn::If" and conditions is not None:
        args = value[function]
        if isinstance(args, list) and len(args) == 3 and args[0] in conditions:
            _collect(args[1] if conditions[args[0]] else args[2], conditions, found)
            return
    if isinstance(value, dict):
        for item in value.values():
            _collect(item, conditions, found)
    elif isinstance(value, list):
        for item in value:
            _collect(item, conditions, found)


def _collect_get_att(args: Any, conditions: Mapping[str, bool] | None, found: set[str]) -> None:
    if isinstance(args, str):
        args = args.split(".", 1)
    if isinstance(args, list) and args and isinstance(args[0], str):
        found.add(args[0])
    if isinstance(args, list) and len(args) > 1:
        _collect(args[1], conditions, found)


def _collect_sub(args: Any, conditions: Mapping[str, bool] | None, found: set[str]) -> None:
    template, variables = (args, {}) if isinstance(args, str) else [*args, None, None][:2]
    if isinstance(variables, dict):
        _collect(list(variables.values()), conditions, found)
    else:
        variables = {}
    if isinstance(template, str):
        for name in sub_variables(template):
            if name not in variables:
                found.add(name.split(".", 1)[0] if "." in name else name)
