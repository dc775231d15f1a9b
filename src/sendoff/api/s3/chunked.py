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
service verifies it like a checksum sent as a header. Chunk signatures are parsed but not
verified (the seed signature, in the Authorization header, is verified by the gate under
``--auth sigv4``); see docs/s3.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.datastructures import Headers

from sendoff.services.s3.errors import IncompleteBody, InvalidArgument, InvalidRequest

MAX_LINE = 4096


def is_chunked(headers: Headers) -> bool:
    declared = headers.get("x-amz-content-sha256", "")
    codings = [c.strip() for c in headers.get("content-encoding", "").split(",")]
    return declared.startswith("STREAMING-") or "aws-chunked" in codings


def _bad(message: str = "The chunked body is malformed") -> InvalidRequest:
    return InvalidRequest(message)


async def unchunked(
    stream: AsyncIterator[bytes], headers: Headers, wanted: dict[str, str | None]
) -> AsyncIterator[bytes]:
    """The payload of an aws-chunked body; trailing checksums go into ``wanted``."""
    trailer = (headers.get("x-amz-trailer") or "").strip().lower()
    if trailer:
        if not trailer.startswith("x-amz-checksum-"):
            raise InvalidArgument(
                "The value specified in the x-amz-trailer header is not supported",
                ArgumentName="x-amz-trailer",
            )
        wanted.setdefault(trailer.removeprefix("x-amz-checksum-").upper(), None)
    buffer = bytearray()
    source = stream.__aiter__()
    ended = False

    async def fill() -> bool:
        nonlocal ended
        if ended:
            return False
        try:
            buffer.extend(await source.__anext__())
        except StopAsyncIteration:
            ended = True
            return False
        return True

    async def line() -> bytes:
        while True:
            end = buffer.find(b"\r\n")
            if end >= 0:
                text = bytes(buffer[:end])
                del buffer[: end + 2]
                return text
            if len(buffer) > MAX_LINE:
                raise _bad()
            if not await fill():
                raise IncompleteBody("The request body ended inside a chunk header")

    while True:
        head = await line()
        size_text = head.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _bad() from None
        if size == 0:
            break
        remaining = size
        while remaining:
            if not buffer and not await fill():
                raise IncompleteBody("The request body ended inside a chunk")
            take = min(remaining, len(buffer))
            yield bytes(buffer[:take])
            del buffer[:take]
            remaining -= take
        if await line() != b"":
            raise _bad()
    # trailers, then an empty line (or the end of the body)
    while True:
        if not buffer and ended:
            break
        try:
            text = await line()
        except IncompleteBody:
            break
        if not text:
            break
        name, _, value = text.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name.startswith("x-amz-checksum-"):
            algorithm = name.removeprefix("x-amz-checksum-").upper()
            if algorithm in wanted:
                wanted[algorithm] = value.strip()
    while await fill():  # anything after the framing is ignored
        buffer.clear()
