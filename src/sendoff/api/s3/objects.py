"""Object operations: PutObject, GetObject/HeadObject (ranges, conditions, response
overrides), DeleteObject, DeleteObjects, CopyObject."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import unquote

from starlette.datastructures import Headers
from starlette.responses import Response, StreamingResponse

from sendoff.api.context import CHUNK_SIGNING_KEY
from sendoff.api.s3.bodies import raw_stream, read_all, verified
from sendoff.api.s3.chunked import is_chunked, trailer_algorithm, unchunked
from sendoff.api.s3.responses import empty, request_headers, xml_response
from sendoff.api.s3.xml import child_text, element, http_date, iso8601, leaf, parse
from sendoff.model.digits import is_digits
from sendoff.services.s3.checksums import ALGORITHMS
from sendoff.services.s3.chunks import CHUNK_SIZE
from sendoff.services.s3.errors import (
    InvalidArgument,
    InvalidRange,
    InvalidRequest,
    MalformedXML,
    NotModified,
    PreconditionFailed,
    S3Error,
)
from sendoff.services.s3.model import ObjectInfo
from sendoff.services.s3.service import S3Service

if TYPE_CHECKING:
    from sendoff.api.s3.api import S3Request

STORED_HEADERS = (
    "content-encoding",
    "content-disposition",
    "content-language",
    "cache-control",
    "expires",
)
_OVERRIDES = {
    "response-content-type": "content-type",
    "response-content-language": "content-language",
    "response-expires": "expires",
    "response-cache-control": "cache-control",
    "response-content-disposition": "content-disposition",
    "response-content-encoding": "content-encoding",
}
_RANGE_RE = re.compile(r"bytes=(\d*)-(\d*)")
MAX_DELETE_KEYS = 1000


def metadata_of(headers: Headers) -> dict[str, str]:
    return {name[11:]: value for name, value in headers.items() if name.startswith("x-amz-meta-")}


def stored_headers(headers: Headers) -> dict[str, str]:
    kept = {}
    for name in STORED_HEADERS:
        value = headers.get(name)
        if name == "content-encoding" and value is not None:
            codings = [c.strip() for c in value.split(",") if c.strip() != "aws-chunked"]
            value = ", ".join(codings) or None
        if value is not None:
            kept[name] = value
    return kept


def checksums_of(headers: Headers) -> dict[str, str | None]:
    """The checksums a request asks for: sent values, or algorithms to compute (a trailer)."""
    wanted: dict[str, str | None] = {}
    for name in ALGORITHMS:
        value = headers.get(f"x-amz-checksum-{name.lower()}")
        if value is not None:
            wanted[name] = value
    algorithm = headers.get("x-amz-sdk-checksum-algorithm") or headers.get(
        "x-amz-checksum-algorithm"
    )
    if algorithm:
        algorithm = algorithm.upper()
        if algorithm not in ALGORITHMS:
            raise InvalidRequest(
                "Checksum algorithm provided is unsupported. Please try again"
                " with any of the valid types: [CRC32, CRC32C, CRC64NVME,"
                " SHA1, SHA256]"
            )
        wanted.setdefault(algorithm, None)
    return wanted


def body_of(
    s3: S3Request, wanted: dict[str, str | None]
) -> tuple[AsyncIterator[bytes], int | None]:
    """The request's payload as a stream, and its declared size when known."""
    headers = s3.headers
    declared = headers.get("x-amz-content-sha256")
    if is_chunked(headers):
        algorithm = trailer_algorithm(headers)
        if algorithm is not None:
            if algorithm not in ALGORITHMS:
                raise InvalidRequest(
                    "The value specified in the x-amz-trailer header is not supported"
                )
            wanted.setdefault(algorithm, None)  # its value arrives after the body
        size = headers.get("x-amz-decoded-content-length")
        signing = s3.request.scope.get(CHUNK_SIGNING_KEY)  # set by the gate: verify chunks
        stream = unchunked(raw_stream(s3.receive), headers, wanted, signing)
        return stream, int(size) if size and is_digits(size) else None
    length = headers.get("content-length")
    stream = verified(raw_stream(s3.receive), declared)
    return stream, int(length) if length and is_digits(length) else None


def checksum_headers(info: ObjectInfo) -> dict[str, str]:
    out = {f"x-amz-checksum-{name.lower()}": value for name, value in info.checksums.items()}
    if out:
        out["x-amz-checksum-type"] = "COMPOSITE" if info.parts else "FULL_OBJECT"
    return out


