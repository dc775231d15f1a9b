"""The JSONPath subset EventBridge takes in ``InputPath`` and ``InputPathsMap``.

Accepted: ``$`` followed by steps ``.name``, ``['name']``, ``["name"]`` and ``[index]``
(``$.detail.order-id``, ``$.resources[0]``, ``$['detail']['a.b']``). Wildcards, slices,
filters and recursive descent (``*``, ``[1:2]``, ``[?...]``, ``..``) are rejected with a reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

MISSING: Final = object()
"""What :meth:`JsonPath.select` answers when the path leads nowhere."""

_NAME: Final = re.compile(r"[^.\[\]]+")
_INDEX: Final = re.compile(r"\[(\d+)\]")
_QUOTED: Final = re.compile(r"""\[(?:'([^']*)'|"([^"]*)")\]""")


class PathError(ValueError):
    """The text is not a JSONPath this subset understands; ``str()`` is the reason."""


@dataclass(frozen=True, slots=True)
class JsonPath:
    text: str
    steps: tuple[str | int, ...]

    def select(self, value: object) -> object:
        """The value at this path, or :data:`MISSING`."""
        for step in self.steps:
            if isinstance(step, int):
                if not isinstance(value, Sequence) or isinstance(value, str | bytes):
                    return MISSING
                if step >= len(value):
                    return MISSING
                value = value[step]
            else:
                if not isinstance(value, Mapping) or step not in value:
                    return MISSING
                value = value[step]
        return value


def parse_path(text: str) -> JsonPath:
    if not text.startswith("$"):
        raise PathError(f"JSONPath {text!r} must start with '$'")
    steps: list[str | int] = []
    pos = 1
    while pos < len(text):
        if text.startswith("..", pos):
            raise PathError(f"recursive descent '..' is not supported in {text!r}")
        if text[pos] == ".":
            match = _NAME.match(text, pos + 1)
            if match is None:
                raise PathError(f"expected a field name at offset {pos + 1} of {text!r}")
            name = match.group(0)
            if name == "*":
                raise PathError(f"wildcards are not supported in {text!r}")
            steps.append(name)
            pos = match.end()
        elif match := _INDEX.match(text, pos):
            steps.append(int(match.group(1)))
            pos = match.end()
        elif match := _QUOTED.match(text, pos):
            steps.append(match.group(1) if match.group(1) is not None else match.group(2))
            pos = match.end()
        else:
            raise PathError(f"unsupported JSONPath syntax at offset {pos} of {text!r}")
    return JsonPath(text=text, steps=tuple(steps))
