"""Issue 16's acceptance: a function consuming 10,000 messages through an event source
mapping (batch size 10, ReportBatchItemFailures, 1 in 100 failing) ends with exactly the
failing ones in the DLQ after maxReceiveCount and every other one processed (at least
once: duplicates are counted and printed); and a worker process SIGKILLed mid-batch
loses nothing (its in-flight batch comes back after the visibility timeout).

Both run a server whose only poller is a worker process (``--workers 0
--worker-processes 1``), so the mapping runs in the worker role.
"""

from __future__ import annotations

import json
import os
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import client_for
from tests.support.functions import create_python, unique
from tests.support.server import ServerProcess, start_server, wait_until

HANDLER = r"""
import json, os, time

FAIL_EVERY = int(os.environ.get("FAIL_EVERY", "100"))
SLEEP = float(os.environ.get("SLEEP", "0"))

def handler(event, context):
    ok, failures = [], []
    for record in event["Records"]:
        n = int(record["body"])
        if FAIL_EVERY and n % FAIL_EVERY == 0:
            failures.append({"itemIdentifier": record["messageId"]})
        else:
            ok.append(n)
    time.sleep(SLEEP)
    print("OK " + json.dumps(ok))
    return {"batchItemFailures": failures}
"""


@pytest.fixture
def worker_server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = start_server(
        tmp_path / "srv", "--time-scale", "0.01", "--workers", "0", "--worker-processes", "1"
    )
    yield proc
    proc.stop()


def processed(url: str, function: str) -> Counter[int]:
    """Every message id the function reported done, with how often (reads the whole log)."""
    seen: Counter[int] = Counter()
    after = 0
    while True:
        page = httpx.get(
            f"{url}/_sendoff/logs/{function}", params={"after": after, "limit": 10000}, timeout=10
        ).json()
        for event in page["events"]:
            if event["message"].startswith("OK "):
                seen.update(json.loads(event["message"][3:]))
        if not page["events"]:
            return seen
        after = page["next"]


def make_queues(sqs: Any, *, visibility_s: int, dlq_after: int | None) -> tuple[str, str, str]:
    dlq = sqs.create_queue(QueueName=unique("dlq"))["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    attributes = {"VisibilityTimeout": str(visibility_s)}
    if dlq_after is not None:
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": dlq_after}
        )
    url = sqs.create_queue(QueueName=unique("q"), Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn, dlq


def send_all(sqs: Any, url: str, count: int) -> None:
    for start in range(0, count, 10):
        entries = [{"Id": str(n), "MessageBody": str(n)} for n in range(start, start + 10)]
        assert not sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")


def empty(sqs: Any, url: str) -> bool:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return (
        attrs["ApproximateNumberOfMessages"] == "0"
        and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
    )


def drain(sqs: Any, url: str) -> list[int]:
    out: list[int] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return out
        out += [int(m["Body"]) for m in got]


def test_ten_thousand_messages_one_in_a_hundred_failing(worker_server: ServerProcess) -> None:
    url = worker_server.url
    lam, sqs = client_for(url, "lambda"), client_for(url, "sqs")
    fn = create_python(lam, source=HANDLER)["FunctionName"]
    queue, arn, dlq = make_queues(sqs, visibility_s=5, dlq_after=3)
    lam.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )  # fmt: skip
    total = 10_000
    send_all(sqs, queue, total)
    wait_until(lambda: empty(sqs, queue), timeout=600, interval=0.5, message="the queue drained")
    dead = sorted(drain(sqs, dlq))
    assert dead == list(range(0, total, 100))
    seen = processed(url, fn)
    assert set(seen) == {n for n in range(total) if n % 100}
    duplicates = sum(count - 1 for count in seen.values())
    print(f"\n10,000 messages: {len(dead)} in the DLQ, {duplicates} duplicate deliveries")
    assert duplicates <= total // 100  # at-least-once; normally 0 (5 s visibility timeout)


def test_sigkill_of_the_worker_mid_batch_loses_nothing(worker_server: ServerProcess) -> None:
    url = worker_server.url
    lam, sqs = client_for(url, "lambda"), client_for(url, "sqs")
    fn = create_python(
        lam, source=HANDLER, Environment={"Variables": {"SLEEP": "0.2", "FAIL_EVERY": "0"}}
    )["FunctionName"]
    queue, arn, _ = make_queues(sqs, visibility_s=2, dlq_after=None)
    lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, BatchSize=10)
    total = 300
    send_all(sqs, queue, total)
    wait_until(lambda: len(processed(url, fn)) >= 20, timeout=60, message="some batches done")

    def worker_pid() -> int | None:
        pids = httpx.get(f"{url}/_sendoff/health", timeout=5).json()["worker_processes"]
        return pids[0] if pids else None

    first = wait_until(worker_pid, timeout=10, message="the worker process")

    def in_flight() -> bool:
        attrs = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
        return int(attrs["ApproximateNumberOfMessagesNotVisible"]) > 0

    wait_until(in_flight, timeout=10, interval=0.005, message="a batch in flight")
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: (pid := worker_pid()) and pid != first, timeout=30,
               message="a new worker process")  # fmt: skip
    wait_until(lambda: empty(sqs, queue), timeout=120, interval=0.5, message="the queue drained")
    seen = processed(url, fn)
    assert set(seen) == set(range(total))
    duplicates = sum(count - 1 for count in seen.values())
    print(f"\nSIGKILL mid-batch: nothing lost, {duplicates} duplicate deliveries")


def test_maximum_concurrency_holds_across_worker_processes(tmp_path: Path) -> None:
    """Two worker processes each run the mapping's pollers; ScalingConfig's limit is shared
    through the store's slots, so no more than 2 batches ever run at once."""
    server = start_server(
        tmp_path / "srv", "--time-scale", "0.01", "--workers", "0", "--worker-processes", "2"
    )
    try:
        lam, sqs = client_for(server.url, "lambda"), client_for(server.url, "sqs")
        source = HANDLER.replace(
            'print("OK " + json.dumps(ok))',
            'print("OK " + json.dumps(ok)); print("SPAN " + json.dumps([start, time.time()]))',
        )
        source = source.replace("    ok, failures = [], []", "    ok, failures = [], []\n"
                                "    start = time.time()")  # fmt: skip
        fn = create_python(lam, source=source,
                           Environment={"Variables": {"SLEEP": "0.3", "FAIL_EVERY": "0"}})[
            "FunctionName"
        ]  # fmt: skip
        queue, arn, _ = make_queues(sqs, visibility_s=30, dlq_after=None)
        lam.create_event_source_mapping(
            FunctionName=fn, EventSourceArn=arn, BatchSize=1,
            ScalingConfig={"MaximumConcurrency": 2},
        )  # fmt: skip
        send_all(sqs, queue, 20)
        wait_until(lambda: empty(sqs, queue), timeout=120, interval=0.2, message="drained")
        assert set(processed(server.url, fn)) == set(range(20))
        spans = [
            json.loads(e["message"][5:])
            for e in httpx.get(f"{server.url}/_sendoff/logs/{fn}", params={"limit": 10000},
                               timeout=10).json()["events"]
            if e["message"].startswith("SPAN ")
        ]  # fmt: skip
        points = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
        running = most = 0
        for _, step in points:
            running += step
            most = max(most, running)
        assert 1 <= most <= 2
    finally:
        server.stop()