async def put_object(service: S3Service, s3: S3Request) -> Response:
    assert s3.bucket is not None and s3.key is not None
    await service.owned_bucket(s3.account_id, s3.bucket)  # before the body is read
    if (
        s3.headers.get("if-none-match") == "*"
        and await service.find_object(s3.account_id, s3.bucket, s3.key) is not None
    ):
        raise PreconditionFailed(
            "At least one of the pre-conditions you specified did not hold",
            Condition="If-None-Match",
        )
    wanted = checksums_of(s3.headers)
    stream, size = body_of(s3, wanted)
    info = await service.put_object(
        s3.account_id,
        s3.bucket,
        s3.key,
        stream,
        content_type=s3.headers.get("content-type"),
        metadata=metadata_of(s3.headers),
        headers=stored_headers(s3.headers),
        checksums=wanted,
        content_md5=s3.headers.get("content-md5"),
        expected_size=size,
        caller=s3.caller,
    )
    return empty(s3.request_id, headers={"ETag": f'"{info.etag}"', **checksum_headers(info)})


def _check_conditions(info: ObjectInfo, headers: Headers) -> None:
    etag = f'"{info.etag}"'
    if_match = headers.get("if-match")
    if if_match is not None and not _etag_matches(if_match, etag):
        raise PreconditionFailed(
            "At least one of the pre-conditions you specified did not hold", Condition="If-Match"
        )
    unmodified = _date(headers.get("if-unmodified-since"))
    if if_match is None and unmodified is not None and int(info.last_modified) > unmodified:
        raise PreconditionFailed(
            "At least one of the pre-conditions you specified did not hold",
            Condition="If-Unmodified-Since",
        )
    if_none = headers.get("if-none-match")
    if if_none is not None and _etag_matches(if_none, etag):
        raise NotModified("Not Modified")
    modified = _date(headers.get("if-modified-since"))
    if if_none is None and modified is not None and int(info.last_modified) <= modified:
        raise NotModified("Not Modified")


def _etag_matches(header: str, etag: str) -> bool:
    candidates = [c.strip() for c in header.split(",")]
    return "*" in candidates or etag in candidates or etag.strip('"') in candidates


def _date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


