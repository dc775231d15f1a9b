"""Synchronous invoke latency through the whole server, with a raw HTTP/1.1 client.

    python bench/invoke_latency.py [--invokes 2000] [--colds 10]

Starts a real ``sendoff server`` (SQLite) and reports:

* warm invoke latency p50/p99 for a trivial Python and Node.js handler, over one
  keep-alive connection, next to the round trip of ``GET /_sendoff/health`` on the same
  connection (the baseline: what HTTP + uvicorn cost before any Lambda work);
* cold start for Python and Node.js: the first invoke after a configuration change (a new
  revision needs a new environment), as seen by the client, and the runtime's own
  ``Init Duration`` from the REPORT line (spawn to ready).
"""

from __future__ import annotations

import argparse
import base64
import re
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import client_for  # noqa: E402
from tests.support.functions import wait_active, wait_updated  # noqa: E402
from tests.support.server import start_server  # noqa: E402
from tests.support.zips import make_zip  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/bench"
PY = "def handler(event, context):\n    return event\n"
NODE = "exports.handler = async (event) => event;\n"


class RawClient:
    """Minimal keep-alive HTTP/1.1 client: no parsing beyond what latency needs."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")

    def request(self, method: str, path: str, body: bytes = b"", headers: str = "") -> bytes:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
            f"{headers}\r\n"
        )
        self.sock.sendall(head.encode() + body)
        length = 0
        while True:
            line = self.file.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return self.file.read(length)


def percentiles(samples: list[float]) -> tuple[float, float]:
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.99) - 1)]


def timed(fn: object, count: int) -> list[float]:
    out = []
    for _ in range(count):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invokes", type=int, default=2000)
    parser.add_argument("--colds", type=int, default=10)
    args = parser.parse_args()
    server = start_server(Path(tempfile.mkdtemp(prefix="sendoff-bench-")))
    try:
        lam = client_for(server.url, "lambda")
        for name, runtime, files in (
            ("py", "python3.12", {"app.py": PY}),
            ("node", "nodejs20.x", {"app.js": NODE}),
        ):
            lam.create_function(
                FunctionName=name,
                Runtime=runtime,
                Role=ROLE,
                Handler="app.handler",
                Code={"ZipFile": make_zip(files)},
            )
            wait_active(lam, name)
        client = RawClient(server.port)
        rows = []
        health = timed(lambda: client.request("GET", "/_sendoff/health"), args.invokes)
        base50, base99 = percentiles(health)
        rows.append(("GET /_sendoff/health (baseline)", base50, base99))
        for name in ("py", "node"):
            path = f"/2015-03-31/functions/{name}/invocations"
            for _ in range(50):
                client.request("POST", path, b'{"k": 1}')
            warm = timed(lambda p=path: client.request("POST", p, b'{"k": 1}'), args.invokes)
            p50, p99 = percentiles(warm)
            rows.append((f"warm invoke {name}", p50, p99))
        print(f"\n{'':34}{'p50 ms':>9}{'p99 ms':>9}{'p50 / baseline':>16}")
        for label, p50, p99 in rows:
            print(f"{label:34}{p50:9.3f}{p99:9.3f}{p50 / base50:16.1f}")

        print(
            f"\n{'cold start (median of ' + str(args.colds) + ')':34}{'client ms':>10}"
            f"{'Init Duration ms':>18}"
        )
        for name in ("py", "node"):
            client_ms, init_ms = [], []
            for i in range(args.colds):
                lam.update_function_configuration(
                    FunctionName=name, Environment={"Variables": {"RUN": str(i)}}
                )
                wait_updated(lam, name)
                start = time.perf_counter()
                resp = lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
                client_ms.append((time.perf_counter() - start) * 1000)
                log = base64.b64decode(resp["LogResult"]).decode()
                match = re.search(r"Init Duration: ([\d.]+) ms", log)
                if match:
                    init_ms.append(float(match.group(1)))
            print(
                f"{name:34}{statistics.median(client_ms):10.1f}"
                f"{statistics.median(init_ms) if init_ms else float('nan'):18.1f}"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
