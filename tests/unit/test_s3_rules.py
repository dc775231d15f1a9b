"""S3's pure rules: checksum algorithms against their published check values, bucket
name and key rules, and the aws-chunked decoder on awkward framings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import zlib
from collections.abc import AsyncIterator

import pytest
from starlette.datastructures import Headers

from sendoff.api.s3.chunked import unchunked
from sendoff.auth.sigv4 import ChunkSigning
from sendoff.services.s3.checksums import ALGORITHMS, new_hasher
from sendoff.services.s3.errors import (
    IncompleteBody,
    InvalidBucketName,
    KeyTooLong,
    SignatureDoesNotMatch,
)
from sendoff.services.s3.names import check_bucket_name, check_key

CHECK = b"123456789"  # the catalogue's input for each CRC's "check" value


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("CRC32", "cbf43926"),
        ("CRC32C", "e3069283"),
        ("CRC64NVME", "ae8b14860a799888"),
        ("SHA1", hashlib.sha1(CHECK).hexdigest()),
        ("SHA256", hashlib.sha256(CHECK).hexdigest()),
    ],
)
def test_checksums_match_their_check_values(algorithm: str, expected: str) -> None:
    hasher = new_hasher(algorithm)
    hasher.update(CHECK[:4])
    hasher.update(CHECK[4:])  # incremental, as bodies arrive
    assert hasher.digest().hex() == expected
    assert algorithm in ALGORITHMS


@pytest.mark.parametrize(
    "name", ["ab", "a" * 64, "Upper", "under_score", "a..b", "a.-b", "-a", "a-", "10.0.0.1",
             "xn--abc", "sthree-x", "x-s3alias", "x--ol-s3"],
)  # fmt: skip
def test_invalid_bucket_names(name: str) -> None:
    with pytest.raises(InvalidBucketName):
        check_bucket_name(name)


@pytest.mark.parametrize("name", ["abc", "a" * 63, "my.bucket-1", "1-2-3", "a.b.c"])
def test_valid_bucket_names(name: str) -> None:
    check_bucket_name(name)


def test_key_rules() -> None:
    check_key("../../etc/passwd")
    check_key("é" * 512)  # 1,024 bytes
    with pytest.raises(KeyTooLong):
        check_key("é" * 512 + "x")
    with pytest.raises(Exception, match="NUL"):
        check_key("a\x00b")


async def _pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("piece", [1, 3, 7, 4096])
async def test_chunked_decoding_whatever_the_network_pieces(piece: int) -> None:
    payload = bytes(range(256)) * 40
    crc = base64.b64encode(zlib.crc32(payload).to_bytes(4, "big")).decode()
    framed = (
        b"2000;chunk-signature=" + b"a" * 64 + b"\r\n" + payload[:0x2000] + b"\r\n"
        + f"{len(payload) - 0x2000:x}".encode() + b"\r\n" + payload[0x2000:] + b"\r\n"
        + b"0\r\nx-amz-checksum-crc32:" + crc.encode() + b"\r\n\r\n"
    )  # fmt: skip
    wanted: dict[str, str | None] = {"CRC32": None}
    headers = Headers({"x-amz-trailer": "x-amz-checksum-crc32"})
    got = b"".join([p async for p in unchunked(_pieces(framed, piece), headers, wanted)])
    assert got == payload
    assert wanted == {"CRC32": crc}


async def test_chunked_body_cut_short() -> None:
    framed = b"10\r\n" + b"x" * 8
    with pytest.raises(IncompleteBody):
        async for _ in unchunked(_pieces(framed, 4), Headers({}), {}):
            pass


def _aws_example() -> tuple[ChunkSigning, bytes]:
    """AWS's published signed streaming upload: 66,560 bytes of "a" in a 65,536-byte
    chunk, a 1,024-byte one and the empty last one, with the documented signatures."""
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    key = f"AWS4{secret}".encode()
    for part in ("20130524", "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    signing = ChunkSigning(
        key=key, timestamp="20130524T000000Z", scope="20130524/us-east-1/s3/aws4_request",
        seed=seed,
    )  # fmt: skip
    body = b""
    for size, signature in (
        (65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"),
        (1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"),
        (0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"),
    ):
        body += f"{size:x};chunk-signature={signature}\r\n".encode() + b"a" * size + b"\r\n"
    return signing, body


async def test_signed_chunks_match_aws_published_example() -> None:
    signing, body = _aws_example()
    got = b"".join([p async for p in unchunked(_pieces(body, 5000), Headers({}), {}, signing)])
    assert got == b"a" * 66560


async def test_a_changed_signed_chunk_is_refused() -> None:
    signing, body = _aws_example()
    tampered = body.replace(b"a" * 10, b"b" * 10, 1)
    with pytest.raises(SignatureDoesNotMatch):
        async for _ in unchunked(_pieces(tampered, 5000), Headers({}), {}, signing):
            pass
