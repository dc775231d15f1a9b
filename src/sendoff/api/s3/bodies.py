"""Request bodies as S3 clients send them, streamed from the ASGI ``receive``.

* a plain body, checked against ``x-amz-content-sha256`` when that is a hex digest
  (XAmzContentSHA256Mismatch), as S3 checks it whether or not signatures are verified;
* ``aws-chunked`` bodies (``x-amz-content-sha256: STREAMING-...``): chunks framed as
  ``<hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n``, ending with a zero-size chunk
  and, for ``...-TRAILER`` payloads, trailing headers such as ``x-amz-checksum-crc32:``
  (:mod:`sendoff.api.s3.chunked`).

``Expect: 100-continue`` needs nothing here: uvicorn sends the ``100 Continue`` the first
time the application asks for the body, so a request refused before its body is read
(a missing bucket, a bad name) never has its body sent.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator

from starlette.types import Receive

from sendoff.services.s3.errors import ContentSha256Mismatch, IncompleteBody

HEX64 = frozenset("0123456789abcdef")


async def raw_stream(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise IncompleteBody("The request body ended before its declared length")
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def verified(stream: AsyncIterator[bytes], declared: str | None) -> AsyncIterator[bytes]:
    """``stream``, checked at its end against a declared SHA-256 (hex), if any."""
    if declared is None or len(declared) != 64 or not set(declared) <= HEX64:
        async for piece in stream:
            yield piece
        return
    digest = hashlib.sha256()
    async for piece in stream:
        digest.update(piece)
        yield piece
    if not hmac.compare_digest(digest.hexdigest(), declared):
        raise ContentSha256Mismatch(
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            ClientComputedContentSHA256=declared,
            S3ComputedContentSHA256=digest.hexdigest(),
        )


async def read_all(stream: AsyncIterator[bytes], limit: int) -> bytes:
    """A small body whole (XML documents), at most ``limit`` bytes."""
    from sendoff.services.s3.errors import MalformedXML

    parts: list[bytes] = []
    size = 0
    async for piece in stream:
        size += len(piece)
        if size > limit:
            raise MalformedXML("The XML you provided was too large.")
        parts.append(piece)
    return b"".join(parts)
