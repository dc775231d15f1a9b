"""S3 under ``--auth sigv4``: signatures, presigned GET/PUT URLs and their expiry, the
streamed body checked against its signed hash, accounts kept apart, S3-shaped refusals,
and the browser guard in front of S3's routes."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.support.cli import create_key
from tests.support.server import ServerProcess, start_server, wait_until


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir = tmp_path_factory.mktemp("s3-auth")
    return {
        "dir": data_dir,
        "a": create_key(data_dir, "111111111111", "alice"),
        "b": create_key(data_dir, "222222222222", "bob"),
    }


@pytest.fixture(scope="module")
def srv(keys: dict[str, Any]) -> Iterator[ServerProcess]:
    proc = start_server(keys["dir"], "--auth", "sigv4")
    yield proc
    assert proc.stop() == 0, proc.log()[-4000:]


def s3_client(srv: ServerProcess, key: dict[str, str], secret: str | None = None) -> Any:
    return boto3.client(
        "s3", endpoint_url=srv.url, region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=secret or key["SecretAccessKey"],
        config=Config(retries={"total_max_attempts": 1}),
    )  # fmt: skip


@pytest.fixture(scope="module")
def bucket(srv: ServerProcess, keys: dict[str, Any]) -> str:
    name = f"auth-{uuid.uuid4().hex[:10]}"
    s3_client(srv, keys["a"]).create_bucket(Bucket=name)
    return name


def code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def test_signed_requests_work_and_bad_ones_are_refused_as_s3_does(
    srv: ServerProcess, keys: dict[str, Any], bucket: str
) -> None:
    alice = s3_client(srv, keys["a"])
    alice.put_object(Bucket=bucket, Key="k", Body=b"v")
    assert alice.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    with pytest.raises(ClientError) as excinfo:
        s3_client(srv, keys["a"], secret="wrong").get_object(Bucket=bucket, Key="k")
    assert code(excinfo) == "SignatureDoesNotMatch"
    stranger = {"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": "x"}
    with pytest.raises(ClientError) as excinfo:
        s3_client(srv, stranger).list_buckets()
    assert code(excinfo) == "InvalidAccessKeyId"
    anonymous = httpx.get(f"{srv.url}/k", headers={"Host": f"{bucket}.s3.localhost:{srv.port}"})
    assert anonymous.status_code == 403 and b"<Code>AccessDenied</Code>" in anonymous.content


def test_accounts_are_kept_apart(srv: ServerProcess, keys: dict[str, Any], bucket: str) -> None:
    bob = s3_client(srv, keys["b"])
    with pytest.raises(ClientError) as excinfo:
        bob.get_object(Bucket=bucket, Key="k")
    assert code(excinfo) == "AccessDenied"
    with pytest.raises(ClientError) as excinfo:
        bob.create_bucket(Bucket=bucket)
    assert code(excinfo) == "BucketAlreadyExists"
    assert bucket not in [b["Name"] for b in bob.list_buckets()["Buckets"]]


def test_a_body_that_does_not_match_its_signed_hash_is_not_stored(
    srv: ServerProcess, keys: dict[str, Any], bucket: str
) -> None:
    key = keys["a"]
    request = AWSRequest(method="PUT", url=f"{srv.url}/{bucket}/tampered", data=b"original")
    S3SigV4Auth(Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "s3",
                "us-east-1").add_auth(request)  # fmt: skip
    headers = dict(request.headers)
    assert headers["X-Amz-Content-SHA256"] == hashlib.sha256(b"original").hexdigest()
    sent = httpx.put(f"{srv.url}/{bucket}/tampered", content=b"changed!", headers=headers)
    assert sent.status_code == 400 and b"XAmzContentSHA256Mismatch" in sent.content
    with pytest.raises(ClientError) as excinfo:
        s3_client(srv, key).head_object(Bucket=bucket, Key="tampered")
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_presigned_urls(srv: ServerProcess, keys: dict[str, Any], bucket: str) -> None:
    alice = s3_client(srv, keys["a"])
    put_url = alice.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pre"})
    assert httpx.put(put_url, content=b"presigned body").status_code == 200
    get_url = alice.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre"})
    assert httpx.get(get_url).content == b"presigned body"
    tampered = get_url.replace("/pre?", "/k?")
    refused = httpx.get(tampered)
    assert refused.status_code == 403 and b"SignatureDoesNotMatch" in refused.content
    short = alice.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "pre"}, ExpiresIn=1
    )

    def expired() -> bool:
        response = httpx.get(short)
        return response.status_code == 403 and b"Request has expired" in response.content

    wait_until(expired, timeout=10, interval=0.2, message="the presigned URL to expire")


def test_presigned_urls_signature_version_4(
    srv: ServerProcess, keys: dict[str, Any], bucket: str
) -> None:
    key = keys["a"]
    v4 = boto3.client(
        "s3", endpoint_url=srv.url, region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
        config=Config(signature_version="s3v4"),
    )  # fmt: skip
    put_url = v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "v4"})
    assert "X-Amz-Credential" in put_url
    assert httpx.put(put_url, content=b"v4 body").status_code == 200
    big = os.urandom(75 * 1024 * 1024)  # past what the gate would buffer: S3 streams it
    big_url = v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "big"})
    assert httpx.put(big_url, content=big, timeout=120).status_code == 200
    head = v4.head_object(Bucket=bucket, Key="big")
    assert head["ContentLength"] == len(big)
    assert head["ETag"] == f'"{hashlib.md5(big).hexdigest()}"'
    get_url = v4.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "v4", "ResponseContentType": "text/x"}
    )
    got = httpx.get(get_url)
    assert got.content == b"v4 body" and got.headers["content-type"] == "text/x"
    assert httpx.get(get_url.replace("/v4?", "/k?")).status_code == 403


def test_cross_site_browser_requests_are_refused(
    srv: ServerProcess, keys: dict[str, Any], bucket: str
) -> None:
    alice = s3_client(srv, keys["a"])
    alice.put_object(Bucket=bucket, Key="k", Body=b"v")
    url = alice.generate_presigned_url("delete_object", Params={"Bucket": bucket, "Key": "k"})
    response = httpx.delete(url, headers={"Origin": "https://evil.example",
                                          "Sec-Fetch-Site": "cross-site"})  # fmt: skip
    assert response.status_code == 403 and b"<Code>AccessDenied</Code>" in response.content
    assert alice.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    read = httpx.get(alice.generate_presigned_url("get_object", Params={"Bucket": bucket,
                                                                        "Key": "k"}),
                     headers={"Sec-Fetch-Site": "cross-site"})  # fmt: skip
    assert read.status_code == 403  # a page elsewhere cannot read an object, even presigned
    rebound = httpx.get(url.replace("127.0.0.1", "127.0.0.1"), headers={"Host": "evil.example"})
    assert rebound.status_code == 403


def _streaming_put(
    srv: ServerProcess, key: dict[str, str], url: str, size: int
) -> tuple[dict[str, str], Any]:
    """Headers of a PUT signed for a chunked body, and its chunk signer."""
    from botocore.auth import SigV4Auth

    from sendoff.auth.sigv4 import Incoming, chunk_signing, parse

    request = AWSRequest(method="PUT", url=url, headers={
        "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": str(size),
    })  # fmt: skip
    SigV4Auth(Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "s3",
              "us-east-1").add_auth(request)  # fmt: skip
    signed = dict(request.headers)
    raw = [(k.lower().encode(), v.encode()) for k, v in signed.items()]
    path = "/" + url.split("/", 3)[3]
    parsed = parse(Incoming(method="PUT", raw_path=path, query_string="", raw_headers=raw))
    return signed, chunk_signing(parsed, key["SecretAccessKey"])


def _framed(signing: Any, data: bytes, tamper: bool = False) -> bytes:
    out, previous = b"", signing.seed
    for piece in (data[:65536], data[65536:], b""):
        previous = signing.chunk(previous, hashlib.sha256(piece).hexdigest())
        sent = b"!" + piece[1:] if tamper and piece else piece
        out += f"{len(piece):x};chunk-signature={previous}\r\n".encode() + sent + b"\r\n"
    return out


def test_signed_chunks_are_verified(srv: ServerProcess, keys: dict[str, Any], bucket: str) -> None:
    key = keys["a"]
    payload = b"?" + os.urandom(100_000)
    url = f"{srv.url}/{bucket}/chunked"
    headers, signing = _streaming_put(srv, key, url, len(payload))
    good = httpx.put(url, content=_framed(signing, payload), headers=headers)
    assert good.status_code == 200, good.text
    alice = s3_client(srv, key)
    assert alice.get_object(Bucket=bucket, Key="chunked")["Body"].read() == payload
    headers, signing = _streaming_put(srv, key, url + "2", len(payload))
    bad = httpx.put(url + "2", content=_framed(signing, payload, tamper=True), headers=headers)
    assert bad.status_code == 403 and b"SignatureDoesNotMatch" in bad.content
    with pytest.raises(ClientError):
        alice.head_object(Bucket=bucket, Key="chunked2")
