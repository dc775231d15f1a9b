"""What a target receives: the event, a constant ``Input``, an ``InputPath`` selection, or an
``InputTransformer`` rendering. Pure functions; no I/O.

Input transformer rules (EventBridge user guide, "Transforming target input"):

* ``InputPathsMap`` names variables (JSONPath into the event); ``InputTemplate`` uses them
  as ``<name>``, alongside the predefined ``<aws.events.rule-arn>``,
  ``<aws.events.rule-name>``, ``<aws.events.event.ingestion-time>``, ``<aws.events.event>``
  (the event without ``detail``, AWS-recorded as ``id, account, detailType, time, source,
  region, resources, version``: note ``detailType``) and ``<aws.events.event.json>`` (the
  whole event).
* A template starting with ``{`` or ``[`` is a JSON template. There, a placeholder outside
  quotes is replaced by the value as JSON (strings get quotes: ``{"s": <state>}`` gives
  ``{"s": "RUNNING"}``); a placeholder inside quotes is replaced by the bare value, not
  escaped (``"id <id>"`` gives ``"id i-123"``).
* Any other template is text (including a quoted string like ``"<a> is <b>"``): every
  placeholder is replaced by the bare value, and the text is sent as is, quotes included.
* In a text template, objects and arrays lose their quotes (``{key1:value1}``, ``[A,B]``),
  as AWS does.
* A JSON template must render to JSON. An object or array placed inside quotes
  (``{"p": "<payload>"}``), or a value whose characters break the string, does not, and
  AWS then delivers nothing to that target, silently (recorded from AWS:
  test_input_transformer_nested_keys_replacement_not_valid): :func:`render_input` answers
  None.
* A path that matches nothing gives an empty string, ``""`` where JSON is expected
  (AWS-recorded: ``{"command": <command>}`` with no such field gives ``{"command": ""}``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sendoff.services.events.errors import ValidationFailed
from sendoff.services.events.model import Target
from sendoff.services.events.paths import MISSING, PathError, parse_path

PREDEFINED: Final = frozenset(
    {
        "aws.events.rule-arn",
        "aws.events.rule-name",
        "aws.events.event.ingestion-time",
        "aws.events.event",
        "aws.events.event.json",
    }
)
_PLACEHOLDER: Final = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_PATH_KEY: Final = re.compile(r"[A-Za-z0-9_\-]+")
MAX_PATHS: Final = 100
# <aws.events.event>: (name in the template's output, key in the event), in AWS's order
_EVENT_FIELDS: Final = (
    ("id", "id"),
    ("account", "account"),
    ("detailType", "detail-type"),
    ("time", "time"),
    ("source", "source"),
    ("region", "region"),
    ("resources", "resources"),
    ("version", "version"),
)


def compact(value: object) -> str:
    """JSON as EventBridge sends it: no spaces, UTF-8 left as is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, kw_only=True)
class Delivered:
    """Facts about the event being routed, for the predefined template variables."""

    event: Mapping[str, Any]
    rule_arn: str
    rule_name: str
    ingestion_time: str


# --------------------------------------------------------------------------- validation


def validate_target_input(target: Target) -> None:
    """Raise :class:`ValidationFailed` if the target's input settings cannot work."""
    given = [
        name
        for name, value in (
            ("Input", target.input),
            ("InputPath", target.input_path),
            ("InputTransformer", target.input_transformer),
        )
        if value is not None
    ]
    if len(given) > 1:
        raise ValidationFailed(
            f"Only one of Input, InputPath, or InputTransformer must be provided for target "
            f"{target.id}."
        )
    if target.input is not None:
        try:
            json.loads(target.input)
        except (ValueError, RecursionError) as exc:
            raise ValidationFailed(
                f"Parameter Input is not valid for target {target.id}. "
                f"Reason: Input is not valid JSON: {exc}"
            ) from None
    if target.input_path is not None:
        _check_path(target.id, "InputPath", target.input_path)
    if target.input_transformer is not None:
        _validate_transformer(target)


