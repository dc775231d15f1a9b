"""What every resource type declares, and the one way its properties are checked.

A ``ResourceType`` declares its properties (``Prop``: type, required, create-only, range,
choices, pattern, nested fields), the attributes ``Fn::GetAtt`` may read and the property
that names it; it creates, updates and deletes through a ``Cloud`` (boto3 clients bound to
the server, physical names, code zips). ``check_properties`` is pure: it coerces strings to
numbers and booleans the way CloudFormation does and reports every problem with its path.
Values not known before deployment (``Unknown``) are checked when they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from sendoff.iac.errors import Path, Problem, ResourceFailed
from sendoff.iac.intrinsics import Unknown
from sendoff.iac.state import ResourceState
from sendoff.model.json_types import JSON


@dataclass(frozen=True, kw_only=True)
class Prop:
    kind: str = "any"  # string | integer | boolean | list | map | json | any
    required: bool = False
    create_only: bool = False
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    max_len: int | None = None
    ignored: bool = False  # accepted, with no effect locally (a warning says so)
    fields: Mapping[str, Prop] | None = None  # for a map, or each map of a list


def string(**kw: Any) -> Prop:
    return Prop(kind="string", **kw)


def integer(low: int | None = None, high: int | None = None, **kw: Any) -> Prop:
    return Prop(kind="integer", low=low, high=high, **kw)


IGNORED = Prop(ignored=True)
TAGS = Prop(kind="list")


@dataclass(frozen=True, kw_only=True)
class Applied:
    """The outcome of a create or update."""

    physical_id: str
    ref: str
    attributes: JSON = field(default_factory=dict)


class Cloud(Protocol):
    """The server, as a resource type sees it."""

    account_id: str
    region: str
    partition: str
    stack_name: str

    def client(self, service: str) -> Any: ...

    def physical_name(self, logical_id: str, *, max_len: int, suffix: str = "") -> str: ...

    def code_zip(self, code: JSON, *, runtime: str | None) -> bytes: ...


class ResourceType:
    type_name: ClassVar[str] = ""
    schema: ClassVar[Mapping[str, Prop]] = {}
    attributes: ClassVar[frozenset[str]] = frozenset()
    name_property: ClassVar[str | None] = None
    stored_only: ClassVar[bool] = False  # kept in the stack; nothing is created

    def check(self, props: JSON, path: Path) -> list[Problem]:
        """Checks across properties (known values only); the schema is checked before."""
        return []

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        raise NotImplementedError

    def update(self, cloud: Cloud, current: ResourceState, props: JSON) -> Applied:
        raise NotImplementedError

    def delete(self, cloud: Cloud, current: ResourceState) -> None:
        raise NotImplementedError

    def needs_replacement(self, old: JSON, new: JSON) -> list[str]:
        """The create-only properties that changed (any change means a new resource)."""
        return [
            name
            for name, prop in self.schema.items()
            if prop.create_only and old.get(name) != new.get(name)
        ]


class StoredOnly(ResourceType):
    """A resource kept in the stack only (IAM, permissions, policies): nothing to call."""

    stored_only = True

    def make(self, cloud: Cloud, logical_id: str, props: JSON, physical_id: str) -> Applied:
        return Applied(physical_id=physical_id, ref=physical_id)

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        physical = cloud.physical_name(logical_id, max_len=64)
        return self.make(cloud, logical_id, props, physical)

    def update(self, cloud: Cloud, current: ResourceState, props: JSON) -> Applied:
        return self.make(cloud, current.logical_id, props, current.physical_id)

    def delete(self, cloud: Cloud, current: ResourceState) -> None:
        return None


# ---- property checks ----


def check_properties(
    rtype: ResourceType, props: JSON, path: Path
) -> tuple[JSON, list[Problem], list[str]]:
    """(coerced properties, problems, warnings) of one resource's properties."""
    problems: list[Problem] = []
    warnings: list[str] = []
    coerced = _check_fields(rtype.schema, props, path, problems, warnings, rtype.type_name)
    if not problems:
        problems += rtype.check(coerced, path)
    return coerced, problems, warnings


