"""The matching core shared by EventBridge event patterns and SNS filter policies.

A compiled pattern is an immutable tree: a :class:`PatternNode` per JSON object (its fields,
plus one tuple of alternatives per ``$or``) and a :class:`PatternLeaf` per value array (its
value matchers and any ``exists`` flags). :func:`match_tree` walks it against an event and
never raises. The compilers (``events_pattern``, ``sns_filter``) build the trees; the
semantics are documented in :mod:`sendoff.services.events_pattern`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Final, Protocol

# --------------------------------------------------------------------------- values

_MISSING: Final = object()
_EMPTY: Final[Mapping[str, object]] = MappingProxyType({})
_IPV4: Final = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_IPV6: Final = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*")


def _number(value: object) -> Decimal | None:
    """The exact numeric value of a JSON number (never of a bool), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal) and value.is_finite():
        return value
    return None


def _ip(text: str) -> tuple[int, int] | None:
    """(version, integer) of an IP literal as Ruler recognises one, else None."""
    if not (_IPV4.fullmatch(text) or _IPV6.fullmatch(text)):
        return None
    try:
        addr: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.version, int(addr)


def _flatten(values: list[object] | tuple[object, ...]) -> Iterator[object]:
    for item in values:
        if isinstance(item, list | tuple):
            yield from _flatten(item)
        else:
            yield item


def _leaf_values(value: object) -> list[object]:
    """The scalars an event holds at a leaf path: arrays flattened, objects dropped."""
    if value is _MISSING or isinstance(value, Mapping):
        return []
    if isinstance(value, list | tuple):
        return [v for v in _flatten(value) if not isinstance(v, Mapping)]
    return [value]


# --------------------------------------------------------------------------- matchers


class ValueMatcher(Protocol):
    """One compiled entry of a pattern value array, tested against one event scalar."""

    def test(self, value: object) -> bool: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class Exact:
    """A literal: strings (and IP spellings), numbers by value, or true/false/null."""

    value: str | Decimal | bool | None
    ip: tuple[int, int] | None = None

    def test(self, value: object) -> bool:
        if isinstance(self.value, str):
            if not isinstance(value, str):
                return False
            return value == self.value or (self.ip is not None and _ip(value) == self.ip)
        if isinstance(self.value, Decimal):
            return _number(value) == self.value
        return value is self.value


@dataclass(frozen=True, kw_only=True, slots=True)
class Text:
    """prefix / suffix / equals-ignore-case / wildcard, all compiled to one full-match regex."""

    regex: re.Pattern[str]

    def test(self, value: object) -> bool:
        return isinstance(value, str) and self.regex.fullmatch(value) is not None


@dataclass(frozen=True, kw_only=True, slots=True)
class Wildcard:
    """Ruler's ``wildcard``: literal pieces with any run (``*``) between them.

    Matched without a regex, in time linear in the value: the first piece must start the
    value and the last end it; each piece between is found leftmost after the previous
    one (leftmost is always right when the only wildcard is ``*``). A backtracking regex
    for ``*a*a*a*a*b`` took seconds on a 250-character value and held the event loop.
    """

    pieces: tuple[str, ...]
    """The literals around the stars: ``a*b*c`` is ``("a", "b", "c")``; no star, one piece."""

    def test(self, value: object) -> bool:
        return isinstance(value, str) and glob_match(self.pieces, value)


def glob_match(pieces: tuple[str, ...], value: str) -> bool:
    if len(pieces) == 1:
        return value == pieces[0]
    first, last = pieces[0], pieces[-1]
    end = len(value) - len(last)
    if end < len(first) or not value.startswith(first) or not value.endswith(last):
        return False
    position = len(first)
    for piece in pieces[1:-1]:
        found = value.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


@dataclass(frozen=True, kw_only=True, slots=True)
class AnythingBut:
    """Any present value none of ``excluded`` matches (so null, bools, other types pass)."""

    excluded: tuple[ValueMatcher, ...]

    def test(self, value: object) -> bool:
        return not any(m.test(value) for m in self.excluded)


@dataclass(frozen=True, kw_only=True, slots=True)
class NumericRange:
    low: Decimal
    low_open: bool
    high: Decimal
    high_open: bool

    def test(self, value: object) -> bool:
        n = _number(value)
        if n is None:
            return False
        above = n > self.low if self.low_open else n >= self.low
        below = n < self.high if self.high_open else n <= self.high
        return above and below


@dataclass(frozen=True, kw_only=True, slots=True)
class Cidr:
    version: int
    low: int
    high: int

    def test(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        ip = _ip(value)
        return ip is not None and ip[0] == self.version and self.low <= ip[1] <= self.high


# --------------------------------------------------------------------------- tree


@dataclass(frozen=True, kw_only=True, slots=True)
class PatternLeaf:
    """A pattern value array: matches if any entry matches any value at the path."""

    matchers: tuple[ValueMatcher, ...]
    exists_true: bool = False
    exists_false: bool = False

    def test(self, value: object) -> bool:
        values = _leaf_values(value)
        if not values:
            return self.exists_false
        return self.exists_true or any(m.test(v) for v in values for m in self.matchers)


@dataclass(frozen=True, kw_only=True, slots=True)
class PatternNode:
    """A pattern object: every field must match and, per ``$or``, some alternative must."""

    fields: tuple[tuple[str, PatternNode | PatternLeaf], ...]
    any_of: tuple[tuple[PatternNode, ...], ...] = ()
    dotted_keys: bool = False
    """EventBridge: an event key ``"a.b"`` also counts as the path a -> b (Ruler joins
    every path with dots). Pattern keys were split when compiled."""


def match_tree(node: PatternNode, value: object) -> bool:
    """Whether ``value`` (an event, or part of one) satisfies ``node``."""
    if isinstance(value, Mapping):
        return _match_mapping(node, value)
    if isinstance(value, list | tuple):
        objects = [v for v in _flatten(value) if isinstance(v, Mapping)]
        if objects:
            return any(_match_mapping(node, obj) for obj in objects)
    return _match_mapping(node, _EMPTY)


def _match_mapping(node: PatternNode, event: Mapping[str, object]) -> bool:
    for key, child in node.fields:
        sub = event.get(key, _MISSING)
        if node.dotted_keys and isinstance(child, PatternNode):
            sub = _with_dotted(event, key, sub)
        ok = child.test(sub) if isinstance(child, PatternLeaf) else match_tree(child, sub)
        if not ok:
            return False
    return all(any(_match_mapping(alt, event) for alt in group) for group in node.any_of)


def _with_dotted(event: Mapping[str, object], key: str, sub: object) -> object:
    """``sub`` (the event's value at ``key``), with the event's ``"key.rest"`` entries
    added as ``rest``: the object a pattern node at ``key`` sees. Unchanged when the
    event spells no key that way (the usual case: one pass over the keys, no copy)."""
    start = key + "."
    dotted = {k[len(start) :]: v for k, v in event.items() if k.startswith(start)}
    if not dotted or not (sub is _MISSING or isinstance(sub, Mapping)):
        return sub
    merged: dict[str, object] = dict(sub) if isinstance(sub, Mapping) else {}
    for rest, value in dotted.items():
        merged[rest] = [merged[rest], value] if rest in merged else value
    return merged
