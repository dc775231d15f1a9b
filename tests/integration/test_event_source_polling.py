"""SQS -> Lambda through an event source mapping, on a real server: the event AWS builds,
batching, success, function errors, partial batch failures, the queue's DLQ, FIFO order,
filters, enable/disable, concurrency limits and metrics.

Queues use a 1 s visibility timeout (SQS time is not scaled by --time-scale), so a failed
batch comes back within a second or two.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.conftest import client_for
from tests.support.events import function_logs
from tests.support.functions import create_python, unique
from tests.support.server import ServerProcess, wait_until

HANDLER = r"""
import json, os, time

def _body(record):
    try:
        value = json.loads(record["body"])
    except ValueError:
        return {"text": record["body"]}
    return value if isinstance(value, dict) else {"text": record["body"]}

def handler(event, context):
    start = time.time()
    records = event["Records"]
    bodies = [_body(r) for r in records]
    if any(b.get("echo") for b in bodies):
        print("EVENT " + json.dumps(event))
        print("TRACE " + json.dumps(os.environ.get("_X_AMZN_TRACE_ID", "")))
    if any(b.get("raise") for b in bodies):
        raise Exception("boom")
    if any(b.get("malformed") for b in bodies):
        return {"batchItemFailures": [{"foo": "notvalid"}]}
    failures, stopped = [], set()
    for record, body in zip(records, bodies):
        group = record["attributes"].get("MessageGroupId")
        count = int(record["attributes"]["ApproximateReceiveCount"])
        if group in stopped or body.get("fail") or (body.get("fail_first") and count == 1):
            failures.append({"itemIdentifier": record["messageId"]})
            if group:
                stopped.add(group)
            continue
        if body.get("sleep"):
            time.sleep(body["sleep"])
        print("DONE " + json.dumps({"id": body.get("id", body.get("text")), "count": count,
                                    "group": group}))
    print("BATCH " + json.dumps({"n": len(records), "start": start, "end": time.time()}))
    return {"batchItemFailures": failures}
