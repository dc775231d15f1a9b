"""Pagination of the List* calls: opaque NextTokens that carry the last key listed."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sendoff.model.scope import Scope
from sendoff.services.sns.errors import InvalidParameter

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class Page(Generic[T]):
    items: list[T] = field(default_factory=list)
    next_token: str | None = None


def encode_token(last_key: str) -> str:
    return base64.urlsafe_b64encode(last_key.encode()).decode()


def decode_token(token: str | None, scope: Scope) -> str | None:
    """The key to list after, or None for the first page."""
    if not token:
        return None
    try:
        key = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidParameter("NextToken") from None
    if not key.startswith(scope.key_prefix):
        raise InvalidParameter("NextToken")
    return key
