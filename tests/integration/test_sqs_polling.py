"""Long polling, dead-letter redrive and durability, through boto3 against real servers."""

from __future__ import annotations

import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import botocore.exceptions
import httpx
import pytest

from tests.conftest import client_for
from tests.support.server import ServerProcess, start_server


@pytest.fixture(scope="module")
def sqs(server: ServerProcess) -> Any:
    return client_for(server.url, "sqs")


def new_queue(sqs: Any, prefix: str = "p", **attributes: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    if attributes.get("FifoQueue") == "true":
        name += ".fifo"
    return str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])


class Receiver(threading.Thread):
    """A receive in another thread, timing when it returns."""

    def __init__(self, sqs: Any, url: str, **kwargs: Any) -> None:
        super().__init__(daemon=True)
        self.sqs, self.url, self.kwargs = sqs, url, kwargs
        self.result: dict[str, Any] = {}
        self.returned_at = 0.0

    def run(self) -> None:
        self.result = self.sqs.receive_message(QueueUrl=self.url, **self.kwargs)
        self.returned_at = time.monotonic()


def test_long_poll_is_woken_by_a_send(sqs: Any, server: ServerProcess) -> None:
    url = new_queue(sqs)
    receiver = Receiver(client_for(server.url, "sqs"), url, WaitTimeSeconds=20)
    started = time.monotonic()
    receiver.start()
    receiver.join(timeout=0.5)
    assert receiver.is_alive(), "the receive should be waiting for a message"
    sent_at = time.monotonic()
    sqs.send_message(QueueUrl=url, MessageBody="wake up")
    receiver.join(timeout=10)
    assert not receiver.is_alive()
    assert [m["Body"] for m in receiver.result["Messages"]] == ["wake up"]
    assert receiver.returned_at - sent_at < 0.4, "woken by the arrival, not by polling"
    assert receiver.returned_at - started < 5, "well before the 20 s wait time"


def test_long_polls_share_a_batch(sqs: Any, server: ServerProcess) -> None:
    url = new_queue(sqs)
    receivers = [Receiver(client_for(server.url, "sqs"), url, WaitTimeSeconds=20) for _ in range(3)]
    for r in receivers:
        r.start()
    receivers[0].join(timeout=0.5)
    sqs.send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(3)]
    )
    for r in receivers:
        r.join(timeout=10)
    got = sorted(m["Body"] for r in receivers for m in r.result.get("Messages", []))
    assert got == ["0", "1", "2"]


def test_long_poll_returns_empty_at_the_wait_time(sqs: Any) -> None:
    url = new_queue(sqs, ReceiveMessageWaitTimeSeconds="1")
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url)  # the queue's default wait
    assert 0.9 <= time.monotonic() - started < 5
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    assert time.monotonic() - started < 0.5


def test_long_poll_sees_a_delayed_message_when_it_becomes_visible(sqs: Any) -> None:
    url = new_queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=1)
    started = time.monotonic()
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)
    assert [m["Body"] for m in got["Messages"]] == ["later"]
    assert 0.9 <= time.monotonic() - started < 3


def test_abandoned_long_poll_takes_no_message(sqs: Any, server: ServerProcess) -> None:
    url = new_queue(sqs)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            server.url,
            json={"QueueUrl": url, "WaitTimeSeconds": 20, "VisibilityTimeout": 300},
            headers={
                "X-Amz-Target": "AmazonSQS.ReceiveMessage",
                "Content-Type": "application/x-amz-json-1.0",
            },
            timeout=0.5,
        )
    sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    sqs.send_message(QueueUrl=url, MessageBody="for the next one")
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)
    assert [m["Body"] for m in got["Messages"]] == ["for the next one"]


def redrive_policy(sqs: Any, dlq_url: str, max_receive_count: int) -> str:
    arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
    return (
        f'{{"deadLetterTargetArn": "{arn["Attributes"]["QueueArn"]}",'
        f' "maxReceiveCount": "{max_receive_count}"}}'
    )


