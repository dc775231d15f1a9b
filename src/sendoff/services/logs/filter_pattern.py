"""CloudWatch Logs filter patterns: parse once, match many messages. Pure functions.

Three syntaxes, picked by the first character (AWS's "Filter pattern syntax for metric
filters, subscription filters and filter log events"); terms are parsed here, JSON in
:mod:`.filter_json`, space-delimited in :mod:`.filter_delimited`, and what they share is in
:mod:`.filter_values`:

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
import re
from typing import Any

from sendoff.services.logs.filter_delimited import parse_delimited
from sendoff.services.logs.filter_json import parse_json
from sendoff.services.logs.filter_values import (
    FilterPattern,
    InvalidFilterPattern,
    Matcher,
    all_of,
    unescape,
)
from sendoff.store.base import AnyOf, Contains, Prefilter

__all__ = ["FilterPattern", "InvalidFilterPattern", "parse"]


def parse(text: str | None) -> FilterPattern:
    source = (text or "").strip()
    if source in ("", '""'):
        return FilterPattern(source, lambda _message: True)
    if source.startswith("{"):
        return parse_json(source)
    if source.startswith("["):
        return parse_delimited(source)
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
            literal = unescape(quoted) if quoted is not None else bare
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
    return FilterPattern(source, match, all_of(required), exact=exact)


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
