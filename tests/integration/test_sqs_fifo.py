"""FIFO queues through boto3: per-group order, group blocking, deduplication, sequence numbers."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import botocore.exceptions
import pytest

from tests.conftest import client_for
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def sqs(server: ServerProcess) -> Any:
    return client_for(server.url, "sqs")


def fifo(sqs: Any, **attributes: str) -> str:
    return str(
        sqs.create_queue(
            QueueName=f"f-{uuid.uuid4().hex[:10]}.fifo",
            Attributes={"FifoQueue": "true", **attributes},
        )["QueueUrl"]
    )


def code_of(exc: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> str:
    """The error's code as AWS's SDKs report it (the x-amzn-query-error header's code; the
    JSON ``__type``, ``QueryErrorCode``, differs for parameter errors: test_sqs_fidelity)."""
    return str(exc.value.response["Error"]["Code"])


def bodies(response: dict[str, Any]) -> list[str]:
    return [m["Body"] for m in response.get("Messages", [])]


def test_fifo_attributes(sqs: Any) -> None:
    url = fifo(sqs)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["FifoQueue"] == "true"
    assert attrs["ContentBasedDeduplication"] == "false"
    assert attrs["DeduplicationScope"] == "queue"
    assert attrs["FifoThroughputLimit"] == "perQueue"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"ContentBasedDeduplication": "true"})
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ContentBasedDeduplication"])
    assert attrs["Attributes"] == {"ContentBasedDeduplication": "true"}


def test_order_within_groups_and_group_blocking(sqs: Any) -> None:
    url = fifo(sqs, ContentBasedDeduplication="true")
    for i in range(3):
        for group in ("a", "b"):
            sqs.send_message(QueueUrl=url, MessageBody=f"{group}{i}", MessageGroupId=group)
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=300)
    assert bodies(first) == ["a0", "b0"]
    # both groups have a message in flight: nothing else is delivered
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == []
    a0 = first["Messages"][0]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=a0["ReceiptHandle"])
    assert bodies(
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300)
    ) == ["a1", "a2"]
    # releasing b0 hands it back first, then the rest of b in order
    b0 = first["Messages"][1]
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=b0["ReceiptHandle"], VisibilityTimeout=0
    )
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
    assert bodies(got) == ["b0", "b1", "b2"]
    assert got["Messages"][0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_system_attributes_and_sequence_numbers(sqs: Any) -> None:
    url = fifo(sqs)
    sent = [
        sqs.send_message(
            QueueUrl=url, MessageBody=f"m{i}", MessageGroupId="g", MessageDeduplicationId=f"d{i}"
        )
        for i in range(3)
    ]
    numbers = [s["SequenceNumber"] for s in sent]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    assert all(len(n) == 20 and n.isdigit() for n in numbers)
    got = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    )["Messages"]
    assert [m["Attributes"]["SequenceNumber"] for m in got] == numbers
    assert [m["Attributes"]["MessageDeduplicationId"] for m in got] == ["d0", "d1", "d2"]
    assert {m["Attributes"]["MessageGroupId"] for m in got} == {"g"}


def test_explicit_deduplication(sqs: Any) -> None:
    url = fifo(sqs)
    one = sqs.send_message(
        QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="same"
    )
    two = sqs.send_message(
        QueueUrl=url,
        MessageBody="different body",
        MessageGroupId="g",
        MessageDeduplicationId="same",
    )
    assert two["MessageId"] == one["MessageId"]
    assert two["SequenceNumber"] == one["SequenceNumber"]
    (m,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    # the deduplication id is remembered after the message is deleted
    sqs.send_message(
        QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="same"
    )
    assert bodies(sqs.receive_message(QueueUrl=url)) == []


def test_content_based_deduplication_and_batches(sqs: Any) -> None:
    url = fifo(sqs, ContentBasedDeduplication="true")
    result = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "1", "MessageBody": "same", "MessageGroupId": "g"},
            {"Id": "2", "MessageBody": "same", "MessageGroupId": "g"},
            {"Id": "3", "MessageBody": "other", "MessageGroupId": "g"},
        ],
    )
    ids = {e["Id"]: e["MessageId"] for e in result["Successful"]}
    assert ids["1"] == ids["2"] != ids["3"]
    assert bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)) == ["same", "other"]


def test_deduplication_scope_per_group(sqs: Any) -> None:
    url = fifo(sqs, DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
    for group in ("a", "b"):
        sqs.send_message(
            QueueUrl=url, MessageBody=group, MessageGroupId=group, MessageDeduplicationId="same"
        )
    assert sorted(bodies(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10))) == ["a", "b"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"MessageBody": "x", "MessageDeduplicationId": "d"}, "MissingParameter"),
        ({"MessageBody": "x", "MessageGroupId": "g"}, "InvalidParameterValue"),
        (
            {
                "MessageBody": "x",
                "MessageGroupId": "g",
                "MessageDeduplicationId": "d",
                "DelaySeconds": 5,
            },
            "InvalidParameterValue",
        ),
        (
            {"MessageBody": "x", "MessageGroupId": "g" * 129, "MessageDeduplicationId": "d"},
            "InvalidParameterValue",
        ),
    ],
)
def test_fifo_send_errors(sqs: Any, kwargs: dict[str, Any], code: str) -> None:
    url = fifo(sqs)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        sqs.send_message(QueueUrl=url, **kwargs)
    assert code_of(exc) == code


def test_long_poll_wakes_when_a_group_unblocks(sqs: Any, server: ServerProcess) -> None:
    url = fifo(sqs, ContentBasedDeduplication="true")
    for body in ("first", "second"):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")
    (first,) = sqs.receive_message(QueueUrl=url, VisibilityTimeout=300)["Messages"]
    result: dict[str, Any] = {}

    def poll() -> None:
        other = client_for(server.url, "sqs")
        result.update(other.receive_message(QueueUrl=url, WaitTimeSeconds=20))
        result["at"] = time.monotonic()

    waiter = threading.Thread(target=poll, daemon=True)
    waiter.start()
    waiter.join(timeout=0.5)
    assert waiter.is_alive(), "the group is blocked while 'first' is in flight"
    deleted_at = time.monotonic()
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    waiter.join(timeout=10)
    assert bodies(result) == ["second"]
    assert result["at"] - deleted_at < 0.4
