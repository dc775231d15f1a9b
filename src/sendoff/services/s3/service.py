"""The S3 domain service: buckets, objects and their listings, over the narrow store.

Storage (see docs/s3.md):

* a bucket is the document ``("s3-bucket", <name>)``: names are global, as in AWS, so the
  document says which account owns it and in which region it lives;
* an object is the document ``("s3-object", "<bucket>/<key>")`` (its manifest,
  :class:`~sendoff.services.s3.model.ObjectInfo`): size, ETag, metadata, checksums and the
  list of content-addressed chunks (:mod:`sendoff.services.s3.chunks`) holding its bytes.
  Listing is a prefix scan in byte order, the order S3 lists keys in.

A manifest is written after all its chunks are stored, so a reader on any process sees a
whole object or the previous one. Every committed create or remove is announced to the
listeners added with :meth:`S3Service.add_object_listener` (notifications build on them).

Per-bucket configuration (notifications and the like) is stored beside the bucket:
:meth:`S3Service.get_bucket_subresource` / :meth:`S3Service.put_bucket_subresource` keep
a JSON value per name in the document ``("s3-bucket-config", "<bucket>/<name>")``. The
HTTP routes of such subresources (``?notification``) are left to their owners: the S3
edge (:mod:`sendoff.api.s3`) passes them to handlers registered with
``S3Api.add_subresource``.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from dataclasses import replace as replace_fields
from datetime import UTC, datetime

from sendoff.errors import ConflictError
from sendoff.model.ids import ordered_id
from sendoff.model.json_types import JSON
from sendoff.services.s3.chunks import MAX_PUT_BYTES, Written, discard, read_chunks, write_chunks
from sendoff.services.s3.errors import (
    AccessDenied,
    BadDigest,
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    InvalidDigest,
    NoSuchBucket,
    NoSuchKey,
)
from sendoff.services.s3.extents import GRACE_S, Extents
from sendoff.services.s3.model import BucketInfo, Caller, ObjectEvent, ObjectInfo
from sendoff.services.s3.names import check_bucket_name, check_key, plausible_bucket_name
from sendoff.store import Store

log = logging.getLogger(__name__)

BUCKETS = "s3-bucket"
OBJECTS = "s3-object"
BUCKET_CONFIG = "s3-bucket-config"
UPLOADS = "s3-upload"  # multipart uploads in progress (sendoff.services.s3.multipart)
PARTS = "s3-part"  # their parts
ObjectListener = Callable[[ObjectEvent], Awaitable[None]]
_LAST = "\U0010ffff"  # sorts after every character: "past everything under a prefix"


@dataclass(frozen=True, kw_only=True)
class Listing:
    objects: list[ObjectInfo] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    last: str | None = None  # the last key or common prefix returned (next marker)
    last_is_prefix: bool = False


class S3Service:
    def __init__(
        self,
        store: Store,
        *,
        account_id: str,
        region: str,
        clock: Callable[[], float] = time.time,
        grace_s: float = GRACE_S,
    ) -> None:
        self.store = store
        self.account_id = account_id
        self.region = region
        self.clock = clock
        self.extents = Extents(store, clock=clock, grace_s=grace_s)
        self._listeners: list[ObjectListener] = []
        self._last_sequencer = 0

    # ---- listeners ----
    def add_object_listener(self, callback: ObjectListener) -> None:
        """``callback(event)`` after every committed object create or remove."""
        self._listeners.append(callback)

    async def _announce(
        self,
        caller: Caller | None,
        bucket: BucketInfo,
        info: ObjectInfo | None,
        key: str,
        event_name: str,
        *,
        version_id: str | None = None,
        sequencer: str | None = None,
    ) -> None:
        if not self._listeners:
            return
        caller = caller or Caller(account=bucket.account, region=bucket.region)
        event = ObjectEvent(
            account=bucket.account,
            region=bucket.region,
            bucket=bucket.name,
            key=key,
            event_name=event_name,
            size=info.size if info is not None else 0,
            etag=info.etag if info is not None else "",
            version_id=version_id if info is None else info.version_id,
            sequencer=sequencer or (info.sequencer if info is not None else self._sequencer()),
            event_time=datetime.fromtimestamp(self.clock(), UTC),
            source_ip=caller.source_ip,
            principal_id=caller.principal_id or caller.account,
            request_id=caller.request_id or ordered_id(),
            trace_header=caller.trace_header,
        )
        for listener in list(self._listeners):
            try:
                await listener(event)
            except Exception:  # a failing subscriber is logged and isolated
                log.exception("S3 object listener failed for %s/%s", bucket.name, key)

    def _sequencer(self) -> str:
        """Upper-case hex, 18 digits (as AWS's), increasing within this process."""
        value = max(time.time_ns(), self._last_sequencer + 1)
        self._last_sequencer = value
        return f"{value:018X}"

    # ---- buckets ----
    async def bucket(self, name: str) -> BucketInfo | None:
        """The bucket named ``name``, whichever account owns it (names are global)."""
        if not plausible_bucket_name(name):
            return None
        doc = await self.store.get(BUCKETS, name)
        return None if doc is None else BucketInfo.from_json(doc.value)

    async def bucket_exists(self, account: str, bucket: str) -> bool:
        info = await self.bucket(bucket)
        return info is not None and info.account == account

    async def owned_bucket(self, account: str, name: str) -> BucketInfo:
        """The bucket, if ``account`` owns it: NoSuchBucket, or AccessDenied for another's."""
        info = await self.bucket(name)
        if info is None:
            raise NoSuchBucket("The specified bucket does not exist", BucketName=name)
        if info.account != account:
            raise AccessDenied("Access Denied")
        return info

    async def create_bucket(self, account: str, region: str, name: str) -> BucketInfo:
        check_bucket_name(name)
        existing = await self.bucket(name)
        if existing is not None:
            if existing.account == account:
                if existing.region == "us-east-1" and region == "us-east-1":
                    return existing  # us-east-1 answers 200 again (legacy behaviour)
                raise BucketAlreadyOwnedByYou(
                    "Your previous request to create the named bucket succeeded and you"
                    " already own it.",
                    BucketName=name,
                )
            raise BucketAlreadyExists(
                "The requested bucket name is not available. The bucket namespace is shared"
                " by all users of the system. Please select a different name and try again.",
                BucketName=name,
            )
        info = BucketInfo(name=name, account=account, region=region, created=self.clock())
        try:
            await self.store.put(BUCKETS, name, info.to_json(), expect=0)
        except ConflictError:
            return await self.create_bucket(account, region, name)  # lost a race: answer again
        return info

    async def delete_bucket(self, account: str, name: str) -> None:
        await self.owned_bucket(account, name)
        if await self.store.scan(OBJECTS, f"{name}/", limit=1):
            raise BucketNotEmpty("The bucket you tried to delete is not empty", BucketName=name)
        for kind in (PARTS, UPLOADS):  # uploads in progress go with the bucket
            for doc in await self.store.scan(kind, f"{name}/", limit=1_000_000):
                await self.remove_manifest(kind, doc.key)
        for doc in await self.store.scan(BUCKET_CONFIG, f"{name}/"):
            await self.store.delete(BUCKET_CONFIG, doc.key)
        await self.store.delete(BUCKETS, name)

    async def list_buckets(self, account: str) -> list[BucketInfo]:
        docs = await self.store.scan(BUCKETS, "", limit=1_000_000)
        infos = [BucketInfo.from_json(d.value) for d in docs]
        return [info for info in infos if info.account == account]

    async def get_bucket_subresource(self, account: str, bucket: str, name: str) -> JSON | None:
        """A bucket's stored configuration ``name`` (e.g. "notification"), or None."""
        await self.owned_bucket(account, bucket)
        doc = await self.store.get(BUCKET_CONFIG, f"{bucket}/{name}")
        return None if doc is None else doc.value

    async def put_bucket_subresource(
        self, account: str, bucket: str, name: str, value: JSON | None
    ) -> None:
        """Store (or, with None, remove) a bucket's configuration ``name``."""
        await self.owned_bucket(account, bucket)
        if value is None:
            await self.store.delete(BUCKET_CONFIG, f"{bucket}/{name}")
        else:
            await self.store.put(BUCKET_CONFIG, f"{bucket}/{name}", value)

    # ---- objects ----
    async def put_object(
        self,
        account: str,
        bucket: str,
        key: str,
        body: bytes | AsyncIterator[bytes],
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        checksums: dict[str, str | None] | None = None,
        content_md5: str | None = None,
        expected_size: int | None = None,
        caller: Caller | None = None,
        event_name: str = "ObjectCreated:Put",
    ) -> ObjectInfo:
        """Store an object. ``checksums`` names algorithms to compute, each with the
        base64 value the client sent (verified: BadDigest) or None (computed only); a
        value may be filled in while ``body`` is read (a trailing checksum), so the map
        is read after the body, not copied."""
        info_bucket = await self.owned_bucket(account, bucket)
        check_key(key)
        wanted = checksums if checksums is not None else {}
        expected_md5 = _md5_header(content_md5) if content_md5 is not None else None
        written = await write_chunks(
            self.store,
            body,
            algorithms=wanted,
            max_size=MAX_PUT_BYTES,
            expected_size=expected_size,
        )
        await self.check_written(written, wanted, expected_md5)
        info = ObjectInfo(
            bucket=bucket,
            key=key,
            size=written.size,
            etag=written.md5.hex(),
            last_modified=self.clock(),
            content_type=content_type or "binary/octet-stream",
            metadata=dict(metadata or {}),
            headers=dict(headers or {}),
            checksums=written.checksums,
            chunks=tuple(written.chunks),
            extents=(written.extent,),
            sequencer=self._sequencer(),
        )
        await self.extents.created(written.extent, len(written.chunks))
        await self.commit(info_bucket, info, caller=caller, event_name=event_name)
        return info

    async def check_written(
        self, written: Written, wanted: dict[str, str | None], md5: bytes | None
    ) -> None:
        """BadDigest (and the chunks deleted) unless the body has the digests sent."""
        problem = None
        if md5 is not None and written.md5 != md5:
            problem = "The Content-MD5 you specified did not match what we received."
        for name, sent in wanted.items():
            if sent is not None and sent != written.checksums[name]:
                problem = f"The {name} you specified did not match the calculated checksum."
        if problem is not None:
            await discard(self.store, written)
            raise BadDigest(problem)

    async def commit(
        self, bucket: BucketInfo, info: ObjectInfo, *, caller: Caller | None, event_name: str
    ) -> None:
        """Write an object's manifest (its chunks are stored, its extents referred to)
        in place of the one before, whose extents lose a reference; announce it."""
        key = f"{bucket.name}/{info.key}"
        while True:
            old = await self.store.get(OBJECTS, key)
            try:
                await self.store.put(OBJECTS, key, info.to_json(),
                                     expect=old.revision if old is not None else 0)  # fmt: skip
                break
            except ConflictError:
                continue  # another writer replaced it meanwhile: replace theirs
        if old is not None:
            await self.extents.release(old.value.get("extents") or ())
        await self._announce(caller, bucket, info, info.key, event_name)

    async def find_object(self, account: str, bucket: str, key: str) -> ObjectInfo | None:
        await self.owned_bucket(account, bucket)
        doc = await self.store.get(OBJECTS, f"{bucket}/{key}")
        return None if doc is None else ObjectInfo.from_json(bucket, key, doc.value)

    async def head_object(self, account: str, bucket: str, key: str) -> ObjectInfo:
        info = await self.find_object(account, bucket, key)
        if info is None:
            raise NoSuchKey("The specified key does not exist.", Key=key)
        return info

    async def copy_object(
        self,
        account: str,
        source: ObjectInfo,
        bucket: str,
        key: str,
        *,
        replace: tuple[str | None, dict[str, str], dict[str, str]] | None = None,
        caller: Caller | None = None,
    ) -> ObjectInfo:
        """A new object with ``source``'s bytes (its chunks, shared: nothing is copied),
        and its metadata or, with ``replace``, (content type, metadata, headers)."""
        target = await self.owned_bucket(account, bucket)
        check_key(key)
        content_type, metadata, headers = (
            replace
            if replace is not None
            else (source.content_type, source.metadata, source.headers)
        )
        info = replace_fields(
            source,
            bucket=bucket,
            key=key,
            last_modified=self.clock(),
            content_type=content_type or "binary/octet-stream",
            metadata=dict(metadata),
            headers=dict(headers),
            sequencer=self._sequencer(),
            version_id=None,
        )
        await self.extents.share(source.extents)  # the bytes are shared, not copied
        await self.commit(target, info, caller=caller, event_name="ObjectCreated:Copy")
        return info

    def read(
        self, info: ObjectInfo, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """The object's bytes from ``start`` to ``end`` (exclusive), chunk by chunk."""
        return read_chunks(self.store, info.chunks, start, end)

    async def get_object_bytes(
        self, account: str, bucket: str, key: str, version_id: str | None = None
    ) -> tuple[ObjectInfo, bytes]:
        """A whole (small) object in memory: for code zips and the like."""
        info = await self.head_object(account, bucket, key)
        if version_id is not None and version_id not in (info.version_id, "null"):
            from sendoff.services.s3.errors import NoSuchVersion

            raise NoSuchVersion(
                "The specified version does not exist.", Key=key, VersionId=version_id
            )
        parts = [piece async for piece in self.read(info)]
        return info, b"".join(parts)

    async def delete_object(
        self,
        account: str,
        bucket: str,
        key: str,
        *,
        caller: Caller | None = None,
        event_name: str = "ObjectRemoved:Delete",
    ) -> bool:
        """Remove an object; True if there was one (S3 answers 204 either way)."""
        info_bucket = await self.owned_bucket(account, bucket)
        existed = await self.remove_manifest(OBJECTS, f"{bucket}/{key}")
        if existed:
            await self._announce(
                caller, info_bucket, None, key, event_name, sequencer=self._sequencer()
            )
        return existed

    async def remove_manifest(self, kind: str, key: str) -> bool:
        """Delete a manifest (an object's, a part's) and release its extents; False if
        there was none."""
        while True:
            doc = await self.store.get(kind, key)
            if doc is None:
                return False
            try:
                if not await self.store.delete(kind, key, expect=doc.revision):
                    continue
            except ConflictError:
                continue  # changed meanwhile: delete what is there now
            await self.extents.release(doc.value.get("extents") or ())
            return True

    async def list_objects(
        self,
        account: str,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        after: str = "",
        after_prefix: bool | None = None,
        max_keys: int = 1000,
    ) -> Listing:
        """Keys under ``prefix`` after ``after``, with keys sharing a part up to
        ``delimiter`` rolled into prefixes. ``after_prefix`` says whether ``after`` is a
        common prefix already returned (everything under it is skipped); None guesses
        from its form (a v1 ``marker``)."""
        await self.owned_bucket(account, bucket)
        base = f"{bucket}/"
        cursor: str | None = None
        if after:
            skip = after_prefix
            if skip is None:
                skip = bool(delimiter) and after.endswith(delimiter) and after.startswith(prefix)
            cursor = base + after + (_LAST if skip else "")
        objects: list[ObjectInfo] = []
        prefixes: list[str] = []
        last: str | None = None
        last_is_prefix = False
        while True:
            page = min(max(max_keys - len(objects) - len(prefixes), 0) + 1, 1000)
            docs = await self.store.scan(OBJECTS, base + prefix, after=cursor, limit=page)
            if not docs:
                return Listing(
                    objects=objects, prefixes=prefixes, last=last, last_is_prefix=last_is_prefix
                )
            for doc in docs:
                key = doc.key[len(base) :]
                if len(objects) + len(prefixes) >= max_keys:
                    return Listing(
                        objects=objects,
                        prefixes=prefixes,
                        truncated=True,
                        last=last,
                        last_is_prefix=last_is_prefix,
                    )
                cut = key.find(delimiter, len(prefix)) if delimiter else -1
                if cut >= 0:
                    common = key[: cut + len(delimiter)]
                    prefixes.append(common)
                    last, last_is_prefix = common, True
                    cursor = base + common + _LAST
                    break  # scan again past everything under this prefix
                objects.append(ObjectInfo.from_json(bucket, key, doc.value))
                last, last_is_prefix = key, False
                cursor = doc.key
            else:
                if len(docs) < page:
                    return Listing(
                        objects=objects, prefixes=prefixes, last=last, last_is_prefix=last_is_prefix
                    )


def _md5_header(value: str) -> bytes:
    try:
        digest = base64.b64decode(value, validate=True)
    except ValueError:
        raise InvalidDigest("The Content-MD5 you specified was invalid.") from None
    if len(digest) != 16:
        raise InvalidDigest("The Content-MD5 you specified was invalid.")
    return digest
