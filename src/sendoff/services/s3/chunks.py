"""Object bytes as content-addressed chunks in the store's blobs.

A body is cut into :data:`CHUNK_SIZE` pieces as it arrives; each is stored with
``Store.put_blob`` under ``s3/<sha256 hex>`` and the object's manifest lists them. Bytes
are never whole in memory (one chunk at a time), every backend serves every object (the
blobs are in the shared store), and identical chunks are stored once.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

from sendoff.services.s3.checksums import Hasher, encoded, new_hasher
from sendoff.services.s3.errors import EntityTooLarge, IncompleteBody, NoSuchKey
from sendoff.services.s3.model import Chunk
from sendoff.store import Store

CHUNK_SIZE = 1024 * 1024
MAX_PUT_BYTES = 5 * 1024**3
"""AWS's largest PutObject and UploadPart body (5 GiB)."""


@dataclass(kw_only=True)
class Written:
    chunks: list[Chunk] = field(default_factory=list)
    size: int = 0
    md5: bytes = b""
    checksums: dict[str, str] = field(default_factory=dict)  # algorithm -> base64


def blob_name(sha256_hex: str) -> str:
    return f"s3/{sha256_hex}"


async def write_chunks(
    store: Store,
    body: AsyncIterator[bytes] | bytes,
    *,
    algorithms: Iterable[str] = (),
    max_size: int = MAX_PUT_BYTES,
    expected_size: int | None = None,
) -> Written:
    """Store ``body`` as chunks, computing its MD5 and the checksums asked for."""
    md5 = hashlib.md5()
    hashers: dict[str, Hasher] = {name: new_hasher(name) for name in algorithms}
    written = Written()
    buffer = bytearray()

    async def flush(data: bytes) -> None:
        digest = hashlib.sha256(data).hexdigest()
        await store.put_blob(blob_name(digest), data)
        written.chunks.append(Chunk(digest=blob_name(digest), size=len(data)))

    async for piece in _pieces(body):
        if not piece:
            continue
        written.size += len(piece)
        if written.size > max_size:
            raise EntityTooLarge(
                "Your proposed upload exceeds the maximum allowed size",
                ProposedSize=str(written.size),
                MaxSizeAllowed=str(max_size),
            )
        md5.update(piece)
        for hasher in hashers.values():
            hasher.update(piece)
        buffer += piece
        while len(buffer) >= CHUNK_SIZE:
            await flush(bytes(buffer[:CHUNK_SIZE]))
            del buffer[:CHUNK_SIZE]
    if buffer:
        await flush(bytes(buffer))
    if expected_size is not None and written.size != expected_size:
        raise IncompleteBody(
            "You did not provide the number of bytes specified by the Content-Length HTTP header"
        )
    written.md5 = md5.digest()
    written.checksums = {name: encoded(h) for name, h in hashers.items()}
    return written


async def _pieces(body: AsyncIterator[bytes] | bytes) -> AsyncIterator[bytes]:
    if isinstance(body, bytes | bytearray | memoryview):
        data = bytes(body)
        for start in range(0, len(data), CHUNK_SIZE):
            yield data[start : start + CHUNK_SIZE]
        return
    async for piece in body:
        yield piece


async def read_chunks(
    store: Store, chunks: Iterable[Chunk], start: int = 0, end: int | None = None
) -> AsyncIterator[bytes]:
    """The bytes ``start`` to ``end`` (exclusive; None: to the end) of a chunk list."""
    offset = 0
    for chunk in chunks:
        chunk_end = offset + chunk.size
        if end is not None and offset >= end:
            return
        if chunk_end > start:
            data = await store.get_blob(chunk.digest)
            if data is None:
                raise NoSuchKey("The object's data is missing from the store")
            lo = max(start - offset, 0)
            hi = chunk.size if end is None else min(end - offset, chunk.size)
            yield data[lo:hi]
        offset = chunk_end
