"""Receipt handles: an opaque wrapping of one lease of one message.

A handle carries the queue incarnation id, the message's store ``seq`` and the receive's
token. Handles are not secret (as in SQS, holding one is permission to settle the lease);
they only have to be unambiguous, so they are URL-safe base64 of ``id:seq:token``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from sendoff.model.digits import is_digits


@dataclass(frozen=True, kw_only=True)
class Receipt:
    queue_id: str
    seq: int
    token: str


def encode_receipt(queue_id: str, seq: int, token: str) -> str:
    return base64.urlsafe_b64encode(f"{queue_id}:{seq}:{token}".encode()).decode().rstrip("=")


def decode_receipt(handle: str) -> Receipt | None:
    """The lease a handle names, or None if the text is not a handle sendoff issued."""
    try:
        raw = base64.urlsafe_b64decode(handle + "=" * (-len(handle) % 4)).decode()
    except (binascii.Error, ValueError):
        return None
    parts = raw.split(":")
    if len(parts) != 3 or not is_digits(parts[1]) or not parts[0] or not parts[2]:
        return None
    return Receipt(queue_id=parts[0], seq=int(parts[1]), token=parts[2])
