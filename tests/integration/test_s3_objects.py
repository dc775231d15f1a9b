"""S3 buckets and objects through boto3 against the real server: the basic operations,
listings, conditional and ranged reads, copies, deletes and their XML errors."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.support.server import ServerProcess

SIGNED = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request,"
    " SignedHeaders=host, Signature=" + "0" * 64
}


@pytest.fixture(scope="module")
def s3(server: ServerProcess) -> Iterator[Any]:
    client = client_for(server.url, "s3")
    yield client
    client.close()  # its pooled sockets, before garbage collection finds them


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def test_buckets_create_head_list_delete(s3: Any) -> None:
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    head = s3.head_bucket(Bucket=name)
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    with pytest.raises(ClientError) as excinfo:
        s3.delete_bucket(Bucket=name)
    assert error_code(excinfo) == "BucketNotEmpty"
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as excinfo:
        s3.head_bucket(Bucket=name)
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as excinfo:
        s3.list_objects_v2(Bucket=name)
    assert error_code(excinfo) == "NoSuchBucket"


def test_bucket_names_and_location_rules(server: ServerProcess, s3: Any) -> None:
    for bad in ("ab", "UPPER", "a..b", "192.168.1.1", "-lead", "xn--punycode"):
        with pytest.raises(ClientError) as excinfo:
            s3.create_bucket(Bucket=bad)
        assert error_code(excinfo) == "InvalidBucketName", bad
    name = f"test-{uuid.uuid4().hex[:12]}"
    with pytest.raises(ClientError) as excinfo:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert error_code(excinfo) == "InvalidLocationConstraint"
    west = client_for(server.url, "s3", region="eu-west-1")
    with pytest.raises(ClientError) as excinfo:
        west.create_bucket(Bucket=name)
    assert error_code(excinfo) == "IllegalLocationConstraintException"
    with pytest.raises(ClientError) as excinfo:
        west.create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
        )
    assert error_code(excinfo) == "IllegalLocationConstraintException"
    west.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    with pytest.raises(ClientError) as excinfo:
        west.create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
    assert error_code(excinfo) == "BucketAlreadyOwnedByYou"
    west.close()
    other = f"test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=other, CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
    assert s3.get_bucket_location(Bucket=other)["LocationConstraint"] == "ap-south-1"


def test_put_get_head_metadata_and_headers(s3: Any, bucket: str) -> None:
    body = b"hello world"
    put = s3.put_object(
        Bucket=bucket, Key="dir/hello.txt", Body=body, ContentType="text/plain",
        Metadata={"Colour": "blue"}, ContentEncoding="identity",
        ContentDisposition='attachment; filename="h.txt"', CacheControl="no-cache",
    )  # fmt: skip
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="dir/hello.txt")
    assert got["Body"].read() == body
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"colour": "blue"}
    assert got["ContentDisposition"] == 'attachment; filename="h.txt"'
    assert got["CacheControl"] == "no-cache"
    assert got["ContentEncoding"] == "identity"
    head = s3.head_object(Bucket=bucket, Key="dir/hello.txt", ChecksumMode="ENABLED")
    assert head["ContentLength"] == len(body)
    assert head["ETag"] == put["ETag"]
    assert head.get("ChecksumCRC32")  # boto3 sends a CRC32 by default; it is returned
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="missing")
    assert error_code(excinfo) == "NoSuchKey"
    assert excinfo.value.response["Error"]["Key"] == "missing"
    overridden = s3.get_object(Bucket=bucket, Key="dir/hello.txt", ResponseContentType="x/y")
    overridden["Body"].read()  # an unread body keeps its connection out of the pool
    assert overridden["ContentType"] == "x/y"


def test_keys_are_names_not_paths(s3: Any, bucket: str) -> None:
    keys = ["../../etc/passwd", "a//b", "sp ace/ü+%/?#", "./.", "trailing/"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    for key in keys:
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == sorted(keys, key=lambda k: k.encode())
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"")
    assert error_code(excinfo) == "KeyTooLongError"


def test_checksums_and_content_md5_are_verified(s3: Any, bucket: str) -> None:
    for algorithm in ("CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"):
        if algorithm in ("CRC32C", "CRC64NVME"):
            from botocore.compat import HAS_CRT

            if not HAS_CRT:
                continue  # botocore needs awscrt to compute these; the server has its own
        put = s3.put_object(Bucket=bucket, Key=algorithm, Body=b"data", ChecksumAlgorithm=algorithm)
        head = s3.head_object(Bucket=bucket, Key=algorithm, ChecksumMode="ENABLED")
        assert head[f"Checksum{algorithm}"] == put[f"Checksum{algorithm}"]
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"data", ChecksumCRC32="AAAAAA==")
    assert error_code(excinfo) == "BadDigest"
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"data", ContentMD5="1B2M2Y8AsgTpgAmY7PhCfg==")
    assert error_code(excinfo) == "BadDigest"
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="bad")


def test_crc32c_and_crc64nvme_sent_as_headers(server: ServerProcess, s3: Any, bucket: str) -> None:
    from sendoff.services.s3.checksums import encoded, new_hasher

    body = os.urandom(3000)
    for algorithm in ("CRC32C", "CRC64NVME"):
        hasher = new_hasher(algorithm)
        hasher.update(body)
        header = f"x-amz-checksum-{algorithm.lower()}"
        sent = httpx.put(f"{server.url}/{bucket}/{algorithm}", content=body,
                         headers={**SIGNED, header: encoded(hasher)})  # fmt: skip
        assert sent.status_code == 200 and sent.headers[header] == encoded(hasher)
        head = httpx.head(f"{server.url}/{bucket}/{algorithm}",
                          headers={**SIGNED, "x-amz-checksum-mode": "ENABLED"})  # fmt: skip
        assert head.headers[header] == encoded(hasher)
        wrong = httpx.put(f"{server.url}/{bucket}/{algorithm}-bad", content=body,
                          headers={**SIGNED, header: "AAAAAAAAAAA="})  # fmt: skip
        assert wrong.status_code == 400 and b"BadDigest" in wrong.content


def test_ranges_and_conditions(s3: Any, bucket: str) -> None:
    body = bytes(range(256)) * 10
    etag = s3.put_object(Bucket=bucket, Key="r", Body=body)["ETag"]
    part = s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-19")
    assert part["Body"].read() == body[10:20]
    assert part["ContentRange"] == f"bytes 10-19/{len(body)}"
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=-5")["Body"].read() == body[-5:]
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=2550-")["Body"].read() == body[2550:]
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=5000-6000")
    assert error_code(excinfo) == "InvalidRange"
    assert s3.get_object(Bucket=bucket, Key="r", IfMatch=etag)["Body"].read() == body
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="r", IfMatch='"nope"')
    assert error_code(excinfo) == "PreconditionFailed"
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="r", IfNoneMatch=etag)
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    later = datetime.now(UTC) + timedelta(hours=1)
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="r", IfModifiedSince=later)
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=bucket, Key="r", IfUnmodifiedSince=later - timedelta(days=2))
    assert error_code(excinfo) == "PreconditionFailed"
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="r", Body=b"x", IfNoneMatch="*")
    assert error_code(excinfo) == "PreconditionFailed"


def test_listing_pages_prefixes_and_v1(s3: Any, bucket: str) -> None:
    keys = [f"p/{i:02d}" for i in range(7)] + ["q/1", "q/2/x", "r"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    seen: list[str] = []
    token = None
    while True:
        page = s3.list_objects_v2(
            Bucket=bucket, MaxKeys=3, **({"ContinuationToken": token} if token else {})
        )
        seen += [o["Key"] for o in page.get("Contents", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert seen == keys
    top = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["p/", "q/"]
    assert [o["Key"] for o in top["Contents"]] == ["r"]
    paged = s3.list_objects_v2(Bucket=bucket, Delimiter="/", MaxKeys=1)
    assert paged["IsTruncated"] and [p["Prefix"] for p in paged["CommonPrefixes"]] == ["p/"]
    rest = s3.list_objects_v2(
        Bucket=bucket, Delimiter="/", ContinuationToken=paged["NextContinuationToken"]
    )
    assert [p["Prefix"] for p in rest.get("CommonPrefixes", [])] == ["q/"]
    assert s3.list_objects_v2(Bucket=bucket, StartAfter="p/05")["Contents"][0]["Key"] == "p/06"
    q = s3.list_objects_v2(Bucket=bucket, Prefix="q/", Delimiter="/")
    assert [o["Key"] for o in q["Contents"]] == ["q/1"]
    assert [p["Prefix"] for p in q["CommonPrefixes"]] == ["q/2/"]
    s3.put_object(Bucket=bucket, Key="q/", Body=b"")  # a key that looks like a prefix
    q_keys: list[str] = []
    token = None
    while True:
        more = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=bucket, Prefix="q/", Delimiter="/", MaxKeys=1, **more)
        q_keys += [o["Key"] for o in page.get("Contents", [])]
        q_keys += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert q_keys == ["q/", "q/1", "q/2/"]
    s3.delete_object(Bucket=bucket, Key="q/")
    v1 = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=1)
    assert v1["IsTruncated"] and v1["NextMarker"] == "p/"
    v1b = s3.list_objects(Bucket=bucket, Marker="p/03")
    assert v1b["Contents"][0]["Key"] == "p/04"


def test_copy_and_delete_objects(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"copy me", Metadata={"a": "1"})
    copied = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert copied["CopyObjectResult"]["ETag"] == s3.head_object(Bucket=bucket, Key="src")["ETag"]
    dst = s3.get_object(Bucket=bucket, Key="dst")
    assert dst["Body"].read() == b"copy me" and dst["Metadata"] == {"a": "1"}
    s3.copy_object(Bucket=bucket, Key="dst2", CopySource=f"{bucket}/src",
                   MetadataDirective="REPLACE", Metadata={"b": "2"})  # fmt: skip
    assert s3.head_object(Bucket=bucket, Key="dst2")["Metadata"] == {"b": "2"}
    with pytest.raises(ClientError) as excinfo:
        s3.copy_object(Bucket=bucket, Key="src", CopySource=f"{bucket}/src")
    assert error_code(excinfo) == "InvalidRequest"
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "src"}, {"Key": "dst"}, {"Key": "never-was"},
    ]})  # fmt: skip
    assert sorted(d["Key"] for d in result["Deleted"]) == ["dst", "never-was", "src"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["dst2"]


def test_upload_and_download_file_multipart(s3: Any, bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(9 * 1024 * 1024))  # above boto3's 8 MB multipart threshold
    s3.upload_file(str(source), bucket, "big.bin")
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ETag"].endswith('-2"')
    back = tmp_path / "back.bin"
    s3.download_file(bucket, "big.bin", str(back))
    assert (
        hashlib.sha256(back.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()
    )
    part2 = s3.get_object(Bucket=bucket, Key="big.bin", PartNumber=2)
    assert len(part2["Body"].read()) == 1024 * 1024
    assert part2["ContentLength"] == 1024 * 1024 and part2["PartsCount"] == 2


def test_xml_bombs_are_refused(server: ServerProcess, bucket: str) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<Delete><Object><Key>&lol2;</Key></Object></Delete>"
    )
    response = httpx.post(f"{server.url}/{bucket}?delete", content=bomb, headers=SIGNED)
    assert response.status_code == 400
    assert b"<Code>MalformedXML</Code>" in response.content


def test_unsigned_path_style_requests_are_not_s3(
    server: ServerProcess, s3: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="secret", Body=b"s")
    response = httpx.get(f"{server.url}/{bucket}/secret")
    assert response.status_code == 404 and b"secret" not in response.content.replace(
        b"/secret", b""
    )
    assert b"UnknownOperation" in response.content


def test_virtual_hosted_addressing(server: ServerProcess, s3: Any, bucket: str) -> None:
    # *.localhost names resolve in browsers and under systemd-resolved, not with plain glibc:
    # connect to 127.0.0.1 and name the bucket in Host, as a resolver would
    host = {"Host": f"{bucket}.s3.localhost:{server.port}"}
    put = httpx.put(f"{server.url}/v/k", content=b"virtual", headers={**host, **SIGNED})
    assert put.status_code == 200, put.text
    assert s3.get_object(Bucket=bucket, Key="v/k")["Body"].read() == b"virtual"
    got = httpx.get(f"{server.url}/v/k", headers=host)  # unsigned: anonymous, auth is off
    assert got.content == b"virtual"
    listing = httpx.get(f"{server.url}/?list-type=2", headers=host)
    assert b"<Key>v/k</Key>" in listing.content


def _chunked(payload: bytes, size: int, signed: bool, trailer: bytes = b"") -> bytes:
    out = b""
    signature = b";chunk-signature=" + b"0" * 64 if signed else b""
    for start in range(0, len(payload), size):
        piece = payload[start : start + size]
        out += f"{len(piece):x}".encode() + signature + b"\r\n" + piece + b"\r\n"
    return out + b"0" + signature + b"\r\n" + trailer + b"\r\n"


def test_aws_chunked_bodies_with_trailing_checksums(
    server: ServerProcess, s3: Any, bucket: str
) -> None:
    import base64
    import zlib

    payload = os.urandom(200_000)
    crc = base64.b64encode(zlib.crc32(payload).to_bytes(4, "big"))
    unsigned = {
        **SIGNED, "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "content-encoding": "aws-chunked", "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-decoded-content-length": str(len(payload)), "expect": "100-continue",
    }  # fmt: skip
    body = _chunked(payload, 65536, False, b"x-amz-checksum-crc32:" + crc + b"\r\n")
    response = httpx.put(f"{server.url}/{bucket}/trailer", content=body, headers=unsigned)
    assert response.status_code == 200, response.text
    assert response.headers["x-amz-checksum-crc32"] == crc.decode()
    got = s3.get_object(Bucket=bucket, Key="trailer", ChecksumMode="ENABLED")
    assert got["Body"].read() == payload and got["ChecksumCRC32"] == crc.decode()
    assert "ContentEncoding" not in got  # aws-chunked is the transfer's, not the object's
    wrong = _chunked(payload, 65536, False, b"x-amz-checksum-crc32:AAAAAA==\r\n")
    refused = httpx.put(f"{server.url}/{bucket}/bad-trailer", content=wrong, headers=unsigned)
    assert refused.status_code == 400 and b"BadDigest" in refused.content
    signed = {
        **SIGNED, "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(payload)),
    }  # fmt: skip
    sent = httpx.put(f"{server.url}/{bucket}/signed-chunks",
                     content=_chunked(payload, 8192, True), headers=signed)  # fmt: skip
    assert sent.status_code == 200, sent.text
    assert s3.get_object(Bucket=bucket, Key="signed-chunks")["Body"].read() == payload
    short = _chunked(payload, 8192, True)[:-20]
    cut = httpx.put(f"{server.url}/{bucket}/cut", content=short, headers=signed)
    assert cut.status_code == 400
