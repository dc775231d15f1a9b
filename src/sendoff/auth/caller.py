"""Who a verified request is from, and where the gate leaves it for the routes.

The gate (:mod:`sendoff.auth.gate`) verifies a request's signature and puts a
:class:`Caller` in the ASGI scope under :data:`CALLER_KEY`; the protocol edges read it
there (:mod:`sendoff.api.context`), and its ``account_id`` overrides the server's default
account.
"""

from __future__ import annotations

from dataclasses import dataclass

CALLER_KEY = "sendoff.caller"
"""The ASGI scope key where the authentication gate puts the verified caller."""

CHUNK_SIGNING_KEY = "sendoff.chunk_signing"
"""Where the gate puts a :class:`sendoff.auth.sigv4.ChunkSigning` for a verified request
whose body is sent in signed chunks (S3's ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``)."""


@dataclass(frozen=True, kw_only=True)
class Caller:
    account_id: str
    access_key_id: str
    arn: str
    user_id: str
    region: str | None = None  # of this request's credential scope
    service: str | None = None
    temporary: bool = False  # session credentials (ASIA…): a function's, or from STS
