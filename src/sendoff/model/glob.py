"""IAM's wildcards, ``*`` (any run of characters) and ``?`` (one), matched without a
backtracking regular expression: used by resource policies (functions.policy_eval) and
identity policies (services.iam.policy) alike."""

from __future__ import annotations

import re
from functools import lru_cache


def glob_match(pattern: str, value: str) -> bool:
    """``*`` any run of characters, ``?`` one. The pattern is split at its stars into
    fixed-length pieces: the first must start the value, the last end it, and each middle
    piece is found leftmost after the one before (which is exact for such patterns). No
    regular expression ever backtracks over a star, so a statement someone wrote
    (``*a*a*a*...b``) costs at most pattern length times value length, in C."""
    if "*" not in pattern and "?" not in pattern:
        return pattern == value
    first, middle, last = _pieces(pattern)
    if last is None:  # no star: one piece, the whole value
        return len(value) == len(first) and _piece_at(first, value, 0)
    end = len(value) - len(last)
    if end < len(first) or not _piece_at(first, value, 0) or not _piece_at(last, value, end):
        return False
    position = len(first)
    for piece in middle:
        found = _find(piece, value, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


@lru_cache(maxsize=4096)
def _pieces(pattern: str) -> tuple[str, tuple[str, ...], str | None]:
    parts = pattern.split("*")
    if len(parts) == 1:
        return parts[0], (), None
    return parts[0], tuple(p for p in parts[1:-1] if p), parts[-1]


def _piece_at(piece: str, value: str, start: int) -> bool:
    if "?" not in piece:
        return value.startswith(piece, start)
    return _piece_re(piece).match(value, start) is not None


def _find(piece: str, value: str, start: int, end: int) -> int:
    if "?" not in piece:
        return value.find(piece, start, end)
    match = _piece_re(piece).search(value, start, end)
    return -1 if match is None else match.start()


@lru_cache(maxsize=4096)
def _piece_re(piece: str) -> re.Pattern[str]:
    """A star-free piece: literal characters and ``?`` (any one), so no backtracking."""
    return re.compile("".join("." if c == "?" else re.escape(c) for c in piece), re.DOTALL)
