"""Request bodies are bounded before they are read (api.body_limit).

An oversize Content-Length is answered at once without the body being sent; a chunked
stream is cut at the limit while the server's memory stays flat; boto3 and the AWS CLI
get AWS's 413s for oversize requests and still work for normal ones.
"""

from __future__ import annotations

import io
import json
import os
import select
import socket
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from tests.conftest import client_for
from tests.support.cli import aws
from tests.support.functions import ROLE, unique, wait_active
from tests.support.server import ServerProcess, start_server
from tests.support.zips import make_zip

GIB = 1 << 30
LEN_HANDLER = """
def handler(event, context):
    return {"length": len(event.get("data", "")) if isinstance(event, dict) else -1}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path_factory.mktemp("limits"))
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    return client_for(server.url, "lambda")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def read_response(sock: socket.socket, timeout: float) -> tuple[int, dict[str, str], bytes]:
    """Read one HTTP/1.1 response (with Content-Length) within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    data = b""
    while b"\r\n\r\n" not in data or len(data) < _expected(data):
        left = deadline - time.monotonic()
        assert left > 0, f"no complete response in {timeout}s: {data[:200]!r}"
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def _expected(data: bytes) -> int:
    head, sep, _ = data.partition(b"\r\n\r\n")
    if not sep:
        return 1 << 62
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == b"content-length":
            return len(head) + 4 + int(value)
    return len(data)


