"""A client cannot hold a connection with a huge, endless or stalled request (issue #17).

Raw sockets against a real server started with ``--client-timeout 1``.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from tests.support.server import ServerProcess, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(tmp_path_factory.mktemp("limits"), "--client-timeout", "1")
    yield server
    server.stop()


def _connect(server: ServerProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=15)
    return sock


def _read_until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes; and how long that took."""
    started = time.monotonic()
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
    return received, time.monotonic() - started


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_a_huge_header_is_refused_without_being_buffered(server: ServerProcess) -> None:
    before = _rss_kib(server.process.pid)
    with _connect(server) as sock:
        sock.sendall(b"GET /_sendoff/health HTTP/1.1\r\nHost: localhost\r\nX-Big: ")
        sent = 0
        try:
            while sent < 10 * 1024 * 1024:
                sock.sendall(b"a" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused mid-way, as it should be
        received, _ = _read_until_closed(sock)
    assert received.startswith(b"HTTP/1.1 431 ")
    assert _rss_kib(server.process.pid) - before < 20 * 1024


def test_a_head_that_never_ends_is_cut_off(server: ServerProcess) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /_sendoff/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        received, took = _read_until_closed(sock)
    assert received.startswith(b"HTTP/1.1 408 ")
    assert took < 10


def test_a_connection_that_sends_nothing_is_cut_off(server: ServerProcess) -> None:
    with _connect(server) as sock:
        received, took = _read_until_closed(sock)
    assert received.startswith(b"HTTP/1.1 408 ") and took < 10


def test_a_body_shorter_than_its_content_length_is_cut_off(server: ServerProcess) -> None:
    with _connect(server) as sock:
        sock.sendall(
            b"POST /2015-03-31/functions HTTP/1.1\r\nHost: localhost\r\n"
            b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"Fun'
        )
        _, took = _read_until_closed(sock)
    assert took < 10
    # The server is fine afterwards, and a client that keeps sending is not cut off.
    assert httpx.get(f"{server.url}/_sendoff/health").status_code == 200


def test_a_slow_but_moving_body_and_a_long_request_are_not_cut_off(
    server: ServerProcess,
) -> None:
    body = b'{"QueueName": "slow-but-fine"}'
    with _connect(server) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: AmazonSQS.CreateQueue\r\n"
            b"Content-Type: application/x-amz-json-1.0\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        for index in range(len(body)):  # one byte every 0.1 s: 3 s in all, > the 1 s timeout
            sock.sendall(body[index : index + 1])
            time.sleep(0.1)  # pacing the client, not waiting for the server
        sock.settimeout(15)
        response = sock.recv(65536)
    assert response.startswith(b"HTTP/1.1 200 "), response[:200]
    # SQS long polling holds a request well past the client timeout once it has arrived.
    sqs = boto3.client(
        "sqs", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )  # fmt: skip
    url = sqs.create_queue(QueueName="long-poll")["QueueUrl"]
    started = time.monotonic()
    sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)
    assert time.monotonic() - started >= 1.9
