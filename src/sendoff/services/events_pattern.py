"""The Amazon EventBridge event-pattern language, as a pure compile-then-match module.

Design
------
``compile_pattern`` validates a pattern once and turns it into an immutable tree: a
``PatternNode`` per JSON object (its fields, plus one tuple of alternatives per ``$or``)
and a ``PatternLeaf`` per value array (its value matchers and any ``exists`` flags).
``EventPattern.matches`` then walks the tree against an event; it never raises.

Validation follows AWS Event Ruler, the engine behind EventBridge: the checks happen in
the same order and each failure carries Ruler's reason text, wrapped as
``Event pattern is not valid. Reason: <reason>``.

Matching semantics (per the EventBridge user guide, "Content filtering in event patterns"):

* Every field in the pattern must match (AND); a leaf matches if any of its values matches
  any of the event's values there (OR). An event array matches if any element does.
* Types never mix: ``"5"`` does not match ``5``, and ``null`` does not match ``""``.
  Numbers compare numerically and exactly (``5 == 5.0 == 5e0``); ``true`` does not match ``1``.
* Only scalars are leaf values. A missing key, an empty array, or an object where the
  pattern expects a leaf all count as absent. ``exists: true`` needs a value there and
  ``exists: false`` needs none. This holds through missing parents too.
* ``anything-but`` matches any *present* value outside its set: ``null``, booleans and
  values of the other type match it, but a missing field does not.
* Arrays of objects are matched one element at a time, like Ruler's ``rulesForJSONEvent``.
  So ``{"a": {"x": [1], "y": [2]}}`` does not match ``{"a": [{"x": 1}, {"y": 2}]}``.
* ``prefix``/``suffix``/``equals-ignore-case``/``wildcard``/``cidr`` only match strings.
  ``numeric`` only matches numbers within +/-5e9. Exact IP strings also match other
  spellings of the same address.

* Keys are paths joined with dots, as in Ruler, which flattens both sides to
  ``detail.state.status``: the pattern ``{"detail": {"state": {"status": [..]}}}`` matches
  an event key spelled ``"state.status"``, and a pattern key ``"state.status"`` matches a
  nested event (recorded from AWS: ``dot_joining_*``). SNS filter policies do the same
  (recorded for MessageBody policies).

Wildcard complexity: AWS refuses some ``wildcard`` operands with "Rule is too complex"
(Ruler's machine-complexity check, a limit AWS does not publish). sendoff refuses an
operand with more than five ``*`` (as moto and LocalStack do): that rejects the recorded
``*:*:*:*:*:event-bus/*`` and accepts every other recorded pattern. A wildcard is matched
in time linear in the value anyway (:class:`~sendoff.services.pattern_match.Wildcard`), so
the limit is for fidelity, not safety.

Malformed JSON is reported with Jackson's wording and location
(:mod:`sendoff.services.json_errors`), as AWS reports it. Validation reasons are Ruler's,
without the `` at [Source: ...]`` location AWS appends to them.

``compile_tree``, ``Dialect`` and ``PatternError`` (here) with the tree and ``match_tree``
(in :mod:`sendoff.services.pattern_match`) form the shared core that
``sendoff.services.sns_filter`` reuses for SNS filter policies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from sendoff.errors import SendoffError
from sendoff.services.json_errors import first_token_end, jackson_error, source_location
from sendoff.services.pattern_match import (
    _IPV4,
    _IPV6,
    AnythingBut,
    Cidr,
    Exact,
    NumericRange,
    PatternLeaf,
    PatternNode,
    Text,
    ValueMatcher,
    Wildcard,
    _ip,
    _number,
    match_tree,
)


class PatternError(SendoffError):
    """A pattern is invalid; ``reason`` is the bare Ruler-style reason text."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message if message is not None else reason)
        self.reason = reason


