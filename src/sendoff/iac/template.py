"""Read a CloudFormation template (YAML with short-form tags, or JSON) and check its shape.

``parse_template(text)`` returns a ``Template``: the document as plain dicts and lists in
long form (``!GetAtt Queue.Arn`` becomes ``{"Fn::GetAtt": ["Queue", "Arn"]}``), plus
``locate(path)`` to find the line of any place when a problem is reported. Dates stay
strings (``Version: 2012-10-17``) and duplicate keys are errors, as in CloudFormation.
``check_structure`` reports every structural problem (sections, logical ids, resource
attributes) at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from sendoff.iac.errors import Path, Problem, TemplateError
from sendoff.model.json_types import JSON

SERVERLESS_TRANSFORM = "AWS::Serverless-2016-10-31"
SECTIONS = frozenset(
    {
        "AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules",
        "Mappings", "Conditions", "Transform", "Resources", "Outputs", "Globals",
    }
)  # fmt: skip
RESOURCE_KEYS = frozenset(
    {
        "Type", "Properties", "DependsOn", "Condition", "DeletionPolicy", "UpdateReplacePolicy",
        "Metadata", "CreationPolicy", "UpdatePolicy",
    }
)  # fmt: skip
LOGICAL_ID = re.compile(r"^[A-Za-z0-9]+$")
DELETION_POLICIES = frozenset({"Delete", "Retain", "RetainExceptOnCreate", "Snapshot"})

# short-form tag -> long-form function name
SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in (
            "GetAtt", "Sub", "Join", "Select", "Split", "If", "Equals", "And", "Or", "Not",
            "GetAZs", "Base64", "FindInMap", "ImportValue", "Cidr", "Transform", "Length",
            "ToJsonString", "Contains",
        )
    },
}  # fmt: skip


class _Loader(yaml.SafeLoader):
    """SafeLoader with CloudFormation's tags, string dates and no duplicate keys."""


def _short_form(function: str) -> Any:
    def construct(loader: _Loader, node: yaml.Node) -> JSON:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if function == "Fn::GetAtt":
                value = value.split(".", 1) if "." in value else [value]
            elif function == "Fn::GetAZs" and value is None:
                value = ""
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            assert isinstance(node, yaml.MappingNode)
            value = loader.construct_mapping(node, deep=True)
        return {function: value}

    return construct


def _mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> JSON:
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key]})",
                key_node.start_mark,
            )  # fmt: skip
        seen[key] = key_node.start_mark.line + 1
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=True)
    # numeric keys (account ids in Mappings) are strings to CloudFormation
    return {str(k) if isinstance(k, int) else k: v for k, v in mapping.items()}  # type: ignore[misc]


def _string(loader: _Loader, node: yaml.Node) -> str:
    assert isinstance(node, yaml.ScalarNode)
    return str(loader.construct_scalar(node))


for _tag, _function in SHORT_TAGS.items():
    _Loader.add_constructor(f"!{_tag}", _short_form(_function))
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _string)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


@dataclass(frozen=True, kw_only=True)
class Template:
    body: JSON
    text: str = ""
    source: str = "template"
    _lines: dict[Path, int] = field(default_factory=dict, repr=False, compare=False)

    @property
    def resources(self) -> JSON:
        value = self.body.get("Resources")
        return value if isinstance(value, dict) else {}

    @property
    def parameters(self) -> JSON:
        value = self.body.get("Parameters")
        return value if isinstance(value, dict) else {}

    @property
    def conditions(self) -> JSON:
        value = self.body.get("Conditions")
        return value if isinstance(value, dict) else {}

    @property
    def outputs(self) -> JSON:
        value = self.body.get("Outputs")
        return value if isinstance(value, dict) else {}

    @property
    def mappings(self) -> JSON:
        value = self.body.get("Mappings")
        return value if isinstance(value, dict) else {}

    @property
    def transforms(self) -> list[Any]:
        value = self.body.get("Transform")
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    @property
    def is_serverless(self) -> bool:
        return SERVERLESS_TRANSFORM in self.transforms

    def with_body(self, body: JSON) -> Template:
        return Template(body=body, text=self.text, source=self.source, _lines=self._lines)

    def locate(self, path: Path) -> int | None:
        """The 1-based line of the deepest known node on ``path`` (YAML or JSON text)."""
        if not self.text:
            return None
        if not self._lines:
            try:
                root = yaml.compose(self.text, Loader=_Loader)
            except yaml.YAMLError:
                return None
            if root is not None:
                _index_lines(root, (), self._lines)
        # a generated resource (SAM) is not in the text: no line rather than a wrong one
        for end in range(len(path), min(len(path), 2) - 1, -1):
            if path[:end] in self._lines:
                return self._lines[path[:end]]
        return None

    def located(self, problems: Iterable[Problem]) -> TemplateError:
        return TemplateError(
            [p if p.line else p.at_line(self.locate(p.path)) for p in problems],
            source=self.source,
        )


def _index_lines(node: yaml.Node, path: Path, out: dict[Path, int]) -> None:
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                out[(*path, key.value)] = key.start_mark.line + 1
                _index_lines(value, (*path, key.value), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, (*path, i), out)


