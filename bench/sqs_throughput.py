"""Benchmark the SQS service: send, then receive + delete, through boto3 and raw HTTP.

    python bench/sqs_throughput.py [--messages 5000] [--threads 8] [--endpoint-url URL]

Starts a real ``sendoff server`` (SQLite, the embedded default) unless ``--endpoint-url``
names one, then measures messages per second for:

* boto3, one message per call (SendMessage; ReceiveMessage + DeleteMessage);
* boto3, batches of 10 (SendMessageBatch; ReceiveMessage(10) + DeleteMessageBatch);
* httpx, the same two shapes as raw AWS JSON 1.0 requests on a keep-alive connection;
* httpx, batches of 10 from ``--threads`` threads at once (one connection each).

Each phase uses a fresh queue and drains it completely, so "receive + delete" counts
messages actually consumed. The command to rerun is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import client_for  # noqa: E402
from tests.support.server import start_server  # noqa: E402

BODY = json.dumps({"order": 1234, "items": ["a", "b", "c"], "note": "x" * 200})


class RawSqs:
    """AWS JSON 1.0 over one keep-alive httpx connection (unsigned: sendoff reads, not
    verifies, SigV4)."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=60)

    def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        response = self.http.post(
            "/",
            content=json.dumps(params).encode(),
            headers={
                "X-Amz-Target": f"AmazonSQS.{operation}",
                "Content-Type": "application/x-amz-json-1.0",
            },
        )
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def close(self) -> None:
        self.http.close()


Call = Callable[..., dict[str, Any]]


def boto_call(client: Any) -> Call:
    def call(operation: str, **params: Any) -> dict[str, Any]:
        method = getattr(
            client, "".join("_" + c.lower() if c.isupper() else c for c in operation)[1:]
        )
        return method(**params)  # type: ignore[no-any-return]

    return call


def send(call: Call, url: str, count: int, batch: bool) -> float:
    start = time.perf_counter()
    if batch:
        for first in range(0, count, 10):
            entries = [{"Id": str(i), "MessageBody": BODY} for i in range(min(10, count - first))]
            result = call("SendMessageBatch", QueueUrl=url, Entries=entries)
            assert not result.get("Failed"), result
    else:
        for _ in range(count):
            call("SendMessage", QueueUrl=url, MessageBody=BODY)
    return time.perf_counter() - start


class Tally:
    """Messages consumed so far, shared by the threads draining one queue."""

    def __init__(self, total: int) -> None:
        self.left = total
        self.lock = threading.Lock()

    def take(self, n: int) -> bool:
        with self.lock:
            self.left -= n
            return self.left > 0


def drain(call: Call, url: str, count: int, batch: bool, tally: Tally | None = None) -> float:
    start = time.perf_counter()
    tally = tally or Tally(count)
    more = True
    while more:
        got = call("ReceiveMessage", QueueUrl=url, MaxNumberOfMessages=10 if batch else 1,
                   WaitTimeSeconds=1).get("Messages", [])  # fmt: skip
        if batch and got:
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)
            ]
            result = call("DeleteMessageBatch", QueueUrl=url, Entries=entries)
            assert not result.get("Failed"), result
        else:
            for m in got:
                call("DeleteMessage", QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        more = tally.take(len(got))
    return time.perf_counter() - start


def phase(call: Call, count: int, batch: bool) -> tuple[float, float]:
    url = call("CreateQueue", QueueName=f"bench-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sent = count / send(call, url, count, batch)
    consumed = count / drain(call, url, count, batch)
    call("DeleteQueue", QueueUrl=url)
    return sent, consumed


def threaded_phase(endpoint: str, count: int, threads: int) -> tuple[float, float]:
    setup = RawSqs(endpoint)
    url = setup("CreateQueue", QueueName=f"bench-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    per = count // threads
    clients = [RawSqs(endpoint) for _ in range(threads)]

    def run_all(work: Callable[[RawSqs], float]) -> float:
        start = time.perf_counter()
        workers = [threading.Thread(target=work, args=(c,)) for c in clients]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        return time.perf_counter() - start

    sent = per * threads / run_all(lambda c: send(c, url, per, True))
    tally = Tally(per * threads)
    consumed = per * threads / run_all(lambda c: drain(c, url, per, True, tally))
    setup("DeleteQueue", QueueUrl=url)
    for c in [setup, *clients]:
        c.close()
    return sent, consumed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000, help="messages per batch phase")
    parser.add_argument("--threads", type=int, default=8, help="threads in the last phase")
    parser.add_argument("--endpoint-url", default=None, help="use a running server")
    args = parser.parse_args()
    server = None
    endpoint = args.endpoint_url
    if endpoint is None:
        server = start_server(Path(tempfile.mkdtemp(prefix="sqs-bench-")), "--log-level", "warning")
        endpoint = server.url
    single = max(args.messages // 5, 100)
    rows: list[tuple[str, str, int, tuple[float, float]]] = []
    try:
        boto = boto_call(client_for(endpoint, "sqs"))
        raw = RawSqs(endpoint)
        rows.append(("boto3", "1 per call", single, phase(boto, single, batch=False)))
        rows.append(("boto3", "batches of 10", args.messages, phase(boto, args.messages, True)))
        rows.append(("httpx", "1 per call", single, phase(raw, single, batch=False)))
        rows.append(("httpx", "batches of 10", args.messages, phase(raw, args.messages, True)))
        raw.close()
        label = f"batches, {args.threads} thr"
        rows.append(("httpx", label, args.messages,
                     threaded_phase(endpoint, args.messages, args.threads)))  # fmt: skip
    finally:
        if server is not None:
            server.stop()
    print(f"\nsendoff SQS throughput ({'SQLite, one server process' if server else endpoint})")
    print(f"{'client':<7} {'shape':<18} {'messages':>8} {'send msg/s':>11} {'recv+del msg/s':>15}")
    for client, shape, count, (sent, consumed) in rows:
        print(f"{client:<7} {shape:<18} {count:>8} {sent:>11,.0f} {consumed:>15,.0f}")
    rerun = f"python bench/sqs_throughput.py --messages {args.messages} --threads {args.threads}"
    print(
        f"\nrerun: {rerun}" + (f" --endpoint-url {args.endpoint_url}" if args.endpoint_url else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