"""


@pytest.fixture(scope="module")
def sqs(server: ServerProcess) -> Any:
    return client_for(server.url, "sqs")


Made = tuple[str, str, str | None]


def make_queue(
    sqs: Any, *, fifo: bool = False, dlq_after: int | None = None, visibility_s: int = 1
) -> Made:
    """(url, arn, dlq url) of a new queue with a 1 s visibility timeout."""
    suffix = ".fifo" if fifo else ""
    attributes: dict[str, str] = {"VisibilityTimeout": str(visibility_s)}
    if fifo:
        attributes["FifoQueue"] = "true"
    dlq_url = None
    if dlq_after is not None:
        extra = {"FifoQueue": "true"} if fifo else {}
        dlq_url = sqs.create_queue(QueueName=unique("dlq") + suffix, Attributes=extra)["QueueUrl"]
        dlq_arn = arn_of(sqs, dlq_url)
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": dlq_after}
        )
    url = sqs.create_queue(QueueName=unique("q") + suffix, Attributes=attributes)["QueueUrl"]
    return url, arn_of(sqs, url), dlq_url


def arn_of(sqs: Any, url: str) -> str:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return str(attrs["QueueArn"])


def counts(sqs: Any, url: str) -> tuple[int, int]:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


def lines(server: ServerProcess, function: str, kind: str) -> list[dict[str, Any]]:
    prefix = kind + " "
    return [
        json.loads(line[len(prefix) :])
        for line in function_logs(server.url, function).splitlines()
        if line.startswith(prefix)
    ]


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])
        if not got:
            return out
        out += got


def consumer(lambda_client: Any, **kwargs: Any) -> str:
    name: str = create_python(lambda_client, source=HANDLER, **kwargs)["FunctionName"]
    return name


def test_event_shape_and_success(server: ServerProcess, lambda_client: Any, sqs: Any) -> None:
    url, arn, _ = make_queue(sqs)
    fn = consumer(lambda_client)
    lambda_client.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn)
    sent = sqs.send_message(
        QueueUrl=url, MessageBody=json.dumps({"echo": True, "id": 1}),
        MessageAttributes={"Author": {"DataType": "String", "StringValue": "John"},
                           "WeeksOn": {"DataType": "Number", "StringValue": "6"}},
    )  # fmt: skip
    (event,) = wait_until(lambda: lines(server, fn, "EVENT"), timeout=30, message="the event")
    (record,) = event["Records"]
    assert list(record) == [
        "messageId", "receiptHandle", "body", "attributes", "messageAttributes",
        "md5OfMessageAttributes", "md5OfBody", "eventSource", "eventSourceARN", "awsRegion",
    ]  # fmt: skip
    assert record["messageId"] == sent["MessageId"]
    assert record["md5OfBody"] == sent["MD5OfMessageBody"]
    assert record["md5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == arn
    assert record["awsRegion"] == "us-east-1"
    assert list(record["attributes"]) == [
        "ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"
    ]  # fmt: skip
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["Author"] == {
        "stringValue": "John", "stringListValues": [], "binaryListValues": [], "dataType": "String"
    }  # fmt: skip
    wait_until(lambda: counts(sqs, url) == (0, 0), timeout=10, message="the message deleted")


def test_function_error_returns_batch_then_dlq(
    server: ServerProcess, lambda_client: Any, sqs: Any
) -> None:
    url, arn, dlq = make_queue(sqs, dlq_after=2)
    assert dlq is not None
    fn = consumer(lambda_client)
    lambda_client.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn, BatchSize=1)
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"raise": True, "id": "poison"}))
    moved = wait_until(lambda: drain(sqs, dlq), timeout=30, message="the DLQ")
    assert [json.loads(m["Body"])["id"] for m in moved] == ["poison"]
    # received twice by the mapping (maxReceiveCount 2), then once here from the DLQ
    assert moved[0]["Attributes"]["ApproximateReceiveCount"] == "3"
    assert counts(sqs, url) == (0, 0)


def test_partial_batch_failures(server: ServerProcess, lambda_client: Any, sqs: Any) -> None:
    url, arn, dlq = make_queue(sqs, dlq_after=2)
    assert dlq is not None
    fn = consumer(lambda_client)
    lambda_client.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )  # fmt: skip
    entries = [
        {"Id": str(i), "MessageBody": json.dumps({"id": i, "fail": i == 3, "fail_first": i == 5})}
        for i in range(8)
    ]
    sqs.send_message_batch(QueueUrl=url, Entries=entries)
    moved = wait_until(lambda: drain(sqs, dlq), timeout=30, message="the DLQ")
    assert [json.loads(m["Body"])["id"] for m in moved] == [3]
    wait_until(lambda: counts(sqs, url) == (0, 0), timeout=10, message="the queue empty")
    done = Counter(d["id"] for d in lines(server, fn, "DONE"))
    assert done == {i: 1 for i in range(8) if i != 3}
    assert [d["count"] for d in lines(server, fn, "DONE") if d["id"] == 5] == [2]


def test_malformed_item_failures_fail_the_whole_batch(
    server: ServerProcess, lambda_client: Any, sqs: Any
) -> None:
    url, arn, dlq = make_queue(sqs, dlq_after=2)
    assert dlq is not None
    fn = consumer(lambda_client)
    lambda_client.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, FunctionResponseTypes=["ReportBatchItemFailures"]
    )
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"id": 1, "malformed": True}))
    moved = wait_until(lambda: drain(sqs, dlq), timeout=30, message="the DLQ")
    assert [json.loads(m["Body"])["id"] for m in moved] == [1]


def test_fifo_keeps_group_order_and_stops_a_group_at_its_failure(
    server: ServerProcess, lambda_client: Any, sqs: Any
) -> None:
    url, arn, _ = make_queue(sqs, fifo=True)
    fn = consumer(lambda_client)
    lambda_client.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )  # fmt: skip
    entries = []
    for group, n in (("a", 4), ("b", 3)):
        for i in range(n):
            body = {"id": f"{group}{i}", "fail_first": f"{group}{i}" == "a1"}
            entries.append({"Id": f"{group}{i}", "MessageBody": json.dumps(body),
                            "MessageGroupId": group,
                            "MessageDeduplicationId": f"{group}{i}"})  # fmt: skip
    sqs.send_message_batch(QueueUrl=url, Entries=entries)
    wait_until(lambda: len(lines(server, fn, "DONE")) >= 7, timeout=30, message="all done")
    wait_until(lambda: counts(sqs, url) == (0, 0), timeout=10, message="the queue empty")
    done = lines(server, fn, "DONE")
    assert [d["id"] for d in done if d["group"] == "a"] == ["a0", "a1", "a2", "a3"]
    assert [d["id"] for d in done if d["group"] == "b"] == ["b0", "b1", "b2"]
    assert {d["id"]: d["count"] for d in done if d["group"] == "a"} == {
        "a0": 1, "a1": 2, "a2": 2, "a3": 2
    }  # fmt: skip


def test_batching_window_gathers_one_batch(
    server: ServerProcess, lambda_client: Any, sqs: Any
) -> None:
    url, arn, _ = make_queue(sqs)
    fn = consumer(lambda_client)
    lambda_client.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, BatchSize=25, MaximumBatchingWindowInSeconds=3,
        ScalingConfig={"MaximumConcurrency": 2},
    )  # fmt: skip
    for start in (0, 10, 20):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": json.dumps({"id": i})} for i in range(start, start + 5)
        ])  # fmt: skip
    for start in (5, 15):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": json.dumps({"id": i})} for i in range(start, start + 5)
        ])  # fmt: skip
    batches = wait_until(
        lambda: lines(server, fn, "BATCH") if sum(
            b["n"] for b in lines(server, fn, "BATCH")) >= 25 else None,
        timeout=30, message="25 messages",
    )  # fmt: skip
    assert [b["n"] for b in batches] == [25]


def test_filter_criteria_delete_what_does_not_match(
    server: ServerProcess, lambda_client: Any, sqs: Any
) -> None:
    url, arn, _ = make_queue(sqs)
    fn = consumer(lambda_client)
    pattern = {"body": {"kind": ["keep"]}}
    plain = {"body": ["plain keep"]}
    lambda_client.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn,
        FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)},
                                    {"Pattern": json.dumps(plain)}]},
    )  # fmt: skip
    for i, kind in enumerate(["keep", "drop", "keep", "other"]):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"id": i, "kind": kind}))
    sqs.send_message(QueueUrl=url, MessageBody="plain keep")
    sqs.send_message(QueueUrl=url, MessageBody="plain drop")
    wait_until(lambda: counts(sqs, url) == (0, 0), timeout=30, message="the queue empty")
    wait_until(lambda: len(lines(server, fn, "DONE")) >= 3, timeout=10, message="three done")
    assert sorted(str(d["id"]) for d in lines(server, fn, "DONE")) == ["0", "2", "plain keep"]


def test_disabled_mapping_leaves_messages(
    server: ServerProcess, lambda_client: Any, sqs: Any
) -> None:
    url, arn, _ = make_queue(sqs)
    fn = consumer(lambda_client)
    uuid = lambda_client.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, Enabled=False
    )["UUID"]
    assert lambda_client.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"id": "waiting"}))
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2, VisibilityTimeout=0)[
        "Messages"
    ]  # fmt: skip
    lambda_client.update_event_source_mapping(UUID=uuid, Enabled=True)
    wait_until(lambda: counts(sqs, url) == (0, 0), timeout=30, message="the queue empty")
    assert [d["id"] for d in lines(server, fn, "DONE")] == ["waiting"]


def overlap(batches: list[dict[str, Any]]) -> int:
    """The most batches that ran at the same moment."""
    points = sorted([(b["start"], 1) for b in batches] + [(b["end"], -1) for b in batches])
    most = running = 0
    for _, step in points:
        running += step
        most = max(most, running)
    return most


@pytest.mark.parametrize("limit", ["reserved", "scaling"])
def test_concurrency_limits(
    server: ServerProcess, lambda_client: Any, sqs: Any, limit: str
) -> None:
    url, arn, dlq = make_queue(sqs, dlq_after=5)
    assert dlq is not None
    fn = consumer(lambda_client)
    extra: dict[str, Any] = {}
    if limit == "reserved":
        lambda_client.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=1)
        allowed = 1
    else:
        extra = {"ScalingConfig": {"MaximumConcurrency": 2}}
        allowed = 2
    lambda_client.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, BatchSize=1, **extra
    )
    sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(i), "MessageBody": json.dumps({"id": i, "sleep": 0.2})} for i in range(8)
    ])  # fmt: skip
    wait_until(lambda: len(lines(server, fn, "BATCH")) >= 8, timeout=60, message="8 batches")
    batches = lines(server, fn, "BATCH")
    assert 1 <= overlap(batches) <= allowed
    assert sorted(d["id"] for d in lines(server, fn, "DONE")) == list(range(8))
    assert drain(sqs, dlq) == []


def test_metrics(server: ServerProcess, lambda_client: Any, sqs: Any) -> None:
    url, arn, _ = make_queue(sqs)
    fn = consumer(lambda_client)
    uuid = lambda_client.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"id": [1]}})}]},
    )["UUID"]  # fmt: skip
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"id": 1}))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"id": 2}))
    wait_until(lambda: counts(sqs, url) == (0, 0), timeout=30, message="the queue empty")
    labels = f'event_source_mapping="{uuid}",function_name="{fn}"'

    def value(name: str) -> float:
        text = httpx.get(f"{server.url}/metrics", timeout=5).text
        for line in text.splitlines():
            if line.startswith(f"{name}_total{{{labels}}}") or line.startswith(
                f"{name}{{{labels}}}"
            ):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    assert value("PolledEventCount") == 2
    assert value("InvokedEventCount") == 1
    assert value("FilteredOutEventCount") == 1
    assert value("ApproximateAgeOfOldestMessage") >= 0


def test_console_shows_and_toggles_the_trigger(
    server: ServerProcess, lambda_client: Any, sqs: Any
) -> None:
    url, arn, _ = make_queue(sqs)
    fn = consumer(lambda_client)
    uuid = lambda_client.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn)["UUID"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"id": "seen"}))
    wait_until(lambda: counts(sqs, url) == (0, 0), timeout=30, message="the queue empty")
    page = f"{server.url}/console/functions/{fn}"
    queue = arn.rsplit(":", 1)[1]

    def shows(*needles: str) -> bool:
        text = httpx.get(page, timeout=10).text
        return all(n in text for n in needles)

    wait_until(lambda: shows(queue, "Last processing result: OK", f"{uuid}/disable"), timeout=10,
               message="the trigger on the Overview")  # fmt: skip
    posted = httpx.post(
        f"{page}/triggers/{uuid}/disable", headers={"Origin": server.url}, timeout=10
    )
    assert posted.status_code in (200, 303), posted.text
    assert lambda_client.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"
    assert shows(queue, f"{uuid}/enable", "batch size 10, Disabled")


def test_lineage_flows_and_a_loop_is_stopped(
    server: ServerProcess, lambda_client: Any, sqs: Any
) -> None:
    """A message's AWSTraceHeader carries the recursion lineage: the invocation runs with
    it counted once more; past 16 the batch is dropped, not run (RecursiveLoop Terminate)."""
    import hashlib

    url, arn, _ = make_queue(sqs)
    fn = consumer(lambda_client)
    fn_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{fn}"
    mine = hashlib.sha256(fn_arn.encode()).hexdigest()[:8]
    uuid = lambda_client.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=arn, BatchSize=1
    )["UUID"]

    def send(count: int, ident: str) -> None:
        header = f"Root=1-5e1b4151-5ac6c58f5b5d1f8e3c2a9b7d;Lineage=1:{mine}:{count}"
        sqs.send_message(
            QueueUrl=url, MessageBody=json.dumps({"id": ident, "echo": True}),
            MessageSystemAttributes={
                "AWSTraceHeader": {"DataType": "String", "StringValue": header}
            },
        )  # fmt: skip

    send(16, "looping")
    wait_until(lambda: counts(sqs, url) == (0, 0), timeout=30, message="the loop dropped")
    send(3, "fine")
    (event,) = wait_until(lambda: lines(server, fn, "EVENT"), timeout=30, message="the event")
    assert json.loads(event["Records"][0]["body"])["id"] == "fine"
    assert [d["id"] for d in lines(server, fn, "DONE")] == ["fine"]
    (trace,) = lines(server, fn, "TRACE")
    assert "Root=1-5e1b4151-5ac6c58f5b5d1f8e3c2a9b7d" in trace
    assert f"Lineage=1:{mine}:4" in trace  # counted once more for this invocation
    metrics = httpx.get(f"{server.url}/metrics", timeout=5).text
    assert f'DroppedEventCount_total{{event_source_mapping="{uuid}",function_name="{fn}"}} 1.0' in (
        metrics
    )


SQS_LOOP = """
import os, boto3
def handler(event, context):
    for record in event["Records"]:
        boto3.client("sqs").send_message(QueueUrl=os.environ["QUEUE"], MessageBody="again")
    print("LOOP")
