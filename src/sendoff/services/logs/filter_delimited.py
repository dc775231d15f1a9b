"""Space-delimited filter patterns, ``[ip, user, ..., status = 4* || status = 5*, size]``:
fields matched against the message's words. Pure functions; see :mod:`.filter_pattern`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sendoff.services.logs.filter_values import (
    FilterPattern,
    InvalidFilterPattern,
    Tokens,
    Value,
    all_of,
    compare,
    read_value,
)
from sendoff.store.base import Contains, Prefilter

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


def parse_delimited(source: str) -> FilterPattern:
    if not source.endswith("]"):
        raise InvalidFilterPattern("A space-delimited filter pattern must end with ']'")
    tokens = Tokens(source[1:-1], _DELIMITED_TOKEN)
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

    return FilterPattern(source, match, all_of(required))


def _delimited_condition(
    tokens: Tokens, name: str
) -> tuple[Callable[[str], bool] | None, list[str]]:
    """The conditions after a field name (``name = v || name = w && ...``), if any."""
    item = tokens.peek()
    if item is None or item[0] != "op":
        return None, []
    alternatives: list[list[tuple[str, Value]]] = [[]]
    while True:
        _, op = tokens.take("op")
        value = read_value(tokens)
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
        return any(all(compare(word, op, v) for op, v in conj) for conj in alternatives)

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