class InvalidEventPattern(PatternError):
    """An EventBridge event pattern failed validation (AWS InvalidEventPatternException)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, f"Event pattern is not valid. Reason: {reason}")


# --------------------------------------------------------------------------- compiler

_OR: Final = "$or"
# Field names Ruler refuses inside "$or" branches (its RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP).
_RESERVED_IN_OR: Final = frozenset(
    {"exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists", "wildcard"}
    | {"numeric", "cidr", "html", "=", "<", "<=", ">", ">=", "regex", "not-wildcard"}
    | {"not-equals-ignore-case", "date-after", "date-on-or-after", "date-before"}
    | {"date-on-or-before", "in-date-range", "ip-address-in-range", "ip-address-not-in-range"}
)
_TOO_MANY: Final = "Too many elements in numeric expression"
_ONE_KEY: Final = "Only one key allowed in match expression"


@dataclass(frozen=True, kw_only=True, slots=True)
class Dialect:
    """What a pattern language accepts: EventBridge patterns and SNS policies differ here."""

    operators: frozenset[str]
    anything_but_operators: frozenset[str]
    affix_ignore_case: bool
    numeric_limit: Decimal
    numeric_limit_text: str
    decimal_places: int
    dotted_keys: bool = False  # "a.b" in a pattern or event is the path a -> b
    # SNS's Ruler words any non-string anything-but operand "<op> match pattern must be a
    # string"; EventBridge's refuses bools, null and objects as a bad anything-but value
    anything_but_operand_message: bool = False


EVENTBRIDGE: Final = Dialect(
    operators=frozenset(
        {"prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric"}
        | {"exists", "cidr"}
    ),
    anything_but_operators=frozenset({"prefix", "suffix", "equals-ignore-case", "wildcard"}),
    affix_ignore_case=True,
    numeric_limit=Decimal("5E9"),
    numeric_limit_text="5.0E9",
    decimal_places=6,
    dotted_keys=True,
)
_MAX_WILDCARDS: Final = 5
_TOO_COMPLEX: Final = (
    "Rule is too complex - try using fewer wildcard characters or fewer repeating "
    "character sequences after a wildcard character"
)


def _fail(reason: str) -> PatternError:
    return PatternError(reason)


def _token(value: object) -> str:
    """The JSON token text Ruler quotes in 'Invalid member' style messages."""
    if isinstance(value, Mapping):
        return "{"
    if isinstance(value, list | tuple):
        return "["
    if isinstance(value, str):
        return value
    number = _number(value)
    return str(number) if number is not None else json.dumps(value)


def _is_number(value: object) -> bool:
    return _number(value) is not None


def _wildcard(text: str) -> Wildcard:
    """Compile Ruler wildcard syntax: ``*`` is any run; ``\\*`` and ``\\\\`` are literals."""
    pieces: list[str] = []
    piece: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        pos = len(text[:i].encode()) + 1  # Ruler counts UTF-8 bytes of the quoted value
        if char == "*":
            if text[i + 1 : i + 2] == "*":
                raise _fail(f"Consecutive wildcard characters at pos {pos}")
            pieces.append("".join(piece))
            piece = []
        elif char == "\\":
            following = text[i + 1 : i + 2]
            if following not in ("*", "\\"):
                raise _fail(f"Invalid escape character at pos {pos}")
            piece.append(following)
            i += 1
        else:
            piece.append(char)
        i += 1
    pieces.append("".join(piece))
    if len(pieces) - 1 > _MAX_WILDCARDS:
        raise _fail(_TOO_COMPLEX)
    return Wildcard(pieces=tuple(pieces))


def _text(kind: str, text: str, *, ignore_case: bool = False) -> Text | Wildcard:
    """The matcher for a prefix/suffix/equals-ignore-case/wildcard operand."""
    if kind == "wildcard":
        return _wildcard(text)
    body = re.escape(text)
    body = f"{body}.*" if kind == "prefix" else f".*{body}" if kind == "suffix" else body
    case = re.IGNORECASE if ignore_case or kind == "equals-ignore-case" else 0
    return Text(regex=re.compile(body, re.DOTALL | case))


def _cidr(text: str) -> Cidr:
    parts = text.split("/")
    while len(parts) > 1 and parts[-1] == "":  # Java's split drops trailing empty strings
        parts.pop()
    if len(parts) != 2:
        raise _fail("Malformed CIDR, one '/' required")
    if not re.fullmatch(r"[+-]?[0-9]{1,10}", parts[1]) or abs(int(parts[1])) >= 2**31:
        raise _fail("Malformed CIDR, mask bits must be an integer")
    mask = int(parts[1])
    if mask < 0:
        raise _fail("Malformed CIDR, mask bits must not be negative")
    if not (_IPV4.fullmatch(parts[0]) or _IPV6.fullmatch(parts[0])):
        raise _fail(f"Nonstandard IP address: {parts[0]}")
    ip = _ip(parts[0])
    if ip is None:
        raise _fail(f"Invalid IP address: {parts[0]}")
    version, base = ip
    bits = 32 if version == 4 else 128
    if mask >= bits:
        raise _fail(f"IPv{version} mask bits must be < {bits}")
    # Like Ruler, the range starts at the address given, not at the masked network address.
    return Cidr(version=version, low=base, high=base | ((1 << (bits - mask)) - 1))


class _Compiler:
    def __init__(self, dialect: Dialect) -> None:
        self.d = dialect

    def node(self, obj: Mapping[str, object], *, in_or: bool) -> PatternNode:
        if not obj:
            raise _fail("Empty objects are not allowed")
        fields: list[tuple[str, PatternNode | PatternLeaf]] = []
        any_of: list[tuple[PatternNode, ...]] = []
        for key, value in obj.items():
            if key == _OR:
                any_of.append(self.alternatives(value))
                continue
            if in_or and key in _RESERVED_IN_OR:
                raise _fail(f"{key} is Ruler reserved fieldName which cannot be used inside $or.")
            child: PatternNode | PatternLeaf
            if isinstance(value, Mapping):
                child = self.node(value, in_or=in_or)
            elif isinstance(value, list | tuple):
                child = self.leaf(value)
            else:
                raise _fail(f'"{key}" must be an object or an array')
            path = key.split(".") if self.d.dotted_keys else [key]
            if len(path) > 1 and all(path):
                for name in reversed(path[1:]):  # "a.b.c": a -> b -> c
                    child = PatternNode(fields=((name, child),), dotted_keys=True)
                key = path[0]
            fields.append((key, child))
        return PatternNode(
            fields=tuple(fields), any_of=tuple(any_of), dotted_keys=self.d.dotted_keys
        )

    def alternatives(self, value: object) -> tuple[PatternNode, ...]:
        if not isinstance(value, list | tuple):
            raise _fail("It must be an Array followed with $or.")
        branches: list[PatternNode] = []
        for item in value:
            if not isinstance(item, Mapping):
                raise _fail("Only JSON object is allowed in array of $or relationship.")
            branches.append(self.node(item, in_or=True))
        if len(branches) < 2:
            raise _fail("There must have at least 2 Objects in $or relationship.")
        return tuple(branches)

    def leaf(self, values: list[object] | tuple[object, ...]) -> PatternLeaf:
        matchers: list[ValueMatcher] = []
        exists: set[bool] = set()
        for item in values:
            if isinstance(item, Mapping):
                compiled = self.expression(item)
                if isinstance(compiled, bool):
                    exists.add(compiled)
                else:
                    matchers.append(compiled)
            elif isinstance(item, str):
                matchers.append(Exact(value=item, ip=_ip(item)))
            elif item is None or isinstance(item, bool):
                matchers.append(Exact(value=item))
            elif (number := _number(item)) is not None:
                matchers.append(Exact(value=number))
            else:
                raise _fail("Match value must be String, number, true, false, or null")
        if not values:
            raise _fail("Empty arrays are not allowed")
        return PatternLeaf(
            matchers=tuple(matchers), exists_true=True in exists, exists_false=False in exists
        )

    def expression(self, expr: Mapping[str, object]) -> ValueMatcher | bool:
        """One ``{operator: operand}`` entry; a bool result stands for ``exists``."""
        if not expr:
            raise _fail("Match expression name not found")
        name, value = next(iter(expr.items()))
        if name not in self.d.operators:
            raise _fail(f"Unrecognized match type {name}")
        extra = len(expr) > 1
        result: ValueMatcher | bool
        if name in ("prefix", "suffix"):
            result = self.affix(name, value)
        elif name in ("equals-ignore-case", "wildcard"):
            if not isinstance(value, str):
                raise _fail(f"{name} match pattern must be a string")
            result = _text(name, value)
        elif name == "numeric":
            if not isinstance(value, list | tuple):
                raise _fail("Value of numeric must be an array.")
            result = self.numeric(list(value))
        elif name == "anything-but":
            result = self.anything_but(value)
        elif name == "exists":
            if not isinstance(value, bool):
                raise _fail("exists match pattern must be either true or false.")
            result = value
        else:  # cidr; Ruler reports a non-string with the prefix message
            if not isinstance(value, str):
                raise _fail("prefix match pattern must be a string")
            result = _cidr(value)
        if extra:  # Ruler words this one oddly for numeric and anything-but
            raise _fail(_TOO_MANY if name in ("numeric", "anything-but") else _ONE_KEY)
        return result

    def affix(self, name: str, value: object) -> ValueMatcher:
        if isinstance(value, Mapping) and self.d.affix_ignore_case:
            if not value:
                raise _fail(f"{name.capitalize()} expression name not found")
            op, inner = next(iter(value.items()))
            if op != "equals-ignore-case":
                raise _fail(f"Unsupported {name} pattern: {op}")
            if not isinstance(inner, str):
                raise _fail("equals-ignore-case match pattern must be a string")
            if len(value) > 1:
                raise _fail(_ONE_KEY)
            return _text(name, inner, ignore_case=True)
        if not isinstance(value, str):
            raise _fail(f"{name} match pattern must be a string")
        return _text(name, value)

    def checked(self, value: object) -> Decimal:
        """A numeric operand, held to the dialect's range and precision."""
        number = _number(value)
        assert number is not None
        exponent = number.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > self.d.decimal_places:
            raise _fail(f"Only values upto {self.d.decimal_places} decimals are supported")
        if abs(number) > self.d.numeric_limit:
            limit = self.d.numeric_limit_text
            raise _fail(f"Value must be between -{limit} and {limit}, inclusive")
        return number

    def numeric(self, items: list[object]) -> ValueMatcher:
        if not items or not isinstance(items[0], str):
            raise _fail(f"Invalid member in numeric match: {_token(items[0]) if items else ']'}")
        op, rest = items[0], items[1:]
        if op not in ("=", "<", "<=", ">", ">="):
            raise _fail(f"Unrecognized numeric range operator: {op}")
        if not rest or not _is_number(rest[0]):
            raise _fail(f"Value of {'equals' if op == '=' else op} must be numeric")
        limit = self.d.numeric_limit
        if op == "=":
            if len(rest) > 1:
                raise _fail(_TOO_MANY)
            return Exact(value=self.checked(rest[0]))
        if op in ("<", "<="):
            if len(rest) > 1:
                raise _fail(_TOO_MANY)
            return self.bounded(-limit, False, _number(rest[0]), op == "<")
        if len(rest) == 1:
            return self.bounded(_number(rest[0]), op == ">", limit, False)
        top_op = rest[1]
        if not isinstance(top_op, str):
            raise _fail(f"Bad value in numeric range: {_token(top_op)}")
        if top_op not in ("<", "<="):
            raise _fail(f"Bad numeric range operator: {top_op}")
        if len(rest) < 3 or not _is_number(rest[2]):
            raise _fail(f"Value of {top_op} must be numeric")
        if len(rest) > 3:
            raise _fail("Too many terms in numeric range expression")
        return self.bounded(_number(rest[0]), op == ">", _number(rest[2]), top_op == "<")

    def bounded(
        self, low: Decimal | None, low_open: bool, high: Decimal | None, high_open: bool
    ) -> NumericRange:
        assert low is not None and high is not None
        if low >= high:
            raise _fail("Bottom must be less than top")
        return NumericRange(
            low=self.checked(low), low_open=low_open, high=self.checked(high), high_open=high_open
        )

    def anything_but(self, value: object) -> ValueMatcher:
        if isinstance(value, Mapping):
            if not value:
                raise _fail("Anything-But expression name not found")
            op, inner = next(iter(value.items()))
            if op not in self.d.anything_but_operators:
                raise _fail(f"Unsupported anything-but pattern: {op}")
            if self.d.anything_but_operand_message and not isinstance(inner, str):
                raise _fail(f"{op} match pattern must be a string")
            if not isinstance(inner, str | list | tuple) and not _is_number(inner):
                raise _fail("Value of anything-but must be an array or single string/number value.")
            items = list(inner) if isinstance(inner, list | tuple) else [inner]
            excluded = tuple(self.excluded(op, item) for item in items)
            if len(value) > 1:
                raise _fail(_TOO_MANY)
            return AnythingBut(excluded=excluded)
        if isinstance(value, str):
            return AnythingBut(excluded=(Exact(value=value),))
        if _is_number(value):
            return AnythingBut(excluded=(Exact(value=self.checked(value)),))
        if not isinstance(value, list | tuple):
            raise _fail("Value of anything-but must be an array or single string/number value.")
        values: list[Exact] = []
        for item in value:
            if not isinstance(item, str) and not _is_number(item):
                raise _fail("Inside anything but list, start|null|boolean is not supported.")
            values.append(Exact(value=item if isinstance(item, str) else self.checked(item)))
        if len({isinstance(e.value, str) for e in values}) != 1:
            raise _fail(
                "Inside anything but list, either all values are number or string, "
                "mixed type is not supported"
            )
        return AnythingBut(excluded=tuple(values))

    def excluded(self, op: str, item: object) -> ValueMatcher:
        if not isinstance(item, str):
            if op == "equals-ignore-case":
                raise _fail(
                    "Inside anything-but/equals-ignore-case list, "
                    "number|start|null|boolean is not supported."
                )
            if op == "wildcard":
                raise _fail("wildcard match pattern must be a string")
            raise _fail("prefix/suffix match pattern must be a string")
        if not item and op in ("prefix", "suffix"):
            raise _fail("Null prefix/suffix not allowed")
        return _text(op, item)