def parse_template(text: str, *, source: str = "template") -> Template:
    """Parse YAML or JSON text; raise TemplateError with the line of a syntax error."""
    stripped = text.lstrip()
    body: Any
    if stripped.startswith("{"):
        try:
            body = json.loads(text, object_pairs_hook=_no_duplicates)
        except json.JSONDecodeError as exc:
            raise TemplateError(
                [Problem(path=(), message=f"invalid JSON: {exc.msg}", line=exc.lineno)],
                source=source,
            ) from None
        except ValueError as exc:
            raise TemplateError([Problem(path=(), message=str(exc))], source=source) from None
    else:
        try:
            body = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else None
            message = f"invalid YAML: {exc.problem or exc.context}"
            raise TemplateError(
                [Problem(path=(), message=message, line=line)], source=source
            ) from None
        except yaml.YAMLError as exc:
            raise TemplateError(
                [Problem(path=(), message=f"invalid YAML: {exc}")], source=source
            ) from None
    if not isinstance(body, dict):
        raise TemplateError(
            [Problem(path=(), message="a template must be a mapping with a Resources section")],
            source=source,
        )
    return Template(body=body, text=text, source=source)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> JSON:
    out: JSON = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"invalid JSON: duplicate key {key!r}")
        out[key] = value
    return out


def check_structure(template: Template) -> list[Problem]:
    """Every structural problem of a template, in document order."""
    problems: list[Problem] = []

    def bad(path: Path, message: str) -> None:
        problems.append(Problem(path=path, message=message))

    _check_sections(template, bad)
    resources = template.body.get("Resources")
    if not isinstance(resources, dict) or not resources:
        bad(("Resources",), "a template needs a Resources section with at least one resource")
        return problems
    _check_logical_ids(template, bad)
    for logical_id, resource in resources.items():
        _check_resource(template, ("Resources", str(logical_id)), resource, bad)
    _check_parameters_and_outputs(template, bad)
    for transform in template.transforms:
        if transform != SERVERLESS_TRANSFORM:
            bad(("Transform",), f"unsupported transform {transform!r} (sendoff supports "
                f"{SERVERLESS_TRANSFORM} only)")  # fmt: skip
    return problems


Report = Callable[[Path, str], None]


def _check_sections(template: Template, bad: Report) -> None:
    body = template.body
    for key in body:
        if key not in SECTIONS:
            bad((key,), f"unknown top-level section {key!r}")
    if "Globals" in body and not template.is_serverless:
        bad(("Globals",), f"Globals needs 'Transform: {SERVERLESS_TRANSFORM}'")
    for name in ("Parameters", "Mappings", "Conditions", "Outputs", "Globals", "Rules"):
        if name in body and not isinstance(body[name], dict):
            bad((name,), "must be a mapping")


def _check_logical_ids(template: Template, bad: Report) -> None:
    for section in ("Parameters", "Resources", "Outputs", "Conditions", "Mappings"):
        for logical_id in template.body.get(section) or {}:
            if not isinstance(logical_id, str) or not LOGICAL_ID.match(logical_id):
                bad((section, str(logical_id)), "logical ids must be alphanumeric (A-Za-z0-9)")


def _check_resource(template: Template, path: Path, resource: Any, bad: Report) -> None:
    if not isinstance(resource, dict):
        bad(path, "a resource must be a mapping with a Type")
        return
    kind = resource.get("Type")
    if not isinstance(kind, str) or not kind:
        bad((*path, "Type"), "every resource needs a Type")
    for key in resource:
        if key not in RESOURCE_KEYS:
            bad((*path, key), f"unknown resource attribute {key!r}")
    if "Properties" in resource and not isinstance(resource["Properties"], dict | None):
        bad((*path, "Properties"), "must be a mapping")
    depends = resource.get("DependsOn", [])
    names = [depends] if isinstance(depends, str) else depends
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        bad((*path, "DependsOn"), "must be a logical id or a list of logical ids")
    policy = resource.get("DeletionPolicy", "Delete")
    if policy not in DELETION_POLICIES:
        bad((*path, "DeletionPolicy"), f"must be one of {sorted(DELETION_POLICIES)}")
    condition = resource.get("Condition")
    if condition is not None and condition not in template.conditions:
        bad((*path, "Condition"), f"unknown condition {condition!r}")


def _check_parameters_and_outputs(template: Template, bad: Report) -> None:
    for name, parameter in template.parameters.items():
        if not isinstance(parameter, dict) or "Type" not in parameter:
            bad(("Parameters", name, "Type"), "every parameter needs a Type")
    for name, output in template.outputs.items():
        if not isinstance(output, dict) or "Value" not in output:
            bad(("Outputs", name, "Value"), "every output needs a Value")
        elif (cond := output.get("Condition")) is not None and cond not in template.conditions:
            bad(("Outputs", name, "Condition"), f"unknown condition {cond!r}")


def depends_on(resource: JSON) -> list[str]:
    value = resource.get("DependsOn") or []
    return [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]
