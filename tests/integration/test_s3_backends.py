"""Two API processes on one PostgreSQL (or Redis) store serve the same buckets and
objects: written through one, read, listed and deleted through the other (objects are
manifests and content-addressed chunks in the shared store, docs/s3.md)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.support.backend_postgres import fresh_schema, schema_url
from tests.support.backend_redis import fresh_prefix, prefix_url
from tests.support.server import start_server
from tests.support.unavailable import unavailable


@pytest.mark.parametrize("backend", ["postgres", "redis"])
def test_two_api_processes_share_objects(tmp_path: Path, backend: str) -> None:
    async def run() -> None:
        if backend == "redis":
            async with fresh_prefix(unavailable) as prefix:
                await asyncio.to_thread(_two_servers, tmp_path, prefix_url(prefix))
        else:
            async with fresh_schema(unavailable) as schema:
                await asyncio.to_thread(_two_servers, tmp_path, schema_url(schema))

    asyncio.run(run())


def _two_servers(tmp_path: Path, store: str) -> None:
    first = start_server(tmp_path / "a", "--store", store)
    second = start_server(tmp_path / "b", "--store", store)
    try:
        a, b = client_for(first.url, "s3"), client_for(second.url, "s3")
        bucket = f"shared-{uuid.uuid4().hex[:10]}"
        a.create_bucket(Bucket=bucket)
        assert bucket in [x["Name"] for x in b.list_buckets()["Buckets"]]
        source = tmp_path / "big.bin"
        source.write_bytes(os.urandom(9 * 1024 * 1024 + 123))
        a.upload_file(str(source), bucket, "dir/big.bin")  # multipart: 2 parts
        b.put_object(Bucket=bucket, Key="dir/small", Body=b"from b")
        back = tmp_path / "back.bin"
        b.download_file(bucket, "dir/big.bin", str(back))
        assert (
            hashlib.sha256(back.read_bytes()).digest()
            == hashlib.sha256(source.read_bytes()).digest()
        )
        assert a.get_object(Bucket=bucket, Key="dir/small")["Body"].read() == b"from b"
        listed = [o["Key"] for o in a.list_objects_v2(Bucket=bucket, Prefix="dir/")["Contents"]]
        assert listed == ["dir/big.bin", "dir/small"]
        b.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in listed]})
        with pytest.raises(ClientError) as excinfo:
            a.head_object(Bucket=bucket, Key="dir/big.bin")
        assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        a.delete_bucket(Bucket=bucket)
        with pytest.raises(ClientError) as excinfo:
            b.put_object(Bucket=bucket, Key="k", Body=b"")
        assert excinfo.value.response["Error"]["Code"] == "NoSuchBucket"
    finally:
        first.stop()
        second.stop()