def request_head(server: ServerProcess, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


CASES = [
    (
        "/2015-03-31/functions/nope/invocations",
        {},
        "RequestEntityTooLargeException",
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
    ),
    (
        "/2015-03-31/functions/nope/invocations",
        {"X-Amz-Invocation-Type": "Event"},
        "RequestEntityTooLargeException",
        f"{GIB} byte payload is too large for the Event invocation type (limit 1048576 bytes)",
    ),
    (
        "/2015-03-31/functions",
        {"Content-Type": "application/json"},
        "RequestEntityTooLargeException",
        "Request must be smaller than 69905067 bytes for the CreateFunction operation",
    ),
    (
        "/",
        {"X-Amz-Target": "AmazonSQS.SendMessage", "Content-Type": "application/x-amz-json-1.0"},
        "com.amazonaws.sqs#RequestEntityTooLarge",
        "Request must be smaller than 8388608 bytes for the SendMessage operation",
    ),
    (
        "/",
        {"X-Amz-Target": "AWSEvents.PutEvents", "Content-Type": "application/x-amz-json-1.1"},
        "RequestEntityTooLarge",
        "Request must be smaller than 8388608 bytes for the PutEvents operation",
    ),
    ("/", {"Content-Type": "application/x-www-form-urlencoded"}, "<Code>", "2097152 bytes"),
    ("/console/functions/new", {"Content-Type": "application/x-www-form-urlencoded"}, "",
     "Request body too large (limit 8388608 bytes)."),
]  # fmt: skip


@pytest.mark.parametrize(("path", "headers", "code", "message"), CASES)
def test_oversize_content_length_is_refused_before_the_body_is_read(
    server: ServerProcess, path: str, headers: dict[str, str], code: str, message: str
) -> None:
    pid = server.process.pid
    before = rss_kib(pid)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(request_head(server, path, {**headers, "Content-Length": str(GIB)}))
        sock.sendall(b'{"a":')  # and nothing more: the server must not wait for the rest
        status, response_headers, body = read_response(sock, timeout=2.0)
        elapsed = time.monotonic() - started
    assert status == 413
    assert elapsed < 1.0, elapsed
    assert response_headers.get("connection") == "close"
    assert response_headers.get("x-amzn-requestid")
    text = body.decode()
    assert message in text, text
    if not code.endswith("Exception"):
        assert code in text, text
    else:
        assert response_headers["x-amzn-errortype"] == code
        assert json.loads(text) == {"Type": "User", "message": message}
    assert rss_kib(pid) - before < 20_000


def test_chunked_gigabyte_is_cut_at_the_limit_with_bounded_memory(server: ServerProcess) -> None:
    pid = server.process.pid
    before = peak = rss_kib(pid)
    chunk = b'"' + b"x" * (GIB // 1024 - 2) + b'"'  # 1 MiB
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            request_head(
                server,
                "/2015-03-31/functions/nope/invocations",
                {"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
            )
        )
        answered = False
        try:
            while sent < GIB:  # bounded: 1024 chunks at most
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    answered = True
                    break
                sock.sendall(framed)
                sent += len(chunk)
                peak = max(peak, rss_kib(pid))
        except (BrokenPipeError, ConnectionResetError):
            answered = True
        assert answered, "the server read a whole GiB"
        status, headers, body = read_response(sock, timeout=5.0)
    peak = max(peak, rss_kib(pid))
    assert status == 413
    assert json.loads(body)["message"] == (
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )
    assert headers.get("connection") == "close"
    assert sent < 64 * (1 << 20), sent  # cut off near 6 MiB, not after the whole stream
    assert peak - before < 100_000, (before, peak)  # KiB: grows by less than 100 MB


def test_boto3_gets_awss_413s_and_normal_sizes_work(lam: Any) -> None:
    name = unique("limits")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": LEN_HANDLER})},
        Timeout=30,
    )
    wait_active(lam, name)
    too_big = b'"' + b"x" * (6_291_457 - 2) + b'"'
    with pytest.raises(botocore.exceptions.ClientError) as info:
        lam.invoke(FunctionName=name, Payload=too_big)
    error = info.value.response
    assert error["Error"]["Code"] == "RequestEntityTooLargeException"
    assert error["Error"]["Message"] == (
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 413

    event_too_big = b'"' + b"x" * (1_048_577 - 2) + b'"'
    with pytest.raises(botocore.exceptions.ClientError) as info:
        lam.invoke(FunctionName=name, Payload=event_too_big, InvocationType="Event")
    assert info.value.response["Error"]["Message"] == (
        "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)"
    )

    # just under the limit still runs
    data = "y" * (6_291_456 - len('{"data":""}'))
    payload = json.dumps({"data": data}, separators=(",", ":")).encode()
    assert len(payload) == 6_291_456
    resp = lam.invoke(FunctionName=name, Payload=payload)
    assert json.loads(resp["Payload"].read()) == {"length": len(data)}
    # and the connection pool still works after the refusals
    assert lam.get_function(FunctionName=name)["Configuration"]["FunctionName"] == name


def test_inline_zip_over_50_mib_gets_createfunctions_413(lam: Any) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("app.py", LEN_HANDLER)
        archive.writestr("blob.bin", os.urandom(52 * (1 << 20)))
    with pytest.raises(botocore.exceptions.ClientError) as info:
        lam.create_function(
            FunctionName=unique("big"),
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": buf.getvalue()},
        )
    error = info.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert error["Error"]["Code"] == "RequestEntityTooLargeException"
    assert error["Error"]["Message"] == (
        "Request must be smaller than 69905067 bytes for the CreateFunction operation"
    )


def test_aws_cli_creates_a_function_from_a_5_mb_zip(server: ServerProcess, tmp_path: Path) -> None:
    package = tmp_path / "fn.zip"
    package.write_bytes(make_zip({"app.py": LEN_HANDLER, "blob.bin": os.urandom(5 * (1 << 20))}))
    name = unique("cli")
    created = aws(
        server.url, "lambda", "create-function", "--function-name", name,
        "--runtime", "python3.12", "--role", ROLE, "--handler", "app.handler",
        "--zip-file", f"fileb://{package}",
    )  # fmt: skip
    assert created["CodeSize"] == package.stat().st_size
    aws(server.url, "lambda", "wait", "function-active-v2", "--function-name", name)
    out = tmp_path / "out.json"
    aws(
        server.url, "lambda", "invoke", "--function-name", name,
        "--payload", '{"data": "abc"}', str(out),
    )  # fmt: skip
    assert json.loads(out.read_text()) == {"length": 3}


def test_small_chunked_body_still_works(server: ServerProcess, lam: Any) -> None:
    import httpx

    name = unique("chunked")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": LEN_HANDLER})},
    )
    wait_active(lam, name)

    def body() -> Iterator[bytes]:
        yield b'{"data": "'
        yield b"z" * 1000
        yield b'"}'

    response = httpx.post(
        f"{server.url}/2015-03-31/functions/{name}/invocations", content=body(), timeout=30
    )
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 200, response.text
    assert response.json() == {"length": 1000}