"""


def test_a_function_feeding_its_own_queue_is_stopped_after_16(
    server: ServerProcess, lambda_client: Any, sqs: Any
) -> None:
    """function -> SendMessage -> queue -> mapping -> function: the SDK's X-Amzn-Trace-Id
    becomes the message's AWSTraceHeader, so the lineage counts the loop and ends it.
    (A long visibility timeout: a slow first boto3 import must not redeliver a message.)"""
    url, arn, _ = make_queue(sqs, visibility_s=60)
    fn = create_python(lambda_client, source=SQS_LOOP, Environment={"Variables": {"QUEUE": url}})[
        "FunctionName"
    ]
    uuid = lambda_client.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn)["UUID"]
    sqs.send_message(QueueUrl=url, MessageBody="start")

    def dropped() -> bool:
        text = httpx.get(f"{server.url}/metrics", timeout=5).text
        return f'DroppedEventCount_total{{event_source_mapping="{uuid}",function_name="{fn}"}}' in (
            text
        )

    wait_until(dropped, timeout=60, message="the loop to be stopped")
    wait_until(lambda: counts(sqs, url) == (0, 0), timeout=10, message="the queue empty")
    loops = [line for line in function_logs(server.url, fn).splitlines() if line == "LOOP"]
    assert len(loops) == 16
