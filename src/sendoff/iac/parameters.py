"""Template parameters: declared types and constraints, and the values a deployment uses.

A value comes from ``--parameter-overrides``, else from the stack's previous deployment
(as ``aws cloudformation deploy`` does), else from the parameter's ``Default``. Types:
``String``, ``Number``, ``CommaDelimitedList``, ``List<Number>`` and the AWS-specific string
types (``AWS::EC2::...``), which are plain strings here. ``AWS::SSM::Parameter::Value<...>``
parameters have no SSM to read locally: they need an override when a resource uses them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sendoff.iac.errors import Problem, TemplateError
from sendoff.model.json_types import JSON

SSM_PREFIX = "AWS::SSM::Parameter::Value<"
LIST_TYPES = frozenset({"CommaDelimitedList", "List<Number>", "List<String>"})


@dataclass(frozen=True, kw_only=True)
class Parameters:
    values: Mapping[str, Any]  # str, or list[str] for list types
    given: Mapping[str, str]  # the string values to remember for the next deployment
    unavailable: Mapping[str, str] = field(default_factory=dict)  # name -> why
    no_echo: frozenset[str] = frozenset()

    def shown(self) -> dict[str, str]:
        """The values to display: NoEcho parameters masked."""
        return {k: "****" if k in self.no_echo else v for k, v in self.given.items()}


def parse_overrides(items: list[str]) -> dict[str, str]:
    """``["Key=Value", ...]`` (also ``ParameterKey=K,ParameterValue=V``) to a dict."""
    out: dict[str, str] = {}
    for item in items:
        match = re.fullmatch(r"ParameterKey=([^,]+),ParameterValue=(.*)", item)
        key, sep, value = (match.group(1), "=", match.group(2)) if match else item.partition("=")
        if not sep or not key:
            raise TemplateError(
                [Problem(path=(), message=f"parameter override {item!r} is not KEY=VALUE")]
            )
        out[key.strip()] = value
    return out


def resolve_parameters(
    declarations: JSON,
    overrides: Mapping[str, str],
    previous: Mapping[str, str] | None = None,
) -> Parameters:
    """Choose and check every parameter's value; raise TemplateError listing all problems."""
    previous = previous or {}
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    given: dict[str, str] = {}
    unavailable: dict[str, str] = {}
    no_echo: set[str] = set()
    for name in overrides:
        if name not in declarations:
            problems.append(
                Problem(path=("Parameters",), message=f"override for undeclared parameter {name!r}")
            )
    for name, spec in declarations.items():
        path = ("Parameters", name)
        if not isinstance(spec, dict):
            continue
        kind = str(spec.get("Type", "String"))
        if str(spec.get("NoEcho", "false")).lower() == "true":
            no_echo.add(name)
        if name in overrides:
            raw: Any = overrides[name]
        elif name in previous:
            raw = previous[name]
        elif "Default" in spec:
            raw = spec["Default"]
        else:
            message = f"no value: give it with --parameter-overrides {name}=VALUE"
            problems.append(Problem(path=path, message=message))
            continue
        if isinstance(raw, list):
            raw = ",".join(str(x) for x in raw)
        elif isinstance(raw, bool):
            raw = "true" if raw else "false"
        text = str(raw)
        if kind.startswith(SSM_PREFIX) and name not in overrides:
            unavailable[name] = (
                f"parameter {name!r} is read from SSM ({text}), which sendoff does not have; "
                f"give its value with --parameter-overrides {name}=VALUE"
            )
            continue
        try:
            values[name] = _typed(kind, text, spec)
        except ValueError as exc:
            problems.append(Problem(path=path, message=str(exc)))
            continue
        given[name] = text
    if problems:
        raise TemplateError(problems)
    return Parameters(
        values=values, given=given, unavailable=unavailable, no_echo=frozenset(no_echo)
    )


def _typed(kind: str, text: str, spec: JSON) -> Any:
    if kind in LIST_TYPES or kind.startswith("List<"):
        items = text.split(",") if text else []
        for item in items:
            _check(kind, item, spec)
        if kind == "List<Number>":
            for item in items:
                _number(item)
        return items
    if kind == "Number":
        _number(text)
    _check(kind, text, spec)
    return text


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a Number") from None


def _check(kind: str, text: str, spec: JSON) -> None:
    allowed = spec.get("AllowedValues")
    if isinstance(allowed, list) and text not in [str(a) for a in allowed]:
        raise ValueError(f"{text!r} is not one of the AllowedValues {[str(a) for a in allowed]}")
    pattern = spec.get("AllowedPattern")
    if isinstance(pattern, str) and not re.fullmatch(pattern, text):
        hint = spec.get("ConstraintDescription") or f"must match pattern {pattern}"
        raise ValueError(f"{text!r} {hint}" if "ConstraintDescription" not in spec else hint)
    if "MinLength" in spec and len(text) < int(spec["MinLength"]):
        raise ValueError(f"{text!r} is shorter than MinLength {spec['MinLength']}")
    if "MaxLength" in spec and len(text) > int(spec["MaxLength"]):
        raise ValueError(f"{text!r} is longer than MaxLength {spec['MaxLength']}")
    if kind == "Number" or kind == "List<Number>":
        number = _number(text)
        if "MinValue" in spec and number < float(spec["MinValue"]):
            raise ValueError(f"{text} is less than MinValue {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            raise ValueError(f"{text} is greater than MaxValue {spec['MaxValue']}")