def _check_path(target_id: str, name: str, text: str) -> None:
    try:
        parse_path(text)
    except PathError as exc:
        raise ValidationFailed(
            f"Parameter {name} is not valid for target {target_id}. Reason: {exc}"
        ) from None


def _validate_transformer(target: Target) -> None:
    transformer = target.input_transformer
    assert transformer is not None
    if len(transformer.paths) > MAX_PATHS:
        raise ValidationFailed(
            f"InputPathsMap for target {target.id} has more than {MAX_PATHS} entries."
        )
    for key, path in transformer.paths.items():
        if not _PATH_KEY.fullmatch(key):
            raise ValidationFailed(
                f"InputPathsMap for target {target.id} has an invalid key {key!r}: keys "
                "must match [A-Za-z0-9_-]+."
            )
        _check_path(target.id, f"InputPathsMap[{key}]", path)
    for name in _PLACEHOLDER.findall(transformer.template):
        if name not in transformer.paths and name not in PREDEFINED:
            raise ValidationFailed(
                f"InputTemplate for target {target.id} contains invalid placeholder {name}."
            )
    if _is_json_template(transformer.template):
        sample = _render_template(transformer.template, lambda name: "x")
        try:
            json.loads(sample)
        except (ValueError, RecursionError) as exc:
            raise ValidationFailed(
                f"InputTemplate for target {target.id} is not valid JSON once its placeholders "
                f"are filled in: {exc}"
            ) from None


# --------------------------------------------------------------------------- rendering


def render_input(target: Target, delivered: Delivered) -> str | None:
    """The text the target receives for one matched event; None when an input template
    renders to invalid JSON (AWS then skips the target)."""
    if target.input is not None:
        return target.input
    if target.input_path is not None:
        selected = parse_path(target.input_path).select(delivered.event)
        return compact(None if selected is MISSING else selected)
    if target.input_transformer is not None:
        variables: dict[str, object] = {
            name: parse_path(path).select(delivered.event)
            for name, path in target.input_transformer.paths.items()
        }
        variables.update(_predefined(delivered))
        template = target.input_transformer.template
        text = _render_template(template, lambda name: variables.get(name, MISSING))
        if _is_json_template(template):
            try:
                json.loads(text)
            except (ValueError, RecursionError):
                return None
        return text
    return compact(delivered.event)


def _predefined(delivered: Delivered) -> dict[str, object]:
    event = delivered.event
    return {
        "aws.events.rule-arn": delivered.rule_arn,
        "aws.events.rule-name": delivered.rule_name,
        "aws.events.event.ingestion-time": delivered.ingestion_time,
        "aws.events.event": {name: event[key] for name, key in _EVENT_FIELDS if key in event},
        "aws.events.event.json": dict(event),
    }


def _is_json_template(template: str) -> bool:
    return template.lstrip()[:1] in ("{", "[")


def _render_template(template: str, lookup: Callable[[str], object]) -> str:
    json_mode = _is_json_template(template)
    out: list[str] = []
    in_string = False
    pos = 0
    while pos < len(template):
        char = template[pos]
        if char == "<":
            match = _PLACEHOLDER.match(template, pos)
            if match is not None:
                value = lookup(match.group(1))
                if not json_mode:
                    out.append(_bare(value))
                elif in_string:  # as is: an object or array here breaks the JSON
                    out.append(_inside_string(value))
                else:
                    out.append(_as_json(value))
                pos = match.end()
                continue
        if char == "\\" and in_string:
            out.append(template[pos : pos + 2])
            pos += 2
            continue
        if char == '"':
            in_string = not in_string
        out.append(char)
        pos += 1
    return "".join(out)


def _bare(value: object) -> str:
    if value is MISSING:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return compact(value).replace('"', "")
    return compact(value)


def _inside_string(value: object) -> str:
    if value is MISSING:
        return ""
    return value if isinstance(value, str) else compact(value)


def _as_json(value: object) -> str:
    return '""' if value is MISSING else compact(value)
