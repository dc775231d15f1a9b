"""Multipart uploads: parts stored as chunk lists, joined into one manifest on Complete.

An upload is the document ``("s3-upload", "<bucket>/<upload id>")``; each part
``("s3-part", "<bucket>/<upload id>/<part number, 5 digits>")``. Completing writes the
object's manifest from the parts' chunks (no byte is copied) with AWS's ETag (MD5 of the
parts' binary MD5s, ``-<count>``) and, when the upload asked for a checksum, the
composite checksum (the checksum of the parts' checksums, ``-<count>``), or the
full-object CRC when ``x-amz-checksum-type: FULL_OBJECT`` was asked (read back once).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sendoff.errors import ConflictError
from sendoff.model.ids import random_id
from sendoff.model.json_types import JSON
from sendoff.services.s3.checksums import encoded, new_hasher
from sendoff.services.s3.chunks import Written, read_chunks, write_chunks
from sendoff.services.s3.errors import (
    EntityTooSmall,
    InvalidArgument,
    InvalidPart,
    InvalidPartOrder,
    NoSuchUpload,
)
from sendoff.services.s3.model import BucketInfo, Caller, Chunk, ObjectInfo
from sendoff.services.s3.names import check_key
from sendoff.services.s3.service import PARTS, UPLOADS, S3Service, _md5_header

MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PARTS = 10_000


@dataclass(frozen=True, kw_only=True)
class Upload:
    bucket: str
    upload_id: str
    key: str
    initiated: float
    content_type: str | None
    metadata: dict[str, str]
    headers: dict[str, str]
    algorithm: str | None
    checksum_type: str | None


@dataclass(frozen=True, kw_only=True)
class Part:
    number: int
    size: int
    etag: str
    last_modified: float
    chunks: tuple[Chunk, ...]
    checksums: dict[str, str]
    extents: tuple[str, ...] = ()


def _part(value: JSON, number: int) -> Part:
    return Part(
        number=number,
        size=int(value["size"]),
        etag=str(value["etag"]),
        last_modified=float(value["last_modified"]),
        chunks=tuple(Chunk(digest=d, size=s) for d, s in value["chunks"]),
        checksums=dict(value.get("checksums") or {}),
        extents=tuple(value.get("extents") or ()),
    )


class MultipartUploads:
    def __init__(self, service: S3Service) -> None:
        self.service = service
        self.store = service.store

    async def create(
        self,
        account: str,
        bucket: str,
        key: str,
        *,
        content_type: str | None,
        metadata: dict[str, str],
        headers: dict[str, str],
        algorithm: str | None,
        checksum_type: str | None = None,
    ) -> Upload:
        await self.service.owned_bucket(account, bucket)
        check_key(key)
        upload = Upload(
            bucket=bucket,
            upload_id=random_id().replace("-", ""),
            key=key,
            initiated=self.service.clock(),
            content_type=content_type,
            metadata=metadata,
            headers=headers,
            algorithm=algorithm,
            checksum_type=checksum_type,
        )
        await self.store.put(
            UPLOADS,
            f"{bucket}/{upload.upload_id}",
            {
                "key": key,
                "initiated": upload.initiated,
                "content_type": content_type,
                "metadata": metadata,
                "headers": headers,
                "algorithm": algorithm,
                "checksum_type": checksum_type,
            },
        )
        return upload

    async def upload(
        self, account: str, bucket: str, upload_id: str, key: str | None = None
    ) -> Upload:
        await self.service.owned_bucket(account, bucket)
        doc = (
            await self.store.get(UPLOADS, f"{bucket}/{upload_id}") if "/" not in upload_id else None
        )
        if doc is None or (key is not None and doc.value["key"] != key):
            raise NoSuchUpload(
                "The specified upload does not exist. The upload ID may be"
                " invalid, or the upload may have been aborted or completed.",
                UploadId=upload_id,
            )
        v = doc.value
        return Upload(
            bucket=bucket,
            upload_id=upload_id,
            key=str(v["key"]),
            initiated=float(v["initiated"]),
            content_type=v.get("content_type"),
            metadata=dict(v.get("metadata") or {}),
            headers=dict(v.get("headers") or {}),
            algorithm=v.get("algorithm"),
            checksum_type=v.get("checksum_type"),
        )

    async def uploads(self, account: str, bucket: str) -> list[Upload]:
        await self.service.owned_bucket(account, bucket)
        docs = await self.store.scan(UPLOADS, f"{bucket}/", limit=1_000_000)
        found = [await self.upload(account, bucket, d.key.split("/", 1)[1]) for d in docs]
        return sorted(found, key=lambda u: (u.key, u.initiated))

    async def upload_part(
        self,
        account: str,
        bucket: str,
        key: str,
        upload_id: str,
        number: int,
        body: AsyncIterator[bytes] | bytes,
        *,
        checksums: dict[str, str | None],
        content_md5: str | None = None,
        expected_size: int | None = None,
    ) -> Part:
        upload = await self.upload(account, bucket, upload_id, key)
        _check_number(number)
        wanted = checksums  # not copied: a trailing checksum arrives with the body's end
        if upload.algorithm:
            wanted.setdefault(upload.algorithm, None)
        md5 = _md5_header(content_md5) if content_md5 is not None else None
        written = await write_chunks(
            self.store, body, algorithms=wanted, expected_size=expected_size
        )
        await self.service.check_written(written, wanted, md5)
        return await self._save_written(upload, number, written)

    async def copy_part(
        self,
        account: str,
        bucket: str,
        key: str,
        upload_id: str,
        number: int,
        source: ObjectInfo,
        span: tuple[int, int] | None,
    ) -> Part:
        upload = await self.upload(account, bucket, upload_id, key)
        _check_number(number)
        algorithms = [upload.algorithm] if upload.algorithm else []
        if span is None and not algorithms:
            md5 = source.etag if not source.parts else await self._md5(source.chunks)
            await self.service.extents.share(source.extents)  # shared, not copied
            return await self._save_part(
                upload, number, source.size, md5, source.chunks, {}, source.extents
            )
        start, end = span or (0, source.size)
        written = await write_chunks(
            self.store, read_chunks(self.store, source.chunks, start, end), algorithms=algorithms
        )
        return await self._save_written(upload, number, written)

    async def _md5(self, chunks: tuple[Chunk, ...]) -> str:
        digest = hashlib.md5()
        async for piece in read_chunks(self.store, chunks):
            digest.update(piece)
        return digest.hexdigest()

    async def _save_written(self, upload: Upload, number: int, written: Written) -> Part:
        await self.service.extents.created(written.extent, len(written.chunks))
        return await self._save_part(
            upload, number, written.size, written.md5.hex(), tuple(written.chunks),
            written.checksums, (written.extent,),
        )  # fmt: skip

    async def _save_part(
        self,
        upload: Upload,
        number: int,
        size: int,
        etag: str,
        chunks: tuple[Chunk, ...],
        checksums: dict[str, str],
        extents: tuple[str, ...],
    ) -> Part:
        """Store a part (its extents already referred to for it); a part uploaded again
        replaces the one before, whose bytes lose that reference."""
        part = Part(number=number, size=size, etag=etag, last_modified=self.service.clock(),
                    chunks=chunks, checksums=checksums, extents=extents)  # fmt: skip
        key = f"{upload.bucket}/{upload.upload_id}/{number:05d}"
        value = {
            "size": size,
            "etag": etag,
            "last_modified": part.last_modified,
            "chunks": [[c.digest, c.size] for c in chunks],
            "checksums": checksums,
            "extents": list(extents),
        }
        while True:
            old = await self.store.get(PARTS, key)
            try:
                await self.store.put(PARTS, key, value, expect=old.revision if old else 0)
                break
            except ConflictError:
                continue
        if old is not None:
            await self.service.extents.release(old.value.get("extents") or ())
        return part

    async def parts(self, upload: Upload) -> list[Part]:
        docs = await self.store.scan(
            PARTS, f"{upload.bucket}/{upload.upload_id}/", limit=MAX_PARTS + 1
        )
        return [_part(d.value, int(d.key.rsplit("/", 1)[1])) for d in docs]

    async def abort(self, account: str, bucket: str, key: str, upload_id: str) -> None:
        upload = await self.upload(account, bucket, upload_id, key)
        await self._forget(upload)

    async def _forget(self, upload: Upload) -> None:
        """Remove an upload and its parts (whose bytes lose the parts' references)."""
        for doc in await self.store.scan(
            PARTS, f"{upload.bucket}/{upload.upload_id}/", limit=MAX_PARTS + 1
        ):
            await self.service.remove_manifest(PARTS, doc.key)
        await self.store.delete(UPLOADS, f"{upload.bucket}/{upload.upload_id}")

    async def complete(
        self,
        account: str,
        bucket: str,
        key: str,
        upload_id: str,
        requested: list[tuple[int, str, dict[str, str]]],
        *,
        caller: Caller | None = None,
    ) -> ObjectInfo:
        """Join the parts listed as (number, ETag, checksums sent) into the object."""
        target: BucketInfo = await self.service.owned_bucket(account, bucket)
        upload = await self.upload(account, bucket, upload_id, key)
        if not requested:
            from sendoff.services.s3.errors import MalformedXML

            raise MalformedXML(
                "The XML you provided was not well-formed or did not validate"
                " against our published schema"
            )
        stored = {p.number: p for p in await self.parts(upload)}
        chosen: list[Part] = []
        previous = 0
        for number, etag, sent in requested:
            if number <= previous:
                raise InvalidPartOrder(
                    "The list of parts was not in ascending order. Parts"
                    " must be ordered by part number.",
                    UploadId=upload_id,
                )
            previous = number
            part = stored.get(number)
            if part is None or etag.strip().strip('"') != part.etag:
                raise InvalidPart(
                    "One or more of the specified parts could not be found. The"
                    " part may not have been uploaded, or the specified entity"
                    " tag may not match the part's entity tag.",
                    UploadId=upload_id,
                    PartNumber=str(number),
                    ETag=etag,
                )
            for name, value in sent.items():
                if part.checksums.get(name) not in (None, value):
                    raise InvalidPart(
                        f"The upload was created using a {name.lower()} checksum."
                        " The complete request must include the checksum for each"
                        " part. It was missing for part 1 in the request."
                    )
            chosen.append(part)
        for part in chosen[:-1]:
            if part.size < MIN_PART_BYTES:
                raise EntityTooSmall(
                    "Your proposed upload is smaller than the minimum allowed size",
                    ProposedSize=str(part.size),
                    MinSizeAllowed=str(MIN_PART_BYTES),
                    PartNumber=str(part.number),
                    ETag=part.etag,
                )
        md5s = b"".join(bytes.fromhex(p.etag) for p in chosen)
        etag = f"{hashlib.md5(md5s).hexdigest()}-{len(chosen)}"
        checksums: dict[str, str] = {}
        if upload.algorithm:
            checksums[upload.algorithm] = await self._combined(upload, chosen)
        info = ObjectInfo(
            bucket=bucket,
            key=upload.key,
            size=sum(p.size for p in chosen),
            etag=etag,
            last_modified=self.service.clock(),
            content_type=upload.content_type or "binary/octet-stream",
            metadata=upload.metadata,
            headers=upload.headers,
            checksums=checksums,
            chunks=tuple(c for p in chosen for c in p.chunks),
            extents=tuple(e for p in chosen for e in p.extents),
            part_sizes=tuple(p.size for p in chosen),
            sequencer=self.service._sequencer(),
        )
        await self.service.extents.share(info.extents)  # the object's own references
        await self.service.commit(
            target, info, caller=caller, event_name="ObjectCreated:CompleteMultipartUpload"
        )
        await self._forget(upload)
        return info

    async def _combined(self, upload: Upload, parts: list[Part]) -> str:
        algorithm = upload.algorithm
        assert algorithm is not None
        if upload.checksum_type == "FULL_OBJECT":
            hasher = new_hasher(algorithm)
            for part in parts:
                async for piece in read_chunks(self.store, part.chunks):
                    hasher.update(piece)
            return encoded(hasher)
        hasher = new_hasher(algorithm)
        for part in parts:
            value = part.checksums.get(algorithm)
            if value is None:
                raise InvalidPart(
                    f"The upload was created using a {algorithm.lower()} checksum."
                    f" Part {part.number} was uploaded without one."
                )
            hasher.update(base64.b64decode(value))
        return f"{encoded(hasher)}-{len(parts)}"


def _check_number(number: int) -> None:
    if not 1 <= number <= MAX_PARTS:
        raise InvalidArgument(
            "Part number must be an integer between 1 and 10000, inclusive",
            ArgumentName="partNumber",
            ArgumentValue=str(number),
        )