def test_redrive_to_dead_letter_queue(sqs: Any) -> None:
    dlq = new_queue(sqs, "dlq")
    source = new_queue(sqs, "src")
    sqs.set_queue_attributes(
        QueueUrl=source, Attributes={"RedrivePolicy": redrive_policy(sqs, dlq, 2)}
    )
    policy = sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["RedrivePolicy"])
    assert '"maxReceiveCount":2' in policy["Attributes"]["RedrivePolicy"]
    sent = sqs.send_message(
        QueueUrl=source,
        MessageBody="poison",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )
    for _ in range(2):
        (m,) = sqs.receive_message(QueueUrl=source, VisibilityTimeout=0)["Messages"]
        assert m["MessageId"] == sent["MessageId"]
    assert "Messages" not in sqs.receive_message(QueueUrl=source)
    (dead,) = sqs.receive_message(
        QueueUrl=dlq, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]
    )["Messages"]
    assert dead["MessageId"] == sent["MessageId"] and dead["Body"] == "poison"
    assert dead["MessageAttributes"]["k"]["StringValue"] == "v"
    source_arn = sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["QueueArn"])
    assert dead["Attributes"]["DeadLetterQueueSourceArn"] == source_arn["Attributes"]["QueueArn"]
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [source]


def test_redrive_wakes_a_long_poll_on_the_dead_letter_queue(
    sqs: Any, server: ServerProcess
) -> None:
    dlq = new_queue(sqs, "dlq")
    source = new_queue(sqs, "src")
    sqs.set_queue_attributes(
        QueueUrl=source, Attributes={"RedrivePolicy": redrive_policy(sqs, dlq, 1)}
    )
    sqs.send_message(QueueUrl=source, MessageBody="poison")
    sqs.receive_message(QueueUrl=source, VisibilityTimeout=0)
    receiver = Receiver(client_for(server.url, "sqs"), dlq, WaitTimeSeconds=20)
    receiver.start()
    receiver.join(timeout=0.5)
    moved_at = time.monotonic()
    sqs.receive_message(QueueUrl=source)
    receiver.join(timeout=10)
    assert [m["Body"] for m in receiver.result["Messages"]] == ["poison"]
    assert receiver.returned_at - moved_at < 0.4


def test_fifo_redrive_keeps_group_order(sqs: Any) -> None:
    dlq = new_queue(sqs, "dlq", FifoQueue="true")
    source = new_queue(sqs, "src", FifoQueue="true", ContentBasedDeduplication="true")
    sqs.set_queue_attributes(
        QueueUrl=source, Attributes={"RedrivePolicy": redrive_policy(sqs, dlq, 1)}
    )
    for body in ("a", "b"):
        sqs.send_message(QueueUrl=source, MessageBody=body, MessageGroupId="g")
    got = sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10, VisibilityTimeout=0)
    assert [m["Body"] for m in got["Messages"]] == ["a", "b"]
    assert "Messages" not in sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10)
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in dead] == ["a", "b"]


def test_invalid_redrive_policies(sqs: Any) -> None:
    standard = new_queue(sqs, "dlq")
    fifo_source = new_queue(sqs, "src", FifoQueue="true")
    for url, policy in (
        (fifo_source, redrive_policy(sqs, standard, 3)),
        (
            standard,
            '{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:nope",'
            ' "maxReceiveCount": 3}',
        ),
        (standard, redrive_policy(sqs, standard, 0)),
    ):
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": policy})
        assert exc.value.response["Error"]["Code"] in (
            "InvalidParameterValue",
            "InvalidAttributeValue",
        )


def test_messages_survive_a_crash(tmp_path: Path) -> None:
    first = start_server(tmp_path / "srv")
    try:
        sqs = client_for(first.url, "sqs")
        url = new_queue(sqs)
        fifo_url = new_queue(sqs, FifoQueue="true", ContentBasedDeduplication="true")
        sqs.send_message(QueueUrl=url, MessageBody="in flight")
        sqs.send_message(QueueUrl=url, MessageBody="kept")
        (taken,) = sqs.receive_message(QueueUrl=url, VisibilityTimeout=300)["Messages"]
        assert taken["Body"] == "in flight"
        sqs.send_message(QueueUrl=fifo_url, MessageBody="dedup me", MessageGroupId="g")
    finally:
        first.stop(signal.SIGKILL)
    second = start_server(tmp_path / "srv")
    try:
        sqs = client_for(second.url, "sqs")
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attrs["ApproximateNumberOfMessages"] == "1"
        assert attrs["ApproximateNumberOfMessagesNotVisible"] == "1"
        # the old URL (another port) still names the queue
        (m,) = sqs.receive_message(QueueUrl=url)["Messages"]
        assert m["Body"] == "kept"
        sqs.send_message(QueueUrl=fifo_url, MessageBody="dedup me", MessageGroupId="g")
        got = sqs.receive_message(QueueUrl=fifo_url, MaxNumberOfMessages=10)["Messages"]
        assert [m["Body"] for m in got] == ["dedup me"]
    finally:
        assert second.stop() == 0