def compile_tree(pattern: Mapping[str, object], dialect: Dialect) -> PatternNode:
    """Validate a decoded pattern object under ``dialect``; raises bare ``PatternError``."""
    return _Compiler(dialect).node(pattern, in_or=False)


def _reject_constant(name: str) -> object:
    raise ValueError(f"Non-standard JSON token '{name}' is not allowed")


def load_json(text: str | bytes) -> object:
    """Decode JSON keeping decimals exact and refusing NaN/Infinity (raises ValueError)."""
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True, kw_only=True, slots=True)
class EventPattern:
    """A validated EventBridge event pattern."""

    root: PatternNode

    def matches(self, event: Mapping[str, object]) -> bool:
        """Whether the (decoded JSON) event matches this pattern."""
        return match_tree(self.root, event)


def compile_pattern(pattern: str | bytes | Mapping[str, object]) -> EventPattern:
    """Validate an event pattern (JSON text or decoded object) and compile it."""
    text: str | None = None
    if isinstance(pattern, str | bytes):
        text = pattern.decode(errors="replace") if isinstance(pattern, bytes) else pattern
        try:
            pattern_obj = load_json(text)
        except (ValueError, RecursionError) as exc:
            fault = jackson_error(text)
            reason = fault.located(source_location(text)) if fault is not None else str(exc)
            raise InvalidEventPattern(reason) from None
    else:
        pattern_obj = pattern
    if not isinstance(pattern_obj, Mapping):
        reason = "Filter is not an object"
        if text is not None:
            line, column = first_token_end(text)
            reason += f"\n at [Source: {source_location(text)}; line: {line}, column: {column}]"
        raise InvalidEventPattern(reason)
    try:
        return EventPattern(root=compile_tree(pattern_obj, EVENTBRIDGE))
    except PatternError as exc:
        raise InvalidEventPattern(exc.reason) from None


def matches(
    pattern: EventPattern | str | Mapping[str, object],
    event: Mapping[str, object],
) -> bool:
    """Compile ``pattern`` if needed and test ``event`` against it."""
    compiled = pattern if isinstance(pattern, EventPattern) else compile_pattern(pattern)
    return compiled.matches(event)
