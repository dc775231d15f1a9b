"""Object bytes as chunks in the store's blobs.

A body is cut into :data:`CHUNK_SIZE` pieces as it arrives; each is stored with
``Store.put_blob`` under ``s3/<extent id>/<n>`` (one extent per body written,
:mod:`sendoff.services.s3.extents`) and the manifest lists them. Bytes are never whole in
memory (one chunk at a time), and every backend serves every object (the blobs are in
the shared store). A body that fails (too large, a bad checksum, a client gone) has its
chunks deleted again (:func:`discard`).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

from sendoff.model.ids import random_id
from sendoff.services.s3.checksums import Hasher, encoded, new_hasher
from sendoff.services.s3.errors import EntityTooLarge, IncompleteBody, NoSuchKey
from sendoff.services.s3.extents import chunk_name
from sendoff.services.s3.model import Chunk
from sendoff.store import Store

CHUNK_SIZE = 1024 * 1024
MAX_PUT_BYTES = 5 * 1024**3
"""AWS's largest PutObject and UploadPart body (5 GiB)."""


@dataclass(kw_only=True)
class Written:
    extent: str = field(default_factory=lambda: random_id().replace("-", ""))
    chunks: list[Chunk] = field(default_factory=list)
    size: int = 0
    md5: bytes = b""
    checksums: dict[str, str] = field(default_factory=dict)  # algorithm -> base64


async def write_chunks(
    store: Store,
    body: AsyncIterator[bytes] | bytes,
    *,
    algorithms: Iterable[str] = (),
    max_size: int = MAX_PUT_BYTES,
    expected_size: int | None = None,
) -> Written:
    """Store ``body`` as chunks, computing its MD5 and the checksums asked for."""
    writer = _Writer(store, algorithms, max_size)
    try:
        async for piece in _pieces(body):
            await writer.add(piece)
        await writer.flush()
        if expected_size is not None and writer.written.size != expected_size:
            raise IncompleteBody(
                "You did not provide the number of bytes specified by the Content-Length"
                " HTTP header"
            )
    except BaseException:
        await discard(store, writer.written)
        raise
    return writer.finish()


class _Writer:
    def __init__(self, store: Store, algorithms: Iterable[str], max_size: int) -> None:
        self.store = store
        self.max_size = max_size
        self.md5 = hashlib.md5()
        self.hashers: dict[str, Hasher] = {name: new_hasher(name) for name in algorithms}
        self.written = Written()
        self.buffer = bytearray()

    async def add(self, piece: bytes) -> None:
        written = self.written
        written.size += len(piece)
        if written.size > self.max_size:
            raise EntityTooLarge(
                "Your proposed upload exceeds the maximum allowed size",
                ProposedSize=str(written.size),
                MaxSizeAllowed=str(self.max_size),
            )
        self.md5.update(piece)
        for hasher in self.hashers.values():
            hasher.update(piece)
        self.buffer += piece
        while len(self.buffer) >= CHUNK_SIZE:
            await self._store(bytes(self.buffer[:CHUNK_SIZE]))
            del self.buffer[:CHUNK_SIZE]

    async def flush(self) -> None:
        if self.buffer:
            await self._store(bytes(self.buffer))
            self.buffer.clear()

    async def _store(self, data: bytes) -> None:
        name = chunk_name(self.written.extent, len(self.written.chunks))
        self.written.chunks.append(Chunk(digest=name, size=len(data)))
        await self.store.put_blob(name, data)

    def finish(self) -> Written:
        self.written.md5 = self.md5.digest()
        self.written.checksums = {name: encoded(h) for name, h in self.hashers.items()}
        return self.written


async def discard(store: Store, written: Written) -> None:
    """Delete the chunks of a body that will not be committed."""
    for chunk in written.chunks:
        await store.delete_blob(chunk.digest)


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
