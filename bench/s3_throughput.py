"""Benchmark S3: ``aws s3 cp`` of a large file up and down, beside ``cp`` of the same file
on the same disk, and PutObject of small objects per second.

    python bench/s3_throughput.py [--mb 100] [--small 2000] [--threads 4] [--endpoint-url URL]

Starts a real ``sendoff server`` (SQLite, the embedded default) in a temp dir unless
``--endpoint-url`` names one. Phases:

* ``cp`` (local copy of the file, fsync'd) for the disk's own speed;
* ``aws s3 cp file s3://...`` (the AWS CLI: multipart, 8 MB parts, 10 threads);
* ``aws s3 cp s3://... file`` (ranged GETs in parallel), checked byte for byte;
* boto3 PutObject of ``--small`` 1 KB objects from ``--threads`` threads;
* the same PutObjects as raw HTTP, each request one ``send`` on a keep-alive socket (no
  SDK, no ``Expect: 100-continue`` round trip, no Nagle wait between head and body): what
  the server itself sustains. Unsigned: run it against a server with ``--auth none``.

MB/s are MiB of payload per second of wall time. The command to rerun is printed with
the figures.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import client_for  # noqa: E402
from tests.support.server import start_server  # noqa: E402


def aws(url: str, *args: str) -> float:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip
    env.pop("AWS_ENDPOINT_URL", None)
    start = time.perf_counter()
    subprocess.run(["aws", "--endpoint-url", url, "s3", *args, "--only-show-errors"],
                   check=True, env=env)  # fmt: skip
    return time.perf_counter() - start


def local_copy(source: Path, target: Path) -> float:
    start = time.perf_counter()
    shutil.copyfile(source, target)
    with target.open("rb+") as f:
        os.fsync(f.fileno())
    return time.perf_counter() - start


def small_puts(url: str, bucket: str, count: int, threads: int) -> float:
    body = os.urandom(1024)
    per_thread = count // threads
    clients = [client_for(url, "s3") for _ in range(threads)]

    def run(client: Any, index: int) -> None:
        for n in range(per_thread):
            client.put_object(Bucket=bucket, Key=f"small/{index}/{n}", Body=body)

    workers = [threading.Thread(target=run, args=(c, i)) for i, c in enumerate(clients)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return per_thread * threads / (time.perf_counter() - start)


SIGNED = (
    "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request,"
    " SignedHeaders=host, Signature=" + "0" * 64
)


def raw_puts(url: str, bucket: str, count: int) -> float:
    host, port = url.removeprefix("http://").split(":")
    body = os.urandom(1024)
    with socket.create_connection((host, int(port))) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        start = time.perf_counter()
        for n in range(count):
            head = (
                f"PUT /{bucket}/raw/{n} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Authorization: {SIGNED}\r\nContent-Length: {len(body)}\r\n\r\n"
            )
            sock.sendall(head.encode() + body)
            answer = b""
            while b"\r\n\r\n" not in answer:
                answer += sock.recv(65536)
            assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--endpoint-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="s3bench-") as tmp:
        work = Path(tmp)
        server = None
        url = args.endpoint_url
        if url is None:
            server = start_server(work / "data", "--workers", "0")
            url = server.url
        try:
            source = work / "payload.bin"
            with source.open("wb") as f:
                for _ in range(args.mb):
                    f.write(os.urandom(1024 * 1024))
            bucket = f"bench-{uuid.uuid4().hex[:8]}"
            client_for(url, "s3").create_bucket(Bucket=bucket)
            mib = args.mb
            disk = local_copy(source, work / "copy.bin")
            up = aws(url, "cp", str(source), f"s3://{bucket}/payload.bin")
            down = aws(url, "cp", f"s3://{bucket}/payload.bin", str(work / "down.bin"))
            assert filecmp.cmp(source, work / "down.bin", shallow=False)
            rate = small_puts(url, bucket, args.small, args.threads)
            raw = raw_puts(url, bucket, args.small)
        finally:
            if server is not None:
                server.stop()
    print(f"# python bench/s3_throughput.py --mb {args.mb} --small {args.small}"
          f" --threads {args.threads}")  # fmt: skip
    print(f"{'phase':<34}{'seconds':>9}{'MiB/s':>9}")
    print(f"{'cp (same disk, fsync)':<34}{disk:>9.2f}{mib / disk:>9.1f}")
    print(f"{'aws s3 cp up (multipart)':<34}{up:>9.2f}{mib / up:>9.1f}")
    print(f"{'aws s3 cp down':<34}{down:>9.2f}{mib / down:>9.1f}")
    print(f"{'PutObject 1 KB (boto3), objects/s':<34}{rate:>18.0f}")
    print(f"{'PutObject 1 KB (raw HTTP), objects/s':<34}{raw:>18.0f}")


if __name__ == "__main__":
    main()
