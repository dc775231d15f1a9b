"""Bucket operations and listings: CreateBucket (with its location rules), HeadBucket,
DeleteBucket, ListBuckets, GetBucketLocation, GetBucketVersioning, ListObjects (v1, v2)."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.responses import Response

from sendoff.api.s3.bodies import raw_stream, read_all, verified
from sendoff.api.s3.responses import empty, xml_response
from sendoff.api.s3.xml import child_text, element, iso8601, leaf, leaves, parse
from sendoff.services.s3.errors import (
    IllegalLocationConstraint,
    InvalidArgument,
    InvalidLocationConstraint,
)
from sendoff.services.s3.model import ObjectInfo
from sendoff.services.s3.service import Listing, S3Service

if TYPE_CHECKING:
    from sendoff.api.s3.api import S3Request

LIST_V1_PARAMS = frozenset({"prefix", "delimiter", "marker", "max-keys", "encoding-type"})
_REGION_RE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
OWNER_NAME = "sendoff"


def _owner(account: str) -> list[ET.Element]:
    return [leaf("ID", account.rjust(64, "0")), leaf("DisplayName", OWNER_NAME)]


async def create_bucket(service: S3Service, s3: S3Request) -> Response:
    assert s3.bucket is not None
    declared = s3.headers.get("x-amz-content-sha256")
    body = await read_all(verified(raw_stream(s3.receive), declared), 64 * 1024)
    constraint: str | None = None
    if body.strip():
        root = parse(body)
        constraint = child_text(root, "LocationConstraint")
    region = _bucket_region(s3.region, constraint)
    await service.create_bucket(s3.account_id, region, s3.bucket)
    return empty(s3.request_id, headers={"Location": f"/{s3.bucket}"})


def _bucket_region(request_region: str, constraint: str | None) -> str:
    """AWS's rules: us-east-1 (the global endpoint) takes any other region's constraint;
    a regional endpoint needs the constraint to name its own region."""
    if constraint == "EU":
        constraint = "eu-west-1"
    if constraint is not None and not _REGION_RE.fullmatch(constraint):
        raise InvalidLocationConstraint(
            "The specified location-constraint is not valid", LocationConstraint=constraint
        )
    if request_region == "us-east-1":
        if constraint == "us-east-1":
            raise InvalidLocationConstraint(
                "The specified location-constraint is not valid", LocationConstraint=constraint
            )
        return constraint or "us-east-1"
    if constraint is None:
        raise IllegalLocationConstraint(
            "The unspecified location constraint is incompatible for the region specific"
            " endpoint this request was sent to."
        )
    if constraint != request_region:
        raise IllegalLocationConstraint(
            f"The {constraint} location constraint is incompatible for the region specific"
            " endpoint this request was sent to."
        )
    return constraint


async def head_bucket(service: S3Service, s3: S3Request) -> Response:
    assert s3.bucket is not None
    info = await service.owned_bucket(s3.account_id, s3.bucket)
    return empty(
        s3.request_id,
        headers={"x-amz-bucket-region": info.region, "x-amz-access-point-alias": "false"},
    )


async def delete_bucket(service: S3Service, s3: S3Request) -> Response:
    assert s3.bucket is not None
    await service.delete_bucket(s3.account_id, s3.bucket)
    return empty(s3.request_id, 204)


async def list_buckets(service: S3Service, s3: S3Request) -> Response:
    infos = await service.list_buckets(s3.account_id)
    entries = [
        element(
            "Bucket",
            leaf("Name", b.name),
            leaf("CreationDate", iso8601(b.created)),
            leaf("BucketRegion", b.region),
        )
        for b in infos
    ]
    root = element(
        "ListAllMyBucketsResult",
        element("Owner", *_owner(s3.account_id)),
        element("Buckets", *entries),
        ns=True,
    )
    return xml_response(root, s3.request_id)


async def get_location(service: S3Service, s3: S3Request) -> Response:
    assert s3.bucket is not None
    info = await service.owned_bucket(s3.account_id, s3.bucket)
    text = None if info.region == "us-east-1" else info.region
    return xml_response(element("LocationConstraint", text=text, ns=True), s3.request_id)


async def get_versioning(service: S3Service, s3: S3Request) -> Response:
    assert s3.bucket is not None
    await service.owned_bucket(s3.account_id, s3.bucket)
    return xml_response(element("VersioningConfiguration", ns=True), s3.request_id)


def _max_keys(s3: S3Request) -> int:
    raw = s3.query.get("max-keys", "1000")
    try:
        value = int(raw)
    except ValueError:
        raise InvalidArgument(
            "Provided max-keys not an integer or within integer range",
            ArgumentName="max-keys",
            ArgumentValue=raw,
        ) from None
    if value < 0:
        raise InvalidArgument(
            "Argument maxKeys must be an integer between 0 and 2147483647",
            ArgumentName="maxKeys",
            ArgumentValue=raw,
        )
    return min(value, 1000)


def _encoder(s3: S3Request) -> str | None:
    encoding = s3.query.get("encoding-type")
    if encoding is not None and encoding != "url":
        raise InvalidArgument(
            "Invalid Encoding Method specified in Request",
            ArgumentName="encoding-type",
            ArgumentValue=encoding,
        )
    return encoding


def _enc(value: str, encoding: str | None) -> str:
    return quote(value, safe="/") if encoding == "url" else value


def _contents(info: ObjectInfo, encoding: str | None, owner: str | None) -> ET.Element:
    children = [
        leaf("Key", _enc(info.key, encoding)),
        leaf("LastModified", iso8601(info.last_modified)),
        leaf("ETag", f'"{info.etag}"'),
        *[leaf("ChecksumAlgorithm", name) for name in info.checksums][:1],
        leaf("ChecksumType", "FULL_OBJECT" if not info.parts else "COMPOSITE")
        if info.checksums
        else None,
        leaf("Size", info.size),
        element("Owner", *_owner(owner)) if owner else None,
        leaf("StorageClass", "STANDARD"),
    ]
    return element("Contents", *children)


def _listing_body(
    root_tag: str,
    listing: Listing,
    s3: S3Request,
    head: list[ET.Element],
    encoding: str | None,
    owner: str | None,
) -> Response:
    root = element(root_tag, *head, ns=True)
    for info in listing.objects:
        root.append(_contents(info, encoding, owner))
    for common in listing.prefixes:
        root.append(element("CommonPrefixes", leaf("Prefix", _enc(common, encoding))))
    if encoding:
        root.append(leaf("EncodingType", encoding))
    return xml_response(root, s3.request_id)


async def list_objects_v2(service: S3Service, s3: S3Request) -> Response:
    assert s3.bucket is not None
    q = s3.query
    prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
    encoding = _encoder(s3)
    max_keys = _max_keys(s3)
    token = q.get("continuation-token")
    after, after_prefix = q.get("start-after", ""), False
    if token is not None:
        after, after_prefix = _decode_token(token)
    listing = await service.list_objects(
        s3.account_id, s3.bucket, prefix=prefix, delimiter=delimiter, after=after,
        after_prefix=after_prefix, max_keys=max_keys,
    )  # fmt: skip
    fetch_owner = q.get("fetch-owner") == "true"
    head = leaves(
        [
            ("Name", s3.bucket),
            ("Prefix", _enc(prefix, encoding)),
            ("Delimiter", _enc(delimiter, encoding) if delimiter else None),
            ("MaxKeys", max_keys),
            ("KeyCount", len(listing.objects) + len(listing.prefixes)),
            ("IsTruncated", listing.truncated),
            ("ContinuationToken", token),
            (
                "NextContinuationToken",
                _encode_token(listing.last, listing.last_is_prefix)
                if listing.truncated and listing.last
                else None,
            ),
            ("StartAfter", _enc(q["start-after"], encoding) if "start-after" in q else None),
        ]
    )
    return _listing_body(
        "ListBucketResult",
        listing,
        s3,
        head,
        encoding,
        s3.account_id if fetch_owner else None,
    )


async def list_objects_v1(service: S3Service, s3: S3Request) -> Response:
    assert s3.bucket is not None
    q = s3.query
    prefix, delimiter, marker = q.get("prefix", ""), q.get("delimiter", ""), q.get("marker", "")
    encoding = _encoder(s3)
    max_keys = _max_keys(s3)
    listing = await service.list_objects(
        s3.account_id,
        s3.bucket,
        prefix=prefix,
        delimiter=delimiter,
        after=marker,
        max_keys=max_keys,
    )
    head = leaves(
        [
            ("Name", s3.bucket),
            ("Prefix", _enc(prefix, encoding)),
            ("Marker", _enc(marker, encoding)),
            (
                "NextMarker",
                _enc(listing.last, encoding)
                if listing.truncated and delimiter and listing.last
                else None,
            ),
            ("MaxKeys", max_keys),
            ("Delimiter", _enc(delimiter, encoding) if delimiter else None),
            ("IsTruncated", listing.truncated),
        ]
    )
    return _listing_body(
        "ListBucketResult",
        listing,
        s3,
        head,
        encoding,
        s3.account_id,
    )


def _encode_token(last: str, is_prefix: bool) -> str:
    """An opaque continuation token: where the page ended, and whether that was a prefix."""
    marked = ("p" if is_prefix else "k") + last
    return base64.urlsafe_b64encode(marked.encode("utf-8", "surrogateescape")).decode()


def _decode_token(token: str) -> tuple[str, bool]:
    try:
        marked = base64.urlsafe_b64decode(token.encode()).decode("utf-8", "surrogateescape")
    except ValueError:
        marked = ""
    if not marked or marked[0] not in "pk":
        raise InvalidArgument(
            "The continuation token provided is incorrect", ArgumentName="continuation-token"
        )
    return marked[1:], marked[0] == "p"
