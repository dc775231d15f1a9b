"""The AWS CLI's ``aws s3`` commands against the real server: mb, cp (small, and 50 MB
multipart both ways with checksums compared), ls, sync, rm --recursive, presign, rb."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import httpx

from tests.support.server import ServerProcess
from tests.support.unavailable import unavailable


def aws(server: ServerProcess, *args: str) -> str:
    if shutil.which("aws") is None:
        unavailable("the AWS CLI (aws) is not installed")
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip
    env.pop("AWS_ENDPOINT_URL", None)
    quiet = ["--only-show-errors"] if args[0] in ("cp", "sync", "rm", "mv") else []
    result = subprocess.run(
        ["aws", "--endpoint-url", server.url, "s3", *args, *quiet],
        capture_output=True, text=True, env=env, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def test_mb_cp_ls_rm_rb(server: ServerProcess, tmp_path: Path) -> None:
    bucket = f"cli-{uuid.uuid4().hex[:10]}"
    aws(server, "mb", f"s3://{bucket}")
    small = tmp_path / "small.txt"
    small.write_text("small file\n")
    aws(server, "cp", str(small), f"s3://{bucket}/docs/small.txt")
    listing = aws(server, "ls", f"s3://{bucket}/")
    assert "PRE docs/" in listing
    assert "small.txt" in aws(server, "ls", f"s3://{bucket}/docs/")
    assert bucket in aws(server, "ls")
    back = tmp_path / "back.txt"
    aws(server, "cp", f"s3://{bucket}/docs/small.txt", str(back))
    assert back.read_text() == "small file\n"
    aws(server, "rm", f"s3://{bucket}/docs/small.txt")
    assert aws(server, "ls", f"s3://{bucket}/") == ""
    aws(server, "rb", f"s3://{bucket}")
    assert bucket not in aws(server, "ls")


def test_cp_50_mb_multipart_both_ways(server: ServerProcess, tmp_path: Path) -> None:
    bucket = f"cli-{uuid.uuid4().hex[:10]}"
    aws(server, "mb", f"s3://{bucket}")
    big = tmp_path / "big.bin"
    with big.open("wb") as f:
        for _ in range(50):
            f.write(os.urandom(1024 * 1024))
    aws(server, "cp", str(big), f"s3://{bucket}/big.bin")
    head = httpx.head(f"{server.url}/{bucket}/big.bin", headers={
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request,"
        " SignedHeaders=host, Signature=" + "0" * 64})  # fmt: skip
    assert head.headers["etag"].endswith('-7"')  # 8 MB parts, as the CLI cuts them
    assert head.headers["content-length"] == str(50 * 1024 * 1024)
    back = tmp_path / "back.bin"
    aws(server, "cp", f"s3://{bucket}/big.bin", str(back))
    assert sha256(back) == sha256(big)
    aws(server, "rm", "--recursive", f"s3://{bucket}")
    aws(server, "rb", f"s3://{bucket}")


def test_sync_rm_recursive_and_presign(server: ServerProcess, tmp_path: Path) -> None:
    bucket = f"cli-{uuid.uuid4().hex[:10]}"
    aws(server, "mb", f"s3://{bucket}")
    source = tmp_path / "tree"
    for name in ("a.txt", "sub/b.txt", "sub/deeper/c.txt"):
        path = source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
    aws(server, "sync", str(source), f"s3://{bucket}/tree")
    listed = aws(server, "ls", "--recursive", f"s3://{bucket}")
    assert all(f"tree/{name}" in listed for name in ("a.txt", "sub/b.txt", "sub/deeper/c.txt"))
    assert aws(server, "sync", str(source), f"s3://{bucket}/tree") == ""  # nothing changed
    target = tmp_path / "copy"
    aws(server, "sync", f"s3://{bucket}/tree", str(target))
    assert (target / "sub/deeper/c.txt").read_text() == "sub/deeper/c.txt"
    url = aws(server, "presign", f"s3://{bucket}/tree/a.txt", "--expires-in", "300").strip()
    assert httpx.get(url).content == b"a.txt"
    aws(server, "rm", "--recursive", f"s3://{bucket}/tree")
    assert aws(server, "ls", "--recursive", f"s3://{bucket}") == ""
    aws(server, "rb", f"s3://{bucket}")
