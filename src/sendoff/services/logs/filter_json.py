"""JSON filter patterns, ``{ $.a.b[0] = "x*" && ($.n > 3 || $.f IS TRUE) }``: parsed into
a test of the decoded message and a prefilter for the store. Pure functions; see
:mod:`.filter_pattern` for the syntax."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sendoff.services.logs.filter_values import (
    MISSING,
    FilterPattern,
    InvalidFilterPattern,
    Tokens,
    Value,
    all_of,
    compare,
    read_value,
)
from sendoff.store.base import AnyOf, Contains, JsonTest, Prefilter

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


@dataclass(frozen=True)
class _Node:
    test: Callable[[Any], bool]
    prefilter: Prefilter | None = None


def parse_json(source: str) -> FilterPattern:
    if not source.endswith("}"):
        raise InvalidFilterPattern("A JSON filter pattern must end with '}'")
    tokens = Tokens(source[1:-1], _JSON_TOKEN)
    node = _json_or(tokens)
    if tokens.peek() is not None:
        raise InvalidFilterPattern(f"Unexpected '{tokens.peek()[1]}' in filter pattern")  # type: ignore[index]

    def match(message: str) -> bool:
        document = _json_object(message)
        return document is not MISSING and node.test(document)

    parts: list[Prefilter] = [Contains("{")]  # no JSON object without a "{"
    if node.prefilter is not None:
        parts.append(node.prefilter)
    return FilterPattern(source, match, all_of(parts))


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
    return MISSING


def _json_or(tokens: Tokens) -> _Node:
    nodes = [_json_and(tokens)]
    while (item := tokens.peek()) is not None and item[0] == "or":
        tokens.take()
        nodes.append(_json_and(tokens))
    if len(nodes) == 1:
        return nodes[0]
    parts = [n.prefilter for n in nodes]
    either = None if any(p is None for p in parts) else AnyOf(tuple(p for p in parts if p))
    return _Node(lambda doc: any(n.test(doc) for n in nodes), either)


def _json_and(tokens: Tokens) -> _Node:
    nodes = [_json_atom(tokens)]
    while (item := tokens.peek()) is not None and item[0] == "and":
        tokens.take()
        nodes.append(_json_atom(tokens))
    if len(nodes) == 1:
        return nodes[0]
    both = all_of([n.prefilter for n in nodes if n.prefilter is not None])
    return _Node(lambda doc: all(n.test(doc) for n in nodes), both)


def _json_atom(tokens: Tokens) -> _Node:
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
    value = read_value(tokens)

    def test(doc: Any) -> bool:
        return any(compare(actual, op, value) for actual in _resolve(doc, path))

    return _Node(test, _comparison_prefilter(path, op, value))


def _comparison_prefilter(path: list[str | int], op: str, value: Value) -> Prefilter | None:
    parts: list[Prefilter] = []
    if op == "=" and (literal := value.literal()) is not None:
        parts.append(Contains(literal))
    if "*" not in path:
        if op in ("<", ">", "<=", ">=") and value.number is not None:
            parts.append(JsonTest(tuple(path), op, value.number))
        elif op == "=" and value.quoted and not value.wildcard:
            parts.append(JsonTest(tuple(path), op, value.text))
    return all_of(parts)


def _json_keyword(tokens: Tokens, path: list[str | int]) -> _Node:
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
