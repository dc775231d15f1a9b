"""CloudWatch Logs filter patterns: parse once, match many messages. Pure functions.

Three syntaxes, picked by the first character (AWS's "Filter pattern syntax for metric
filters, subscription filters and filter log events"):

* terms (unstructured text): ``ERROR`` (every plain term must occur, case-sensitive),
  ``"Failed to"`` (a quoted phrase), ``?ERROR ?WARN`` (at least one of the ``?`` terms),
  ``ERROR -Retry`` (and none of the ``-`` terms), ``%regex%`` (a regular expression).
  An empty pattern (or ``""``) matches every event.
* JSON, ``{ ... }``: ``$.a.b[0]`` selectors compared with ``= != < > <= >=`` to strings
  (quoted, or bare with ``*`` wildcards) and numbers; ``IS NULL``, ``IS TRUE``,
  ``IS FALSE``, ``EXISTS``, ``NOT EXISTS``; combined with ``&&``, ``||`` and parentheses.
  A message that is not a JSON object as a whole is looked at from its first ``{`` (the
  tab-separated prefix of a Lambda runtime's log line), and otherwise never matches.
* space-delimited, ``[ ... ]``: names one field per whitespace-separated word of the
  message (``"quoted"`` and ``[bracketed]`` words count as one), ``...`` for any number
  of words, and conditions on fields: ``[ip, user, ..., status = 404, size > 1000]``,
  ``status = 4*``, ``status = 404 || status = 410``.

:func:`parse` raises :class:`InvalidFilterPattern` on text it cannot read.
:attr:`FilterPattern.prefilter` is what every matching message satisfies (substrings it
must contain, JSON values it must hold), so a store can discard most lines before Python
looks at them (:data:`sendoff.store.base.Prefilter`). Substrings come only from literals
a matching message surely contains as written: plain terms and quoted phrases, and
JSON string values of plain ASCII (a JSON encoder escapes nothing in those).
"""

from __future__ import annotations

import importlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sendoff.store.base import AllOf, AnyOf, Contains, JsonTest, Prefilter

__all__ = ["FilterPattern", "InvalidFilterPattern", "parse"]


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


def parse(text: str | None) -> FilterPattern:
    source = (text or "").strip()
    if source in ("", '""'):
        return FilterPattern(source, lambda _message: True)
    if source.startswith("{"):
        return _parse_json(source)
    if source.startswith("["):
        return _parse_delimited(source)
    return _parse_terms(source)


# --------------------------------------------------------------------------- terms

_TERM = re.compile(r'\s*([?-]?)(?:"((?:[^"\\]|\\.)*)"|%((?:[^%\\]|\\.)+)%|([^\s"]+))')


def _parse_terms(source: str) -> FilterPattern:
    plain: list[Matcher] = []
    optional: list[Matcher] = []
    excluded: list[Matcher] = []
    required: list[Prefilter] = []
    alternatives: list[Prefilter] | None = []
    pos = 0
    while pos < len(source):
        if source[pos:].strip() == "":
            break
        m = _TERM.match(source, pos)
        if m is None:
            raise InvalidFilterPattern(f"Invalid character(s) in term '{source[pos:]}'")
        pos = m.end()
        sign, quoted, regex, bare = m.groups()
        if regex is not None:
            matcher = _regex_matcher(regex)
            literal = None
        else:
            literal = _unescape(quoted) if quoted is not None else bare
            if literal == "":
                continue
            matcher = _contains(literal)
        if sign == "?":
            optional.append(matcher)
            if alternatives is not None:
                alternatives = None if literal is None else [*alternatives, Contains(literal)]
        elif sign == "-":
            excluded.append(matcher)
        else:
            plain.append(matcher)
            if literal is not None:
                required.append(Contains(literal))

    def match(message: str) -> bool:
        if not all(m(message) for m in plain):
            return False
        if optional and not any(m(message) for m in optional):
            return False
        return not any(m(message) for m in excluded)

    if optional and alternatives is not None:
        required.append(AnyOf(tuple(alternatives)))
    exact = not excluded and len(required) == len(plain) + bool(optional)
    return FilterPattern(source, match, _all(required), exact=exact)


