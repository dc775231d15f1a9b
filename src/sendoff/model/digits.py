"""ASCII digits: what ``int()`` of a request's text can take.

``str.isdigit()`` is also true for "²", "①" and other Unicode digits, which ``int()``
refuses (a 500 where AWS answers 400): every check of untrusted text for a number uses
:func:`is_digits` instead."""

from __future__ import annotations


def is_digits(text: str) -> bool:
    """Non-empty, and only the characters 0-9."""
    return text.isascii() and text.isdigit()
