"""Benchmark event source mappings: messages per second from an SQS queue through a
mapping to a trivial Python handler, beside a plain receive/delete loop, in one run.

    python bench/esm_throughput.py [--messages 5000] [--worker-processes 0] [--runs 1]

Starts a real ``sendoff server`` (SQLite, the embedded default). For each phase it fills a
fresh queue first (SendMessageBatch; not timed), then times until the queue is empty:

* ``receive/delete loop``: one boto3 client doing ReceiveMessage(10) + DeleteMessageBatch
  until the queue is empty (the baseline: what a hand-written consumer gets);
* ``mapping, batch 1`` and ``mapping, batch 10``: a mapping created on the full queue,
  its pollers invoking ``def handler(event, context): return None``; the clock stops when
  the queue reports no visible and no in-flight message.

The command to rerun is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import client_for  # noqa: E402
from tests.support.functions import create_python  # noqa: E402
from tests.support.server import start_server  # noqa: E402

BODY = json.dumps({"order": 1234, "items": ["a", "b", "c"], "note": "x" * 200})
TRIVIAL = "def handler(event, context):\n    return None\n"


def new_queue(sqs: Any) -> tuple[str, str]:
    url = sqs.create_queue(
        QueueName=f"bench-{uuid.uuid4().hex[:8]}", Attributes={"VisibilityTimeout": "60"}
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def fill(sqs: Any, url: str, count: int) -> None:
    for first in range(0, count, 10):
        entries = [{"Id": str(i), "MessageBody": BODY} for i in range(min(10, count - first))]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def remaining(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


def loop_rate(sqs: Any, count: int) -> float:
    url, _ = new_queue(sqs)
    fill(sqs, url, count)
    done = 0
    start = time.perf_counter()
    while done < count:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if got:
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)
            ]
            sqs.delete_message_batch(QueueUrl=url, Entries=entries)
            done += len(got)
    return count / (time.perf_counter() - start)


def mapping_rate(lam: Any, sqs: Any, count: int, batch: int) -> float:
    url, arn = new_queue(sqs)
    fn = create_python(lam, source=TRIVIAL)["FunctionName"]
    lam.invoke(FunctionName=fn, Payload=b"{}")  # warm one environment first
    fill(sqs, url, count)
    start = time.perf_counter()
    uuid_ = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, BatchSize=batch)[
        "UUID"
    ]
    while remaining(sqs, url):
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    lam.delete_event_source_mapping(UUID=uuid_)
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--worker-processes", type=int, default=0)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    extra = ["--time-scale", "0.01"]
    if args.worker_processes:
        extra += ["--workers", "0", "--worker-processes", str(args.worker_processes)]
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "srv", *extra)
        try:
            lam, sqs = client_for(server.url, "lambda"), client_for(server.url, "sqs")
            print(f"# python bench/esm_throughput.py --messages {args.messages}"
                  f" --worker-processes {args.worker_processes} --runs {args.runs}")  # fmt: skip
            print(f"{'phase':<22} {'messages/s':>12}")
            for run in range(args.runs):
                for phase, rate in (
                    ("receive/delete loop", lambda: loop_rate(sqs, args.messages)),
                    ("mapping, batch 1", lambda: mapping_rate(lam, sqs, args.messages, 1)),
                    ("mapping, batch 10", lambda: mapping_rate(lam, sqs, args.messages, 10)),
                ):
                    print(f"{phase:<22} {rate():>12,.0f}", flush=True)
                if run + 1 < args.runs:
                    print()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