def _all(parts: list[Prefilter]) -> Prefilter | None:
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def _contains(literal: str) -> Matcher:
    return lambda message: literal in message


def _regex_matcher(regex: str) -> Matcher:
    text = regex.replace("\\%", "%")
    try:
        compiled = re.compile(text)
        _check_regex(_sre_parser.parse(text), nested=False)
    except re.error as exc:
        raise InvalidFilterPattern(f"Invalid regular expression: {exc}") from None
    return lambda message: compiled.search(message) is not None


# the stdlib's own regular-expression parser (no stubs: typed Any)
_sre: Any = importlib.import_module("re._constants")
_sre_parser: Any = importlib.import_module("re._parser")
_REPEATS = frozenset({_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT})
_REFUSED = {
    _sre.GROUPREF: "back-references",
    _sre.GROUPREF_EXISTS: "conditional groups",
    _sre.ASSERT: "lookahead or lookbehind",
    _sre.ASSERT_NOT: "lookahead or lookbehind",
}


def _check_regex(parsed: Any, *, nested: bool) -> None:
    """Refuse what CloudWatch's regular expressions lack and what makes Python's
    backtracking matcher take exponential time on a hostile pattern: back-references,
    lookaround, and a quantifier or an alternation inside a quantified group (``(a+)+``,
    ``(a|aa)*``)."""
    for op, arg in parsed:
        if op in _REFUSED:
            raise re.error(f"{_REFUSED[op]} are not supported")
        if op in _REPEATS:
            if nested:
                raise re.error("a quantifier inside a quantified group is not supported")
            _check_regex(arg[2], nested=True)
        elif op == _sre.SUBPATTERN:
            _check_regex(arg[3], nested=nested)
        elif op == _sre.BRANCH:
            if nested:
                raise re.error("an alternation inside a quantified group is not supported")
            for branch in arg[1]:
                _check_regex(branch, nested=nested)


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


# --------------------------------------------------------------------------- values

_MISSING: Any = object()


@dataclass(frozen=True)
class _Value:
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


def _string_equal(actual: str, value: _Value) -> bool:
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


def _compare(actual: Any, op: str, value: _Value) -> bool:
    """One comparison of a field's value (``_MISSING`` when absent) with a pattern value."""
    if actual is _MISSING or isinstance(actual, dict | list):
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


# --------------------------------------------------------------------------- JSON

_JSON_TOKEN = re.compile(
    r"""\s*(?:
        (?P<and>&&) | (?P<or>\|\|) | (?P<open>\() | (?P<close>\)) |
        (?P<op>!=|<=|>=|=|<|>) |
        (?P<selector>\$(?:\.[A-Za-z0-9_@$\-]+|\[\d+\]|\.\*|\[\*\])*) |
        (?P<string>"(?:[^"\\]|\\.)*") |
        (?P<word>[^\s()=!<>&|"]+)
    )""",
    re.VERBOSE,
)


class _Tokens:
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


@dataclass(frozen=True)
class _Node:
    test: Callable[[Any], bool]
    prefilter: Prefilter | None = None


def _parse_json(source: str) -> FilterPattern:
    if not source.endswith("}"):
        raise InvalidFilterPattern("A JSON filter pattern must end with '}'")
    tokens = _Tokens(source[1:-1], _JSON_TOKEN)
    node = _json_or(tokens)
    if tokens.peek() is not None:
        raise InvalidFilterPattern(f"Unexpected '{tokens.peek()[1]}' in filter pattern")  # type: ignore[index]

    def match(message: str) -> bool:
        document = _json_object(message)
        return document is not _MISSING and node.test(document)

    parts: list[Prefilter] = [Contains("{")]  # no JSON object without a "{"
    if node.prefilter is not None:
        parts.append(node.prefilter)
    return FilterPattern(source, match, _all(parts))