def _range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end exclusive) of a satisfiable ``Range``, None to send the whole object."""
    if not header:
        return None
    match = _RANGE_RE.fullmatch(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        return None  # not a range S3 understands: ignored, the whole object is sent
    first, last = match.group(1), match.group(2)
    if not first:
        length = int(last)
        if length == 0 or size == 0:
            raise InvalidRange(
                "The requested range is not satisfiable",
                RangeRequested=header,
                ActualObjectSize=str(size),
            )
        return max(size - length, 0), size
    start = int(first)
    end = int(last) + 1 if last else size
    if start >= size:
        raise InvalidRange(
            "The requested range is not satisfiable",
            RangeRequested=header,
            ActualObjectSize=str(size),
        )
    if end <= start:
        return None
    return start, min(end, size)


def object_headers(info: ObjectInfo, s3: S3Request) -> dict[str, str]:
    headers = {
        **request_headers(s3.request_id),
        "etag": f'"{info.etag}"',
        "last-modified": http_date(info.last_modified),
        "accept-ranges": "bytes",
        "content-type": info.content_type,
        **info.headers,
        **{f"x-amz-meta-{name}": value for name, value in info.metadata.items()},
    }
    if s3.headers.get("x-amz-checksum-mode", "").upper() == "ENABLED":
        headers.update(checksum_headers(info))
    for param, header in _OVERRIDES.items():
        if param in s3.query:
            headers[header] = s3.query[param]
    return headers


async def get_object(service: S3Service, s3: S3Request, *, head: bool) -> Response:
    assert s3.bucket is not None and s3.key is not None
    info = await service.head_object(s3.account_id, s3.bucket, s3.key)
    version = s3.query.get("versionId")
    if version is not None and version not in ("null", info.version_id):
        from sendoff.services.s3.errors import NoSuchVersion

        raise NoSuchVersion("The specified version does not exist.", Key=s3.key, VersionId=version)
    try:
        _check_conditions(info, s3.headers)
    except NotModified:
        return Response(
            b"",
            304,
            {
                k: v
                for k, v in object_headers(info, s3).items()
                if k in ("etag", "last-modified", "x-amz-request-id", "x-amz-id-2")
            },
        )
    headers = object_headers(info, s3)
    part = s3.query.get("partNumber")
    span = _range(s3.headers.get("range"), info.size)
    if part is not None:
        span = _part_span(info, part)
        headers["x-amz-mp-parts-count"] = str(max(info.parts, 1))
    status = 200
    if span is not None:
        start, end = span
        status = 206
        for name in [h for h in headers if h.startswith("x-amz-checksum-")]:
            del headers[name]  # the checksums are of the whole object
        headers["content-range"] = f"bytes {start}-{end - 1}/{info.size}"
    else:
        start, end = 0, info.size
    headers["content-length"] = str(end - start)
    if head:
        return Response(b"", status, headers)
    if end - start <= CHUNK_SIZE:  # at most one chunk: one write, no chunked framing
        body = b"".join([piece async for piece in service.read(info, start, end)])
        return Response(body, status, headers)
    return StreamingResponse(service.read(info, start, end), status, headers)


def _part_span(info: ObjectInfo, part: str) -> tuple[int, int] | None:
    if not is_digits(part) or int(part) < 1:
        raise InvalidArgument(
            "Part number must be an integer between 1 and 10000, inclusive",
            ArgumentName="partNumber",
            ArgumentValue=part,
        )
    number = int(part)
    if not info.parts:
        if number != 1:
            raise InvalidRange(
                "The requested range is not satisfiable", ActualObjectSize=str(info.size)
            )
        return None
    sizes = info.part_sizes
    if number > len(sizes):
        raise InvalidRange(
            "The requested range is not satisfiable", ActualObjectSize=str(info.size)
        )
    start = sum(sizes[: number - 1])
    return start, start + sizes[number - 1]


async def delete_object(service: S3Service, s3: S3Request) -> Response:
    assert s3.bucket is not None and s3.key is not None
    await service.delete_object(s3.account_id, s3.bucket, s3.key, caller=s3.caller)
    return empty(s3.request_id, 204)


async def delete_objects(service: S3Service, s3: S3Request) -> Response:
    assert s3.bucket is not None
    await service.owned_bucket(s3.account_id, s3.bucket)
    body = await read_all(
        verified(raw_stream(s3.receive), s3.headers.get("x-amz-content-sha256")), 2 * 1024 * 1024
    )
    root = parse(body)
    if root.tag != "Delete":
        raise MalformedXML(
            "The XML you provided was not well-formed or did not validate"
            " against our published schema"
        )
    quiet = (child_text(root, "Quiet") or "").strip().lower() == "true"
    entries = root.findall("Object")
    if not entries or len(entries) > MAX_DELETE_KEYS:
        raise MalformedXML(
            "The XML you provided was not well-formed or did not validate"
            " against our published schema"
        )
    result = element("DeleteResult", ns=True)
    for entry in entries:
        key = child_text(entry, "Key") or ""
        version = child_text(entry, "VersionId")
        try:
            from sendoff.services.s3.names import check_key

            check_key(key)
            await service.delete_object(
                s3.account_id, s3.bucket, key, caller=s3.caller, event_name="ObjectRemoved:Delete"
            )
        except S3Error as error:
            result.append(
                element(
                    "Error",
                    leaf("Key", key),
                    *([leaf("VersionId", version)] if version else []),
                    leaf("Code", error.code),
                    leaf("Message", error.message),
                )
            )
            continue
        if not quiet:
            result.append(
                element(
                    "Deleted", leaf("Key", key), *([leaf("VersionId", version)] if version else [])
                )
            )
    return xml_response(result, s3.request_id)


def copy_source(header: str) -> tuple[str, str, str | None]:
    """(bucket, key, version) of ``x-amz-copy-source`` (``/bucket/key?versionId=v``)."""
    source, _, query = header.partition("?")
    source = unquote(source).lstrip("/")
    bucket, slash, key = source.partition("/")
    if not slash or not bucket or not key:
        raise InvalidArgument(
            "Invalid copy source object key", ArgumentName="x-amz-copy-source", ArgumentValue=header
        )
    version = None
    if query.startswith("versionId="):
        version = unquote(query[len("versionId=") :])
    return bucket, key, version


async def copy_object(service: S3Service, s3: S3Request) -> Response:
    assert s3.bucket is not None and s3.key is not None
    bucket, key, _version = copy_source(s3.headers["x-amz-copy-source"])
    source = await service.head_object(s3.account_id, bucket, key)
    _check_copy_conditions(source, s3.headers)
    directive = s3.headers.get("x-amz-metadata-directive", "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise InvalidArgument(
            "Unknown metadata directive.",
            ArgumentName="x-amz-metadata-directive",
            ArgumentValue=directive,
        )
    if directive == "COPY" and (bucket, key) == (s3.bucket, s3.key):
        raise InvalidRequest(
            "This copy request is illegal because it is trying to copy an object to itself"
            " without changing the object's metadata, storage class, website redirect location"
            " or encryption attributes."
        )
    replace = None
    if directive == "REPLACE":
        replace = (
            s3.headers.get("content-type"),
            metadata_of(s3.headers),
            stored_headers(s3.headers),
        )
    info = await service.copy_object(
        s3.account_id, source, s3.bucket, s3.key, replace=replace, caller=s3.caller
    )
    root = element(
        "CopyObjectResult",
        leaf("LastModified", iso8601(info.last_modified)),
        leaf("ETag", f'"{info.etag}"'),
        ns=True,
    )
    return xml_response(root, s3.request_id, headers=checksum_headers(info))


def _check_copy_conditions(source: ObjectInfo, headers: Headers) -> None:
    mapped = {}
    for name in ("if-match", "if-none-match", "if-modified-since", "if-unmodified-since"):
        value = headers.get(f"x-amz-copy-source-{name}")
        if value is not None:
            mapped[name] = value
    if not mapped:
        return
    try:
        _check_conditions(source, Headers(mapped))
    except NotModified:
        raise PreconditionFailed(
            "At least one of the pre-conditions you specified did not hold",
            Condition="x-amz-copy-source-If-None-Match",
        ) from None
