"""S3's storage on the in-memory store: objects as chunk manifests, shared bytes counted,
and the sweep removing exactly the bytes no object or part refers to any more."""

from __future__ import annotations

import pytest

from sendoff.services.s3.chunks import CHUNK_SIZE
from sendoff.services.s3.errors import BadDigest, EntityTooLarge
from sendoff.services.s3.multipart import MultipartUploads
from sendoff.services.s3.service import S3Service
from sendoff.store.memory import MemoryStore

ACCOUNT = "000000000000"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def blobs(store: MemoryStore) -> set[str]:
    return {name for name in store._blobs if name.startswith("s3/")}


@pytest.fixture
async def setup() -> tuple[MemoryStore, S3Service, Clock]:
    store = MemoryStore()
    await store.open()
    clock = Clock()
    service = S3Service(store, account_id=ACCOUNT, region="us-east-1", clock=clock, grace_s=60)
    await service.create_bucket(ACCOUNT, "us-east-1", "bucket")
    return store, service, clock


async def test_bytes_stay_while_referenced_and_go_after_the_grace(
    setup: tuple[MemoryStore, S3Service, Clock],
) -> None:
    store, service, clock = setup
    body = b"x" * (CHUNK_SIZE + 10)
    await service.put_object(ACCOUNT, "bucket", "a", body)
    assert len(await blobs(store)) == 2
    source = await service.head_object(ACCOUNT, "bucket", "a")
    await service.copy_object(ACCOUNT, source, "bucket", "b")
    assert len(await blobs(store)) == 2  # a copy shares the bytes
    await service.put_object(ACCOUNT, "bucket", "a", b"new")  # overwrite: still copied by b
    await service.delete_object(ACCOUNT, "bucket", "a")
    clock.now += 3600
    assert await service.extents.sweep() == 1  # the 3-byte body
    assert (await service.get_object_bytes(ACCOUNT, "bucket", "b"))[1] == body
    await service.delete_object(ACCOUNT, "bucket", "b")
    assert await service.extents.sweep() == 0  # within the grace: a reader may be streaming
    assert len(await blobs(store)) == 2
    clock.now += 61
    assert await service.extents.sweep() == 1
    assert await blobs(store) == set()


async def test_failed_bodies_leave_nothing(setup: tuple[MemoryStore, S3Service, Clock]) -> None:
    store, service, _ = setup
    with pytest.raises(BadDigest):
        await service.put_object(ACCOUNT, "bucket", "k", b"data" * 1000,
                                 checksums={"CRC32": "AAAAAA=="})  # fmt: skip
    with pytest.raises(EntityTooLarge):
        from sendoff.services.s3 import chunks

        await chunks.write_chunks(store, b"y" * (CHUNK_SIZE * 2), max_size=CHUNK_SIZE)
    assert await blobs(store) == set()


async def test_multipart_parts_become_the_object_and_the_rest_goes(
    setup: tuple[MemoryStore, S3Service, Clock],
) -> None:
    store, service, clock = setup
    uploads = MultipartUploads(service)
    upload = await uploads.create(ACCOUNT, "bucket", "mp", content_type=None, metadata={},
                                  headers={}, algorithm=None)  # fmt: skip
    first = b"1" * (5 * 1024 * 1024)
    p1 = await uploads.upload_part(ACCOUNT, "bucket", "mp", upload.upload_id, 1, first,
                                   checksums={})  # fmt: skip
    await uploads.upload_part(ACCOUNT, "bucket", "mp", upload.upload_id, 2, b"old", checksums={})
    p2 = await uploads.upload_part(ACCOUNT, "bucket", "mp", upload.upload_id, 2, b"two",
                                   checksums={})  # fmt: skip
    await uploads.upload_part(ACCOUNT, "bucket", "mp", upload.upload_id, 3, b"unused",
                              checksums={})  # fmt: skip
    info = await uploads.complete(ACCOUNT, "bucket", "mp", upload.upload_id,
                                  [(1, p1.etag, {}), (2, p2.etag, {})])  # fmt: skip
    assert info.etag.endswith("-2")
    clock.now += 3600
    assert await service.extents.sweep() == 2  # part 2's first body and the unused part 3
    assert (await service.get_object_bytes(ACCOUNT, "bucket", "mp"))[1] == first + b"two"
    await service.delete_object(ACCOUNT, "bucket", "mp")
    clock.now += 3600
    await service.extents.sweep()
    assert await blobs(store) == set()


async def test_racing_overwrites_and_copies_leave_no_bytes_behind(
    setup: tuple[MemoryStore, S3Service, Clock],
) -> None:
    import asyncio

    store, service, clock = setup
    await asyncio.gather(
        *[service.put_object(ACCOUNT, "bucket", "k", bytes([n]) * 100) for n in range(20)]
    )
    source = await service.head_object(ACCOUNT, "bucket", "k")
    await asyncio.gather(
        *[service.copy_object(ACCOUNT, source, "bucket", f"c{n}") for n in range(5)],
        service.delete_object(ACCOUNT, "bucket", "k"),
    )
    expected = (await service.get_object_bytes(ACCOUNT, "bucket", "c0"))[1]
    assert len(expected) == 100
    for n in range(5):
        assert (await service.get_object_bytes(ACCOUNT, "bucket", f"c{n}"))[1] == expected
    for n in range(5):
        await service.delete_object(ACCOUNT, "bucket", f"c{n}")
    clock.now += 3600
    while await service.extents.sweep():
        pass
    assert await blobs(store) == set()
    assert await store.scan("s3-extent") == []