def _json_object(message: str) -> Any:
    text = message.strip()
    for candidate in (text, text[text.find("{") :] if "{" in text else ""):
        if candidate.startswith("{"):
            try:
                document = json.loads(candidate)
            except (ValueError, RecursionError):
                continue
            if isinstance(document, dict):
                return document
    return _MISSING


def _json_or(tokens: _Tokens) -> _Node:
    nodes = [_json_and(tokens)]
    while (item := tokens.peek()) is not None and item[0] == "or":
        tokens.take()
        nodes.append(_json_and(tokens))
    if len(nodes) == 1:
        return nodes[0]
    parts = [n.prefilter for n in nodes]
    either = None if any(p is None for p in parts) else AnyOf(tuple(p for p in parts if p))
    return _Node(lambda doc: any(n.test(doc) for n in nodes), either)


def _json_and(tokens: _Tokens) -> _Node:
    nodes = [_json_atom(tokens)]
    while (item := tokens.peek()) is not None and item[0] == "and":
        tokens.take()
        nodes.append(_json_atom(tokens))
    if len(nodes) == 1:
        return nodes[0]
    both = _all([n.prefilter for n in nodes if n.prefilter is not None])
    return _Node(lambda doc: all(n.test(doc) for n in nodes), both)


def _json_atom(tokens: _Tokens) -> _Node:
    item = tokens.peek()
    if item is not None and item[0] == "open":
        tokens.take()
        node = _json_or(tokens)
        tokens.take("close")
        return node
    _, selector = tokens.take("selector")
    path = _selector_path(selector)
    item = tokens.peek()
    if item is not None and item[0] == "word" and item[1] in ("IS", "NOT", "EXISTS"):
        return _json_keyword(tokens, path)
    _, op = tokens.take("op")
    value = _value(tokens)

    def test(doc: Any) -> bool:
        return any(_compare(actual, op, value) for actual in _resolve(doc, path))

    return _Node(test, _comparison_prefilter(path, op, value))


def _comparison_prefilter(path: list[str | int], op: str, value: _Value) -> Prefilter | None:
    parts: list[Prefilter] = []
    if op == "=" and (literal := value.literal()) is not None:
        parts.append(Contains(literal))
    if "*" not in path:
        if op in ("<", ">", "<=", ">=") and value.number is not None:
            parts.append(JsonTest(tuple(path), op, value.number))
        elif op == "=" and value.quoted and not value.wildcard:
            parts.append(JsonTest(tuple(path), op, value.text))
    return _all(parts)


def _json_keyword(tokens: _Tokens, path: list[str | int]) -> _Node:
    _, word = tokens.take("word")
    if word == "EXISTS":
        return _Node(lambda doc: bool(_resolve(doc, path)))
    if word == "NOT":
        if tokens.take("word")[1] != "EXISTS":
            raise InvalidFilterPattern("Expected EXISTS after NOT")
        return _Node(lambda doc: not _resolve(doc, path))
    _, what = tokens.take("word")
    expected = {"NULL": None, "TRUE": True, "FALSE": False}
    if what not in expected:
        raise InvalidFilterPattern(f"Expected NULL, TRUE or FALSE after IS, not '{what}'")
    wanted = expected[what]
    return _Node(lambda doc: any(a is wanted for a in _resolve(doc, path)))


def _value(tokens: _Tokens) -> _Value:
    kind, text = tokens.take()
    if kind == "string":
        inner = _unescape(text[1:-1])
        return _Value(inner, None, True)
    if kind in ("word", "selector"):
        return _Value(text, _number(text), False)
    raise InvalidFilterPattern(f"Expected a value, not '{text}'")


def _selector_path(selector: str) -> list[str | int]:
    path: list[str | int] = []
    for part in re.findall(r"\.([^.\[]+)|\[(\d+|\*)\]", selector[1:]):
        name, index = part
        if name:
            path.append(name)
        else:
            path.append("*" if index == "*" else int(index))
    return path


