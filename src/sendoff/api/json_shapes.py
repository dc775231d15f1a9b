"""Checking JSON request members against the Coral-style constraints AWS reports.

``N validation errors detected: Value 'x' at 'member.path' failed to satisfy constraint:
Member must ...`` is what AWS's JSON protocols answer for model violations; a protocol edge
subclasses :class:`Shape` and names its own error type in ``invalid``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from sendoff.model.json_types import JSON

# Jackson's default StreamReadConstraints (the parser behind AWS's JSON front ends) allow
# 1000 levels. Python's parser gives up (RecursionError) a little before that, and at a
# different depth in the API than in a worker further down the stack: an Event payload
# nested 977 levels was accepted, then failed in the worker's handler for good. sendoff
# refuses bodies nested deeper than MAX_DEPTH, so what it accepts, it can process.
MAX_DEPTH = 900
TOO_DEEP = f"Document nesting depth exceeds the maximum allowed ({MAX_DEPTH})"

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]")
_LEAF = re.compile(rb"\[\]|\{\}")


class NotJson(ValueError):
    """The body is not JSON that sendoff can read (syntax, encoding or nesting)."""


def parse_json(raw: bytes | str) -> Any:
    """``json.loads`` for request bodies: every failure, nesting too deep for Python's
    parser included (a RecursionError, not a ValueError), is a :class:`NotJson`."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise NotJson(TOO_DEEP) from None
    except ValueError as exc:
        raise NotJson(str(exc)) from None
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if deeper_than(data, MAX_DEPTH):
        raise NotJson(TOO_DEEP)
    return value


def deeper_than(valid_json: bytes, limit: int) -> bool:
    """Whether a valid JSON text nests more than ``limit`` arrays/objects. Strings are
    dropped first (they may hold brackets), then innermost ``[]``/``{}`` pairs are peeled
    one level per pass, in C: linear in size for shallow texts, cheap for deep ones. Only
    for text ``json.loads`` accepted (every string closed), so the string pattern cannot
    backtrack from an unclosed quote."""
    if valid_json.count(b"[") + valid_json.count(b"{") <= limit:
        return False
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", valid_json))
    for _ in range(limit):
        brackets, peeled = _LEAF.subn(b"", brackets)
        if not brackets or not peeled:
            return False
    return bool(brackets)


def lone_surrogate_path(value: Any, skip: frozenset[str] = frozenset()) -> str | None:
    """The member path of the first string holding a lone UTF-16 surrogate (``"\\ud800"``
    decodes to one; it cannot be encoded, stored or forwarded), or None. Members named in
    ``skip`` are left to their own content checks. Iterative: values may be deep."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode()
            except UnicodeEncodeError:
                return path or "body"
        elif isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str) or key in skip:
                    continue
                if lone_surrogate_path(key) is not None:
                    return f"{path}{key}"
                stack.append((f"{path}.{key}" if path else key, child))
        elif isinstance(item, list):
            stack.extend((f"{path}.{i + 1}", child) for i, child in enumerate(item))
    return None


def maybe_has_surrogate(raw: bytes) -> bool:
    """Cheap pre-check: a lone surrogate can only arrive as a ``\\uD800``-``\\uDFFF`` escape."""
    return b"\\ud" in raw or b"\\uD" in raw


class Shape:
    """Reads request members, collecting AWS-style constraint violations; :meth:`done`
    raises them all at once as ``invalid(message)`` (each protocol names its own error)."""

    invalid: Callable[[str], Exception] = ValueError
    # a protocol whose front end refuses a member of the wrong JSON type before checking
    # constraints (Lambda) names that error here; None: type errors join the others
    wrong_type: Callable[[str], Exception] | None = None

    def __init__(self, body: JSON, path: str = "") -> None:
        self.body = body
        self.path = path
        self.errors: list[str] = []
        self.type_errors: list[str] = []

    def _where(self, name: str) -> str:
        member = name[0].lower() + name[1:]
        return f"{self.path}{member}"

    def _fail(self, value: object, name: str, constraint: str) -> None:
        if self.wrong_type is not None and constraint.startswith(("be a ", "be an ")):
            self.type_errors.append(f"'{self._where(name)}' must {constraint}")
            return
        shown = "null" if value is None else value
        self.errors.append(
            f"Value '{shown}' at '{self._where(name)}' failed to satisfy constraint: "
            f"Member must {constraint}"
        )

    def string(
        self,
        name: str,
        *,
        required: bool = False,
        min_len: int = 0,
        max_len: int | None = None,
        pattern: str | None = None,
        allowed: list[str] | None = None,
    ) -> str | None:
        value = self.body.get(name)
        if value is None:
            if required:
                self._fail(None, name, "not be null")
            return None
        if not isinstance(value, str):
            self._fail(value, name, "be a string")
            return None
        if len(value) < min_len:
            self._fail(value, name, f"have length greater than or equal to {min_len}")
        elif max_len is not None and len(value) > max_len:
            self._fail(value, name, f"have length less than or equal to {max_len}")
        elif pattern is not None and not re.fullmatch(pattern, value):
            self._fail(value, name, f"satisfy regular expression pattern: {pattern}")
        elif allowed is not None and value not in allowed:
            self._fail(value, name, f"satisfy enum value set: [{', '.join(allowed)}]")
            return None
        return value

    def integer(self, name: str, *, low: int, high: int) -> int | None:
        value = self.body.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self._fail(value, name, "be an integer")
            return None
        if value < low:
            self._fail(value, name, f"have value greater than or equal to {low}")
        elif value > high:
            self._fail(value, name, f"have value less than or equal to {high}")
        return value

    def items(self, name: str, *, required: bool = False, max_len: int | None = None) -> list[Any]:
        value = self.body.get(name)
        if value is None:
            if required:
                self._fail(None, name, "not be null")
            return []
        if not isinstance(value, list):
            self._fail(value, name, "be a list")
            return []
        if required and not value:
            self._fail("[]", name, "have length greater than or equal to 1")
        if max_len is not None and len(value) > max_len:
            self._fail(
                f"[{len(value)} items]", name, f"have length less than or equal to {max_len}"
            )
        return value

    def struct(self, name: str) -> Shape | None:
        value = self.body.get(name)
        return None if value is None else self._child(value, name)

    def member(self, name: str, index: int, value: object) -> Shape | None:
        return self._child(value, f"{name}.{index}.member")

    def _child(self, value: object, name: str) -> Shape | None:
        if not isinstance(value, dict):
            self._fail(value, name, "be a structure")
            return None
        child = type(self)(value, f"{self._where(name)}.")
        child.errors = self.errors
        child.type_errors = self.type_errors
        return child

    def done(self) -> None:
        if self.type_errors and self.wrong_type is not None:
            raise type(self).wrong_type(self.type_errors[0])  # type: ignore[misc]
        if self.errors:
            count = len(self.errors)
            noun = "error" if count == 1 else "errors"
            raise type(self).invalid(
                f"{count} validation {noun} detected: " + "; ".join(self.errors)
            )
