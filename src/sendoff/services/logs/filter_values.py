"""What the three filter-pattern syntaxes share: the parsed pattern, values and their
comparison, and a small tokenizer. Pure functions; see :mod:`.filter_pattern`."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sendoff.store.base import AllOf, Prefilter


class InvalidFilterPattern(ValueError):
    """The pattern's text is not a filter pattern."""


Matcher = Callable[[str], bool]


@dataclass(frozen=True)
class FilterPattern:
    text: str
    match: Matcher
    prefilter: Prefilter | None = field(default=None)
    """What every message this pattern matches satisfies (None: nothing known)."""
    exact: bool = False
    """The prefilter says all: a message satisfying it matches (terms without ``-`` or
    ``%regex%``), so a store's answer needs no second look."""


def all_of(parts: list[Prefilter]) -> Prefilter | None:
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


# --------------------------------------------------------------------------- values

MISSING: Any = object()


@dataclass(frozen=True)
class Value:
    """The right-hand side of a comparison."""

    text: str
    number: float | None  # the value read as a number, when it is one (and unquoted)
    quoted: bool

    @property
    def wildcard(self) -> bool:
        return "*" in self.text

    def literal(self) -> str | None:
        """A substring a matching message surely contains (plain ASCII, no wildcard; not
        a bare number, which JSON may spell another way: 200 as 2e2)."""
        if (
            (self.number is not None and not self.quoted)
            or self.wildcard
            or self.text == ""
            or not re.fullmatch(r"[A-Za-z0-9_.:@ -]+", self.text)
        ):
            return None
        return self.text


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _string_equal(actual: str, value: Value) -> bool:
    if value.wildcard:
        return _glob(value.text.split("*"), actual)
    return actual == value.text


def _glob(parts: list[str], text: str) -> bool:
    """``*`` wildcards (``parts`` is the value split at them), matched greedily left to
    right: linear in the text, where a regular expression could backtrack for ages."""
    head, *middle, tail = parts
    if not text.startswith(head) or len(text) < len(head) + len(tail):
        return False
    position, end = len(head), len(text) - len(tail)
    for part in middle:
        found = text.find(part, position, end)
        if found < 0:
            return False
        position = found + len(part)
    return text.endswith(tail)


def compare(actual: Any, op: str, value: Value) -> bool:
    """One comparison of a field's value (``MISSING`` when absent) with a pattern value."""
    if actual is MISSING or isinstance(actual, dict | list):
        return False
    if op in ("<", ">", "<=", ">="):
        if value.number is None or isinstance(actual, bool):
            return False
        number = actual if isinstance(actual, int | float) else _number(str(actual))
        if number is None:
            return False
        return {"<": number < value.number, ">": number > value.number,
                "<=": number <= value.number, ">=": number >= value.number}[op]  # fmt: skip
    if isinstance(actual, bool) or actual is None:
        text = json.dumps(actual)
        equal = text == value.text and not value.quoted
    elif isinstance(actual, int | float):
        equal = value.number is not None and float(actual) == value.number
        if not equal and value.wildcard:
            equal = _string_equal(json.dumps(actual), value)
    else:
        equal = _string_equal(str(actual), value)
    return equal if op == "=" else not equal


class Tokens:
    def __init__(self, source: str, regex: re.Pattern[str]) -> None:
        self.items: list[tuple[str, str]] = []
        pos = 0
        while pos < len(source):
            if source[pos:].strip() == "":
                break
            m = regex.match(source, pos)
            if m is None or m.end() == pos:
                raise InvalidFilterPattern(
                    f"Invalid character(s) in filter pattern at '{source[pos:]}'"
                )
            kind = m.lastgroup
            assert kind is not None
            self.items.append((kind, m.group(kind)))
            pos = m.end()
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def take(self, kind: str | None = None) -> tuple[str, str]:
        item = self.peek()
        if item is None or (kind is not None and item[0] != kind):
            found = "the end" if item is None else f"'{item[1]}'"
            raise InvalidFilterPattern(f"Unexpected {found} in filter pattern")
        self.pos += 1
        return item


def read_value(tokens: Tokens) -> Value:
    kind, text = tokens.take()
    if kind == "string":
        inner = unescape(text[1:-1])
        return Value(inner, None, True)
    if kind in ("word", "selector"):
        return Value(text, _number(text), False)
    raise InvalidFilterPattern(f"Expected a value, not '{text}'")