def _check_fields(
    schema: Mapping[str, Prop],
    values: JSON,
    path: Path,
    problems: list[Problem],
    warnings: list[str],
    type_name: str,
) -> JSON:
    out: JSON = {}
    for name, value in values.items():
        here = (*path, name)
        prop = schema.get(name)
        if prop is None:
            known = ", ".join(sorted(schema)) or "none"
            message = f"unsupported property {name!r} for {type_name} (supported: {known})"
            problems.append(Problem(path=here, message=message))
            continue
        if prop.ignored:
            warnings.append(f"{'.'.join(str(p) for p in here)} has no effect in sendoff")
        out[name] = _check_value(prop, value, here, problems, warnings, type_name)
    for name, prop in schema.items():
        if prop.required and name not in values:
            problems.append(Problem(path=(*path, name), message="required property is missing"))
    return out


def _check_value(
    prop: Prop, value: Any, path: Path, problems: list[Problem], warnings: list[str], tn: str
) -> Any:
    if isinstance(value, Unknown) or prop.kind == "any":
        return value
    scalar = _SCALARS.get(prop.kind)
    if scalar is not None:
        checked, error = scalar(prop, value)
    elif prop.kind in ("map", "list"):
        expected, noun = (dict, "mapping") if prop.kind == "map" else (list, "list")
        if not isinstance(value, expected):
            checked, error = value, f"must be a {noun}, not {type(value).__name__}"
        elif prop.fields is None:
            return value
        elif isinstance(value, dict):
            return _check_fields(prop.fields, value, path, problems, warnings, tn)
        else:
            return _check_items(prop.fields, value, path, problems, warnings, tn)
    else:
        return value
    if error is not None:
        problems.append(Problem(path=path, message=error))
    return checked


def _check_items(
    fields: Mapping[str, Prop],
    items: list[Any],
    path: Path,
    problems: list[Problem],
    warnings: list[str],
    tn: str,
) -> list[Any]:
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(Problem(path=(*path, i), message="must be a mapping"))
            continue
        out.append(_check_fields(fields, item, (*path, i), problems, warnings, tn))
    return out


Checked = tuple[Any, str | None]
"""A property value as used (or as given, when wrong) and what is wrong with it."""


def _integer(prop: Prop, value: Any) -> Checked:
    number = _as_int(value)
    if number is None:
        return value, f"must be an integer, not {value!r}"
    if prop.low is not None and number < prop.low:
        return value, f"{number} is less than the minimum {prop.low}"
    if prop.high is not None and number > prop.high:
        return value, f"{number} is greater than the maximum {prop.high}"
    return number, None


def _boolean(prop: Prop, value: Any) -> Checked:
    if isinstance(value, bool):
        return value, None
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true", None
    return value, f"must be true or false, not {value!r}"


def _string(prop: Prop, value: Any) -> Checked:
    if isinstance(value, bool | dict | list):
        return value, f"must be a string, not {type(value).__name__}"
    text = str(value)
    if prop.choices and text not in prop.choices:
        return value, f"{text!r} is not one of {list(prop.choices)}"
    if prop.max_len is not None and len(text) > prop.max_len:
        return value, f"must be at most {prop.max_len} characters"
    if prop.pattern and not re.fullmatch(prop.pattern, text):
        return value, f"{text!r} does not match {prop.pattern}"
    return text, None


def _json(prop: Prop, value: Any) -> Checked:
    if not isinstance(value, dict | str):
        return value, "must be a mapping or a JSON string"
    return value, None


_SCALARS: dict[str, Callable[[Prop, Any], Checked]] = {
    "integer": _integer,
    "boolean": _boolean,
    "string": _string,
    "json": _json,
}


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


# ---- helpers for the types ----


def tags_dict(tags: Any) -> dict[str, str]:
    """CloudFormation's ``[{Key, Value}]`` (or a plain map) as a dict."""
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    return {str(t["Key"]): str(t.get("Value", "")) for t in tags or [] if isinstance(t, dict)}


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str((response.get("Error") or {}).get("Code", ""))
    return ""


def aws_message(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        err = response.get("Error") or {}
        code = str(err.get("Code", "")).rsplit("#", 1)[-1]
        return f"{code}: {err.get('Message', '')}".strip(": ")
    return str(exc) or type(exc).__name__


NOT_FOUND = frozenset(
    {
        "ResourceNotFoundException", "NotFound", "NotFoundException", "QueueDoesNotExist",
        "AWS.SimpleQueueService.NonExistentQueue", "NonExistentQueue", "NoSuchEntity",
    }
)  # fmt: skip


def is_not_found(exc: BaseException) -> bool:
    return error_code(exc).rsplit("#", 1)[-1] in NOT_FOUND


def already_exists(logical_id: str, type_name: str, name: str) -> ResourceFailed:
    return ResourceFailed(
        logical_id, f"{name} already exists (a {type_name} not created by this stack)"
    )
