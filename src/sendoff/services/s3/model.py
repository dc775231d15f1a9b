"""S3's records: buckets, stored objects (a manifest of chunks), uploads, and the event
every committed object change produces (:class:`ObjectEvent`, for notifications)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sendoff.model.json_types import JSON


@dataclass(frozen=True, kw_only=True)
class BucketInfo:
    name: str
    account: str
    region: str
    created: float  # epoch seconds

    def to_json(self) -> JSON:
        return {
            "name": self.name,
            "account": self.account,
            "region": self.region,
            "created": self.created,
        }

    @classmethod
    def from_json(cls, value: JSON) -> BucketInfo:
        return cls(
            name=str(value["name"]),
            account=str(value["account"]),
            region=str(value["region"]),
            created=float(value["created"]),
        )


@dataclass(frozen=True, kw_only=True)
class Chunk:
    """A piece of an object's bytes: a blob named by its digest, and its length."""

    digest: str
    size: int


@dataclass(frozen=True, kw_only=True)
class ObjectInfo:
    """One stored object: what GetObject/HeadObject answer and where its bytes are."""

    bucket: str
    key: str
    size: int
    etag: str  # without quotes
    last_modified: float  # epoch seconds
    content_type: str = "binary/octet-stream"
    metadata: dict[str, str] = field(default_factory=dict)  # x-amz-meta-*, names lower-case
    headers: dict[str, str] = field(default_factory=dict)  # Content-Encoding, -Disposition...
    checksums: dict[str, str] = field(default_factory=dict)  # "CRC32" -> base64
    chunks: tuple[Chunk, ...] = ()
    extents: tuple[str, ...] = ()  # the written bodies its chunks belong to (refcounted)
    part_sizes: tuple[int, ...] = ()  # multipart: each part's size (the ETag's -N is their count)
    version_id: str | None = None
    sequencer: str = ""

    @property
    def parts(self) -> int:
        return len(self.part_sizes)

    def to_json(self) -> JSON:
        return {
            "size": self.size,
            "etag": self.etag,
            "last_modified": self.last_modified,
            "content_type": self.content_type,
            "metadata": dict(self.metadata),
            "headers": dict(self.headers),
            "checksums": dict(self.checksums),
            "chunks": [[c.digest, c.size] for c in self.chunks],
            "extents": list(self.extents),
            "part_sizes": list(self.part_sizes),
            "version_id": self.version_id,
            "sequencer": self.sequencer,
        }

    @classmethod
    def from_json(cls, bucket: str, key: str, value: JSON) -> ObjectInfo:
        v = value
        return cls(
            bucket=bucket,
            key=key,
            size=int(v["size"]),
            etag=str(v["etag"]),
            last_modified=float(v["last_modified"]),
            content_type=str(v.get("content_type") or "binary/octet-stream"),
            metadata=dict(v.get("metadata") or {}),
            headers=dict(v.get("headers") or {}),
            checksums=dict(v.get("checksums") or {}),
            chunks=tuple(Chunk(digest=d, size=s) for d, s in v.get("chunks") or []),
            extents=tuple(v.get("extents") or ()),
            part_sizes=tuple(int(n) for n in v.get("part_sizes") or ()),
            version_id=v.get("version_id") or None,
            sequencer=str(v.get("sequencer") or ""),
        )


@dataclass(frozen=True, kw_only=True)
class ObjectEvent:
    """An object was created or removed, after the change committed (any API path).

    ``event_name`` is AWS's without the ``s3:`` prefix: ``ObjectCreated:Put``,
    ``ObjectCreated:Copy``, ``ObjectCreated:CompleteMultipartUpload``,
    ``ObjectRemoved:Delete``, ``ObjectRemoved:DeleteMarkerCreated``."""

    account: str
    region: str
    bucket: str
    key: str
    event_name: str
    size: int
    etag: str  # without quotes; empty for removals
    version_id: str | None
    sequencer: str  # upper-case hex; compares (as strings of equal length) in commit order
    event_time: datetime  # timezone-aware UTC
    source_ip: str
    principal_id: str
    request_id: str
    trace_header: str | None = None  # the request's X-Amzn-Trace-Id (recursion lineage)


@dataclass(frozen=True, kw_only=True)
class Caller:
    """Who made a request, for events: the account id, principal and address."""

    account: str
    region: str
    principal_id: str = ""
    source_ip: str = "127.0.0.1"
    request_id: str = ""
    trace_header: str | None = None  # X-Amzn-Trace-Id: the recursion lineage (s3 events)
