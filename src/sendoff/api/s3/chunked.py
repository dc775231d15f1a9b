"""``aws-chunked`` request bodies: decoded as they stream.

Framing (AWS's "SigV4 streaming" pages)::

    <hex size>[;chunk-signature=<64 hex>]\\r\\n<size bytes>\\r\\n     (repeated)
    0[;chunk-signature=<64 hex>]\\r\\n
    [x-amz-checksum-crc32:<base64>\\r\\n ... x-amz-trailer-signature:<hex>\\r\\n]
    \\r\\n

``x-amz-content-sha256`` says which: ``STREAMING-UNSIGNED-PAYLOAD-TRAILER`` (what SDKs
send over HTTPS with a flexible checksum), ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` (signed
chunks, e.g. the Java SDK) and ``...-PAYLOAD-TRAILER``. The trailing checksum named by
``x-amz-trailer`` is put into the caller's ``wanted`` map when the body ends, so the
service verifies it like a checksum sent as a header. Under ``--auth sigv4`` the gate
verifies the seed signature (the Authorization header) and hands over a
:class:`~sendoff.auth.sigv4.ChunkSigning`: each chunk's signature, chained from the seed,
and the trailer's are then checked here. Without authentication they are not checked.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator

from starlette.datastructures import Headers

from sendoff.auth.sigv4 import ChunkSigning
from sendoff.services.s3.errors import (
    IncompleteBody,
    InvalidArgument,
    InvalidRequest,
    SignatureDoesNotMatch,
)

MAX_LINE = 4096


def is_chunked(headers: Headers) -> bool:
    declared = headers.get("x-amz-content-sha256", "")
    codings = [c.strip() for c in headers.get("content-encoding", "").split(",")]
    return declared.startswith("STREAMING-") or "aws-chunked" in codings


def _bad(message: str = "The chunked body is malformed") -> InvalidRequest:
    return InvalidRequest(message)


def trailer_algorithm(headers: Headers) -> str | None:
    """The checksum algorithm named by ``x-amz-trailer`` (upper-case), if any."""
    trailer = (headers.get("x-amz-trailer") or "").strip().lower()
    if not trailer:
        return None
    if not trailer.startswith("x-amz-checksum-"):
        raise InvalidArgument(
            "The value specified in the x-amz-trailer header is not supported",
            ArgumentName="x-amz-trailer",
        )
    return trailer.removeprefix("x-amz-checksum-").upper()


async def unchunked(
    stream: AsyncIterator[bytes],
    headers: Headers,
    wanted: dict[str, str | None],
    signing: ChunkSigning | None = None,
) -> AsyncIterator[bytes]:
    """The payload of an aws-chunked body; trailing checksums go into ``wanted`` (whose
    keys :func:`trailer_algorithm` has set before the body is read). With ``signing``
    (a verified request sent in signed chunks) every chunk's signature is checked, and
    the trailer's: SignatureDoesNotMatch, after which the caller drops what it stored."""
    reader = _Reader(stream)
    previous = signing.seed if signing is not None else ""
    while True:
        head = await reader.line()
        size_text, _, extension = head.partition(b";")
        try:
            size = int(size_text.strip(), 16)
        except ValueError:
            raise _bad() from None
        digest = hashlib.sha256()
        async for piece in reader.exactly(size):
            if signing is not None:
                digest.update(piece)
            yield piece
        if signing is not None:
            previous = _checked(signing.chunk(previous, digest.hexdigest()), extension)
        if size == 0:
            break
        if await reader.line() != b"":
            raise _bad()
    lines: list[tuple[str, str]] = []
    trailer_signature = None
    async for name, value in reader.trailers():
        if name == "x-amz-trailer-signature":
            trailer_signature = value
            continue
        lines.append((name, value))
        if name.startswith("x-amz-checksum-"):
            algorithm = name.removeprefix("x-amz-checksum-").upper()
            if algorithm in wanted:
                wanted[algorithm] = value
    if signing is not None and lines:
        text = "".join(f"{name}:{value}\n" for name, value in lines)
        expected = signing.trailer(previous, hashlib.sha256(text.encode()).hexdigest())
        if trailer_signature is None or not hmac.compare_digest(expected, trailer_signature):
            raise SignatureDoesNotMatch(BAD_CHUNK)


BAD_CHUNK = (
    "The request signature we calculated does not match the signature you provided. Check"
    " your key and signing method."
)


def _checked(expected: str, extension: bytes) -> str:
    """``expected`` if the chunk's ``chunk-signature=`` says so, else SignatureDoesNotMatch."""
    name, _, sent = extension.decode("latin-1").partition("=")
    if name.strip() != "chunk-signature" or not hmac.compare_digest(expected, sent.strip()):
        raise SignatureDoesNotMatch(BAD_CHUNK)
    return expected


class _Reader:
    """Lines and byte runs from a stream of pieces."""

    def __init__(self, stream: AsyncIterator[bytes]) -> None:
        self._source = stream.__aiter__()
        self._buffer = bytearray()
        self._ended = False

    async def _fill(self) -> bool:
        if self._ended:
            return False
        try:
            self._buffer.extend(await self._source.__anext__())
        except StopAsyncIteration:
            self._ended = True
            return False
        return True

    async def line(self) -> bytes:
        while True:
            end = self._buffer.find(b"\r\n")
            if end >= 0:
                text = bytes(self._buffer[:end])
                del self._buffer[: end + 2]
                return text
            if len(self._buffer) > MAX_LINE:
                raise _bad()
            if not await self._fill():
                raise IncompleteBody("The request body ended inside a chunk header")

    async def exactly(self, size: int) -> AsyncIterator[bytes]:
        remaining = size
        while remaining:
            if not self._buffer and not await self._fill():
                raise IncompleteBody("The request body ended inside a chunk")
            take = min(remaining, len(self._buffer))
            yield bytes(self._buffer[:take])
            del self._buffer[:take]
            remaining -= take

    async def trailers(self) -> AsyncIterator[tuple[str, str]]:
        """Trailing ``name:value`` lines up to an empty line or the end of the body."""
        while self._buffer or await self._fill():
            try:
                text = await self.line()
            except IncompleteBody:
                text = bytes(self._buffer)
                self._buffer.clear()
            if not text:
                break
            name, _, value = text.decode("latin-1").partition(":")
            yield name.strip().lower(), value.strip()
        while await self._fill():  # anything after the framing is ignored
            self._buffer.clear()
