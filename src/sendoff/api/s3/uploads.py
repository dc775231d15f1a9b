"""Multipart upload operations: Create, UploadPart, UploadPartCopy, Complete, Abort,
ListParts, ListMultipartUploads."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from starlette.responses import Response

from sendoff.api.s3.bodies import raw_stream, read_all, verified
from sendoff.api.s3.buckets import _owner
from sendoff.api.s3.objects import (
    _check_copy_conditions,
    body_of,
    checksums_of,
    copy_source,
    metadata_of,
    stored_headers,
)
from sendoff.api.s3.responses import empty, xml_response
from sendoff.api.s3.xml import child_text, element, iso8601, leaf, leaves, parse
from sendoff.model.digits import is_digits
from sendoff.services.s3.checksums import ALGORITHMS
from sendoff.services.s3.errors import InvalidArgument, InvalidRange, MalformedXML
from sendoff.services.s3.multipart import MultipartUploads, Part

if TYPE_CHECKING:
    from sendoff.api.s3.api import S3Request

_COPY_RANGE_RE = re.compile(r"bytes=(\d+)-(\d+)")


def _upload_id(s3: S3Request) -> str:
    return s3.query["uploadId"]


def _part_number(s3: S3Request) -> int:
    raw = s3.query.get("partNumber", "")
    if not is_digits(raw):
        raise InvalidArgument(
            "Part number must be an integer between 1 and 10000, inclusive",
            ArgumentName="partNumber",
            ArgumentValue=raw,
        )
    return int(raw)


def _part_checksum_headers(part: Part) -> dict[str, str]:
    return {f"x-amz-checksum-{name.lower()}": value for name, value in part.checksums.items()}


async def create(uploads: MultipartUploads, s3: S3Request) -> Response:
    assert s3.bucket is not None and s3.key is not None
    algorithm = (s3.headers.get("x-amz-checksum-algorithm") or "").upper() or None
    if algorithm is not None and algorithm not in ALGORITHMS:
        raise InvalidArgument(
            "Checksum algorithm provided is unsupported.", ArgumentName="x-amz-checksum-algorithm"
        )
    checksum_type = (s3.headers.get("x-amz-checksum-type") or "").upper() or None
    upload = await uploads.create(
        s3.account_id,
        s3.bucket,
        s3.key,
        content_type=s3.headers.get("content-type"),
        metadata=metadata_of(s3.headers),
        headers=stored_headers(s3.headers),
        algorithm=algorithm,
        checksum_type=checksum_type,
    )
    root = element(
        "InitiateMultipartUploadResult",
        *leaves(
            [
                ("Bucket", s3.bucket),
                ("Key", s3.key),
                ("UploadId", upload.upload_id),
            ]
        ),
        ns=True,
    )
    headers = {}
    if algorithm:
        headers["x-amz-checksum-algorithm"] = algorithm
        headers["x-amz-checksum-type"] = checksum_type or "COMPOSITE"
    return xml_response(root, s3.request_id, headers=headers)


async def upload_part(uploads: MultipartUploads, s3: S3Request) -> Response:
    assert s3.bucket is not None and s3.key is not None
    if "x-amz-copy-source" in s3.headers:
        return await _copy_part(uploads, s3)
    await uploads.upload(s3.account_id, s3.bucket, _upload_id(s3), s3.key)  # before the body
    wanted = checksums_of(s3.headers)
    stream, size = body_of(s3, wanted)
    part = await uploads.upload_part(
        s3.account_id,
        s3.bucket,
        s3.key,
        _upload_id(s3),
        _part_number(s3),
        stream,
        checksums=wanted,
        content_md5=s3.headers.get("content-md5"),
        expected_size=size,
    )
    return empty(s3.request_id, headers={"ETag": f'"{part.etag}"', **_part_checksum_headers(part)})


async def _copy_part(uploads: MultipartUploads, s3: S3Request) -> Response:
    assert s3.bucket is not None and s3.key is not None
    bucket, key, _version = copy_source(s3.headers["x-amz-copy-source"])
    source = await uploads.service.head_object(s3.account_id, bucket, key)
    _check_copy_conditions(source, s3.headers)
    span = None
    raw = s3.headers.get("x-amz-copy-source-range")
    if raw is not None:
        match = _COPY_RANGE_RE.fullmatch(raw.strip())
        if match is None:
            raise InvalidArgument(
                "The x-amz-copy-source-range value must be of the form"
                " bytes=first-last where first and last are the zero-based"
                " offsets of the first and last bytes to copy",
                ArgumentName="x-amz-copy-source-range",
                ArgumentValue=raw,
            )
        start, last = int(match.group(1)), int(match.group(2))
        if last < start or last >= source.size:
            raise InvalidRange(
                "The requested range is not satisfiable",
                RangeRequested=raw,
                ActualObjectSize=str(source.size),
            )
        span = (start, last + 1)
    part = await uploads.copy_part(
        s3.account_id, s3.bucket, s3.key, _upload_id(s3), _part_number(s3), source, span
    )
    root = element(
        "CopyPartResult",
        leaf("LastModified", iso8601(part.last_modified)),
        leaf("ETag", f'"{part.etag}"'),
        ns=True,
    )
    return xml_response(root, s3.request_id)


async def complete(uploads: MultipartUploads, s3: S3Request) -> Response:
    assert s3.bucket is not None and s3.key is not None
    await uploads.upload(s3.account_id, s3.bucket, _upload_id(s3), s3.key)
    body = await read_all(
        verified(raw_stream(s3.receive), s3.headers.get("x-amz-content-sha256")), 4 * 1024 * 1024
    )
    root = parse(body)
    if root.tag != "CompleteMultipartUpload":
        raise MalformedXML(
            "The XML you provided was not well-formed or did not validate"
            " against our published schema"
        )
    requested: list[tuple[int, str, dict[str, str]]] = []
    for node in root.findall("Part"):
        number = child_text(node, "PartNumber") or ""
        if not is_digits(number.strip()):
            raise MalformedXML(
                "The XML you provided was not well-formed or did not validate"
                " against our published schema"
            )
        sent = {
            name: value
            for name in ALGORITHMS
            if (value := child_text(node, f"Checksum{name}")) is not None
        }
        requested.append((int(number), child_text(node, "ETag") or "", sent))
    info = await uploads.complete(
        s3.account_id, s3.bucket, s3.key, _upload_id(s3), requested, caller=s3.caller
    )
    host = s3.headers.get("host", "localhost")
    checksum = [(f"Checksum{name}", value) for name, value in info.checksums.items()]
    result = element(
        "CompleteMultipartUploadResult",
        *leaves(
            [
                ("Location", f"http://{host}/{s3.bucket}/{s3.key}"),
                ("Bucket", s3.bucket),
                ("Key", s3.key),
                ("ETag", f'"{info.etag}"'),
                *checksum,
                (
                    "ChecksumType",
                    (
                        "FULL_OBJECT"
                        if not info.checksums or "-" not in next(iter(info.checksums.values()))
                        else "COMPOSITE"
                    )
                    if info.checksums
                    else None,
                ),
            ]
        ),
        ns=True,
    )
    return xml_response(result, s3.request_id)


async def abort(uploads: MultipartUploads, s3: S3Request) -> Response:
    assert s3.bucket is not None and s3.key is not None
    await uploads.abort(s3.account_id, s3.bucket, s3.key, _upload_id(s3))
    return empty(s3.request_id, 204)


async def list_parts(uploads: MultipartUploads, s3: S3Request) -> Response:
    assert s3.bucket is not None and s3.key is not None
    upload = await uploads.upload(s3.account_id, s3.bucket, _upload_id(s3), s3.key)
    marker_raw = s3.query.get("part-number-marker", "0")
    max_raw = s3.query.get("max-parts", "1000")
    if not is_digits(marker_raw) or not is_digits(max_raw):
        raise InvalidArgument(
            "Provided max-parts or part-number-marker not an integer", ArgumentName="max-parts"
        )
    marker, max_parts = int(marker_raw), min(int(max_raw), 1000)
    parts = [p for p in await uploads.parts(upload) if p.number > marker]
    shown, truncated = parts[:max_parts], len(parts) > max_parts
    owner = element("Owner", *_owner(s3.account_id))
    root = element(
        "ListPartsResult",
        *leaves(
            [
                ("Bucket", s3.bucket),
                ("Key", s3.key),
                ("UploadId", upload.upload_id),
                ("PartNumberMarker", marker),
                ("NextPartNumberMarker", shown[-1].number if shown else 0),
                ("MaxParts", max_parts),
                ("IsTruncated", truncated),
                ("ChecksumAlgorithm", upload.algorithm),
            ]
        ),
        element("Initiator", *_owner(s3.account_id)),
        owner,
        leaf("StorageClass", "STANDARD"),
        ns=True,
    )
    for part in shown:
        root.append(
            element(
                "Part",
                *leaves(
                    [
                        ("PartNumber", part.number),
                        ("LastModified", iso8601(part.last_modified)),
                        ("ETag", f'"{part.etag}"'),
                        ("Size", part.size),
                        *[(f"Checksum{n}", v) for n, v in part.checksums.items()],
                    ]
                ),
            )
        )
    return xml_response(root, s3.request_id)


async def list_uploads(uploads: MultipartUploads, s3: S3Request) -> Response:
    assert s3.bucket is not None
    prefix = s3.query.get("prefix", "")
    key_marker = s3.query.get("key-marker", "")
    id_marker = s3.query.get("upload-id-marker", "")
    max_raw = s3.query.get("max-uploads", "1000")
    max_uploads = min(int(max_raw), 1000) if is_digits(max_raw) else 1000
    found = [
        u
        for u in await uploads.uploads(s3.account_id, s3.bucket)
        if u.key.startswith(prefix)
        and (u.key, u.upload_id) > (key_marker, id_marker if key_marker else "")
    ]
    shown, truncated = found[:max_uploads], len(found) > max_uploads
    root = element(
        "ListMultipartUploadsResult",
        *leaves(
            [
                ("Bucket", s3.bucket),
                ("KeyMarker", key_marker),
                ("UploadIdMarker", id_marker),
                ("NextKeyMarker", shown[-1].key if truncated else None),
                ("NextUploadIdMarker", shown[-1].upload_id if truncated else None),
                ("Prefix", prefix),
                ("MaxUploads", max_uploads),
                ("IsTruncated", truncated),
            ]
        ),
        ns=True,
    )
    for upload in shown:
        root.append(
            element(
                "Upload",
                leaf("Key", upload.key),
                leaf("UploadId", upload.upload_id),
                element("Initiator", *_owner(s3.account_id)),
                element("Owner", *_owner(s3.account_id)),
                leaf("StorageClass", "STANDARD"),
                leaf("Initiated", iso8601(upload.initiated)),
            )
        )
    return xml_response(root, s3.request_id)