def _resolve(doc: Any, path: list[str | int]) -> list[Any]:
    """Every value the selector reaches (``*`` fans out); empty when none exists."""
    current = [doc]
    for step in path:
        following: list[Any] = []
        for node in current:
            if step == "*":
                if isinstance(node, dict):
                    following += node.values()
                elif isinstance(node, list):
                    following += node
            elif isinstance(step, int):
                if isinstance(node, list) and 0 <= step < len(node):
                    following.append(node[step])
            elif isinstance(node, dict) and step in node:
                following.append(node[step])
        current = following
    return current


# --------------------------------------------------------------------------- space-delimited

_DELIMITED_TOKEN = re.compile(
    r"""\s*(?:
        (?P<and>&&) | (?P<or>\|\|) | (?P<comma>,) | (?P<ellipsis>\.\.\.) |
        (?P<op>!=|<=|>=|=|<|>) |
        (?P<string>"(?:[^"\\]|\\.)*") |
        (?P<word>[^\s,=!<>&|"]+)
    )""",
    re.VERBOSE,
)
_WORD = re.compile(r'"[^"]*"|\[[^\]]*\]|\S+')


@dataclass(frozen=True)
class _Field:
    name: str | None  # None for "..."
    test: Callable[[str], bool] | None = None


def _parse_delimited(source: str) -> FilterPattern:
    if not source.endswith("]"):
        raise InvalidFilterPattern("A space-delimited filter pattern must end with ']'")
    tokens = _Tokens(source[1:-1], _DELIMITED_TOKEN)
    fields: list[_Field] = []
    required: list[Prefilter] = []
    while tokens.peek() is not None:
        kind, text = tokens.take()
        if kind == "ellipsis":
            fields.append(_Field(None))
        elif kind == "word":
            test, literals = _delimited_condition(tokens, text)
            fields.append(_Field(text, test))
            required += [Contains(literal) for literal in literals]
        else:
            raise InvalidFilterPattern(f"Unexpected '{text}' in filter pattern")
        if tokens.peek() is not None:
            tokens.take("comma")

    def match(message: str) -> bool:
        words = [_strip_word(w) for w in _WORD.findall(message)]
        return _match_fields(fields, words)

    return FilterPattern(source, match, _all(required))


def _delimited_condition(
    tokens: _Tokens, name: str
) -> tuple[Callable[[str], bool] | None, list[str]]:
    """The conditions after a field name (``name = v || name = w && ...``), if any."""
    item = tokens.peek()
    if item is None or item[0] != "op":
        return None, []
    alternatives: list[list[tuple[str, _Value]]] = [[]]
    while True:
        _, op = tokens.take("op")
        value = _value(tokens)
        alternatives[-1].append((op, value))
        item = tokens.peek()
        if item is None or item[0] not in ("and", "or"):
            break
        tokens.take()
        if item[0] == "or":
            alternatives.append([])
        same = tokens.take("word")[1]
        if same != name:
            raise InvalidFilterPattern(f"A condition on '{name}' cannot test '{same}'")

    def test(word: str) -> bool:
        return any(all(_compare(word, op, v) for op, v in conj) for conj in alternatives)

    literals: list[str] = []
    if len(alternatives) == 1:
        literals = [lit for op, v in alternatives[0] if op == "=" and (lit := v.literal())]
    return test, literals


def _strip_word(word: str) -> str:
    if len(word) >= 2 and word[0] + word[-1] in ('""', "[]"):
        return word[1:-1]
    return word


def _match_fields(fields: list[_Field], words: list[str]) -> bool:
    """Whether the words fit the fields; ``...`` takes any number of words. Dynamic
    programming over (field, word) positions: linear in each, whatever the ``...``s."""
    # reachable[j]: the fields so far can consume exactly the first j words
    reachable = [True] + [False] * len(words)
    for f in fields:
        if f.name is None:
            for j in range(1, len(words) + 1):
                reachable[j] = reachable[j] or reachable[j - 1]
            continue
        following = [False] * (len(words) + 1)
        for j in range(len(words)):
            if reachable[j] and (f.test is None or f.test(words[j])):
                following[j + 1] = True
        reachable = following
    return reachable[len(words)]
