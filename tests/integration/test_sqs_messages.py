"""SQS messages through boto3 against the real server: send, receive, delete, visibility,
attributes and digests, batches, limits and errors."""

from __future__ import annotations

import hashlib
import struct
import time
import uuid
from typing import Any

import botocore.exceptions
import pytest

from tests.conftest import client_for
from tests.support.server import ServerProcess, wait_until

MIB = 1_048_576


@pytest.fixture(scope="module")
def sqs(server: ServerProcess) -> Any:
    return client_for(server.url, "sqs")


@pytest.fixture
def queue(sqs: Any) -> str:
    return str(sqs.create_queue(QueueName=f"m-{uuid.uuid4().hex[:10]}")["QueueUrl"])


def code_of(exc: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> str:
    """The error's code as AWS's SDKs report it (the x-amzn-query-error header's code; the
    JSON ``__type``, ``QueryErrorCode``, differs for parameter errors: test_sqs_fidelity)."""
    return str(exc.value.response["Error"]["Code"])


def counts(sqs: Any, url: str) -> tuple[int, int, int]:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return (
        int(attrs["ApproximateNumberOfMessages"]),
        int(attrs["ApproximateNumberOfMessagesNotVisible"]),
        int(attrs["ApproximateNumberOfMessagesDelayed"]),
    )


def reference_md5(attributes: dict[str, dict[str, Any]]) -> str:
    """The attribute digest as the AWS SDKs compute it, written out independently."""
    out = b""
    for name in sorted(attributes):
        value = attributes[name]
        out += struct.pack(">I", len(name.encode())) + name.encode()
        out += struct.pack(">I", len(value["DataType"])) + value["DataType"].encode()
        if "BinaryValue" in value:
            out += b"\x02" + struct.pack(">I", len(value["BinaryValue"])) + value["BinaryValue"]
        else:
            data = value["StringValue"].encode()
            out += b"\x01" + struct.pack(">I", len(data)) + data
    return hashlib.md5(out).hexdigest()


def test_send_receive_delete(sqs: Any, queue: str) -> None:
    sent = sqs.send_message(QueueUrl=queue, MessageBody="hello ✓")
    assert sent["MD5OfMessageBody"] == hashlib.md5("hello ✓".encode()).hexdigest()
    assert "MD5OfMessageAttributes" not in sent
    (message,) = sqs.receive_message(QueueUrl=queue)["Messages"]
    assert message["MessageId"] == sent["MessageId"]
    assert message["Body"] == "hello ✓" and message["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert "Attributes" not in message and "MessageAttributes" not in message
    assert counts(sqs, queue) == (0, 1, 0)
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert counts(sqs, queue) == (0, 0, 0)
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)


def test_attribute_digests_match_aws(sqs: Any, queue: str) -> None:
    known = {"SOME_Valid.attribute-Name": {"StringValue": "1493147359900", "DataType": "Number"}}
    sent = sqs.send_message(QueueUrl=queue, MessageBody="derp", MessageAttributes=known)
    # the values AWS returns for this message (recorded by moto's test suite)
    assert sent["MD5OfMessageBody"] == "58fd9edd83341c29f1aebba81c31e257"
    assert sent["MD5OfMessageAttributes"] == "36655e7e9d7c0e8479fa3f3f42247ae7"
    mixed = {
        "text": {"DataType": "String", "StringValue": "välue"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xffdata"},
        "num": {"DataType": "Number.int", "StringValue": "-12.5"},
    }
    sent = sqs.send_message(QueueUrl=queue, MessageBody="x", MessageAttributes=mixed)
    assert sent["MD5OfMessageAttributes"] == reference_md5(mixed)
    got = sqs.receive_message(
        QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )["Messages"]
    by_body = {m["Body"]: m for m in got}
    assert by_body["x"]["MessageAttributes"] == mixed
    assert by_body["x"]["MD5OfMessageAttributes"] == reference_md5(mixed)
    assert by_body["derp"]["MD5OfMessageAttributes"] == "36655e7e9d7c0e8479fa3f3f42247ae7"


def test_message_attribute_selection(sqs: Any, queue: str) -> None:
    attrs = {
        "a.one": {"DataType": "String", "StringValue": "1"},
        "a.two": {"DataType": "String", "StringValue": "2"},
        "b": {"DataType": "String", "StringValue": "3"},
    }
    sqs.send_message(QueueUrl=queue, MessageBody="x", MessageAttributes=attrs)
    for names, expected in (
        (["b"], {"b"}),
        (["a.*"], {"a.one", "a.two"}),
        ([".*"], set(attrs)),
        (["missing"], set()),
    ):
        (m,) = sqs.receive_message(
            QueueUrl=queue, MessageAttributeNames=names, VisibilityTimeout=0
        )["Messages"]
        assert set(m.get("MessageAttributes", {})) == expected
        if expected:
            subset = {k: attrs[k] for k in expected}
            assert m["MD5OfMessageAttributes"] == reference_md5(subset)
        else:
            assert "MD5OfMessageAttributes" not in m


def test_system_attributes(sqs: Any, queue: str) -> None:
    before = int(time.time() * 1000)
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    sent = sqs.send_message(
        QueueUrl=queue,
        MessageBody="x",
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": trace}},
    )
    assert sent["MD5OfMessageSystemAttributes"] == reference_md5(
        {"AWSTraceHeader": {"DataType": "String", "StringValue": trace}}
    )
    (m,) = sqs.receive_message(
        QueueUrl=queue, MessageSystemAttributeNames=["All"], VisibilityTimeout=0
    )["Messages"]
    a = m["Attributes"]
    assert a["SenderId"] == "test" and a["AWSTraceHeader"] == trace
    assert a["ApproximateReceiveCount"] == "1"
    assert before - 1000 <= int(a["SentTimestamp"]) <= int(a["ApproximateFirstReceiveTimestamp"])
    (m,) = sqs.receive_message(QueueUrl=queue, AttributeNames=["ApproximateReceiveCount"])[
        "Messages"
    ]
    assert m["Attributes"] == {"ApproximateReceiveCount": "2"}
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        sqs.receive_message(QueueUrl=queue, MessageSystemAttributeNames=["Bogus"])
    assert code_of(exc) == "InvalidAttributeName"


def test_max_number_of_messages(sqs: Any, queue: str) -> None:
    for i in range(12):
        sqs.send_message(QueueUrl=queue, MessageBody=str(i))
    assert len(sqs.receive_message(QueueUrl=queue)["Messages"]) == 1
    assert len(sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]) == 10
    assert len(sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]) == 1
    for bad in (
        {"MaxNumberOfMessages": 11},
        {"MaxNumberOfMessages": 0},
        {"WaitTimeSeconds": 21},
        {"VisibilityTimeout": -1},
    ):
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            sqs.receive_message(QueueUrl=queue, **bad)
        assert code_of(exc) == "InvalidParameterValue"


def test_visibility_timeout_expires(sqs: Any, queue: str) -> None:
    sqs.send_message(QueueUrl=queue, MessageBody="x")
    (first,) = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=1)["Messages"]
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)
    again = wait_until(
        lambda: sqs.receive_message(QueueUrl=queue, AttributeNames=["All"]).get("Messages"),
        timeout=10,
        message="message visible again",
    )
    assert again[0]["MessageId"] == first["MessageId"]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    assert again[0]["ReceiptHandle"] != first["ReceiptHandle"]
    # the stale handle deletes nothing (and does not fail); the current one does
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=first["ReceiptHandle"])
    assert counts(sqs, queue) == (0, 1, 0)
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=again[0]["ReceiptHandle"])
    assert counts(sqs, queue) == (0, 0, 0)


def test_queue_visibility_timeout_applies(sqs: Any) -> None:
    url = sqs.create_queue(
        QueueName=f"v-{uuid.uuid4().hex[:8]}", Attributes={"VisibilityTimeout": "1"}
    )["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.receive_message(QueueUrl=url)
    wait_until(lambda: sqs.receive_message(QueueUrl=url).get("Messages"), timeout=10)


def test_change_visibility(sqs: Any, queue: str) -> None:
    sqs.send_message(QueueUrl=queue, MessageBody="x")
    (m,) = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=300)["Messages"]
    sqs.change_message_visibility(
        QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
    )
    (m2,) = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=300)["Messages"]
    assert m2["MessageId"] == m["MessageId"]
    with pytest.raises(botocore.exceptions.ClientError) as exc:  # stale handle
        sqs.change_message_visibility(
            QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=10
        )
    assert code_of(exc) == "InvalidParameterValue"
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle="garbage", VisibilityTimeout=10)
    sqs.change_message_visibility(
        QueueUrl=queue, ReceiptHandle=m2["ReceiptHandle"], VisibilityTimeout=0
    )
    with pytest.raises(sqs.exceptions.MessageNotInflight):
        sqs.change_message_visibility(
            QueueUrl=queue, ReceiptHandle=m2["ReceiptHandle"], VisibilityTimeout=10
        )


def test_change_visibility_batch(sqs: Any, queue: str) -> None:
    for i in range(3):
        sqs.send_message(QueueUrl=queue, MessageBody=str(i))
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=300)
    entries = [
        {"Id": f"e{i}", "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
        for i, m in enumerate(got["Messages"])
    ]
    entries.append({"Id": "bad", "ReceiptHandle": "nope", "VisibilityTimeout": 0})
    result = sqs.change_message_visibility_batch(QueueUrl=queue, Entries=entries)
    assert sorted(e["Id"] for e in result["Successful"]) == ["e0", "e1", "e2"]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in result["Failed"]] == [
        ("bad", "ReceiptHandleIsInvalid", True)
    ]
    assert counts(sqs, queue) == (3, 0, 0)


def test_delete_errors_and_batch(sqs: Any, queue: str) -> None:
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid) as exc:
        sqs.delete_message(QueueUrl=queue, ReceiptHandle="not-a-handle")
    assert code_of(exc) == "ReceiptHandleIsInvalid"
    sqs.send_message_batch(
        QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(3)]
    )
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    entries = [{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
    entries.append({"Id": "bad", "ReceiptHandle": "bm9wZQ"})
    result = sqs.delete_message_batch(QueueUrl=queue, Entries=entries)
    assert sorted(e["Id"] for e in result["Successful"]) == ["d0", "d1", "d2"]
    assert [f["Id"] for f in result["Failed"]] == ["bad"]
    assert counts(sqs, queue) == (0, 0, 0)


def test_handle_of_another_queue_is_invalid(sqs: Any, queue: str) -> None:
    other = sqs.create_queue(QueueName=f"o-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs.send_message(QueueUrl=other, MessageBody="x")
    (m,) = sqs.receive_message(QueueUrl=other)["Messages"]
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])


def test_send_batch_mixed_results_keep_the_good_ones(sqs: Any, queue: str) -> None:
    result = sqs.send_message_batch(
        QueueUrl=queue,
        Entries=[
            {
                "Id": "ok1",
                "MessageBody": "one",
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            },
            {
                "Id": "bad",
                "MessageBody": "two",
                "MessageAttributes": {"AWS.reserved": {"DataType": "String", "StringValue": "v"}},
            },
            {"Id": "ok2", "MessageBody": "three", "DelaySeconds": 0},
        ],
    )
    assert sorted(e["Id"] for e in result["Successful"]) == ["ok1", "ok2"]
    ok1 = next(e for e in result["Successful"] if e["Id"] == "ok1")
    assert ok1["MD5OfMessageBody"] == hashlib.md5(b"one").hexdigest()
    assert ok1["MD5OfMessageAttributes"] == reference_md5(
        {"k": {"DataType": "String", "StringValue": "v"}}
    )
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in result["Failed"]] == [
        ("bad", "InvalidParameterValue", True)
    ]
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in got) == ["one", "three"]


@pytest.mark.parametrize(
    ("entries", "code"),
    [
        ([], "AWS.SimpleQueueService.EmptyBatchRequest"),
        (
            [{"Id": str(i), "MessageBody": "x"} for i in range(11)],
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        ),
        (
            [{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}],
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
        ),
        ([{"Id": "bad id!", "MessageBody": "x"}], "AWS.SimpleQueueService.InvalidBatchEntryId"),
        (
            [{"Id": "a", "MessageBody": "x" * 600_000}, {"Id": "b", "MessageBody": "y" * 600_000}],
            "AWS.SimpleQueueService.BatchRequestTooLong",
        ),
    ],
)
def test_batch_envelope_errors(
    sqs: Any, queue: str, entries: list[dict[str, Any]], code: str
) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        sqs.send_message_batch(QueueUrl=queue, Entries=entries)
    assert exc.value.response["Error"]["Code"] == code
    assert counts(sqs, queue) == (0, 0, 0)


def test_size_limits(sqs: Any, queue: str) -> None:
    sqs.send_message(QueueUrl=queue, MessageBody="x" * MIB)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        sqs.send_message(QueueUrl=queue, MessageBody="x" * (MIB + 1))
    assert code_of(exc) == "InvalidParameterValue"
    assert "1048576" in exc.value.response["Error"]["Message"]
    small = sqs.create_queue(
        QueueName=f"s-{uuid.uuid4().hex[:8]}", Attributes={"MaximumMessageSize": "1024"}
    )["QueueUrl"]
    sqs.send_message(QueueUrl=small, MessageBody="x" * 1024)
    # name (1) + type (6) + value (1) count against the limit too
    with pytest.raises(botocore.exceptions.ClientError):
        sqs.send_message(
            QueueUrl=small,
            MessageBody="x" * 1017,
            MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
        )
    sqs.send_message(
        QueueUrl=small,
        MessageBody="x" * 1016,
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )
    (big,) = sqs.receive_message(QueueUrl=queue)["Messages"]
    assert len(big["Body"]) == MIB


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"MessageBody": "bad \x00 char"}, "InvalidMessageContents"),
        ({"MessageBody": ""}, "MissingParameter"),
        ({"MessageBody": "x", "DelaySeconds": 901}, "InvalidParameterValue"),
        ({"MessageBody": "x", "MessageDeduplicationId": "d"}, "InvalidParameterValue"),
        (
            {
                "MessageBody": "x",
                "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "twelve"}},
            },
            "InvalidParameterValue",
        ),
        (
            {
                "MessageBody": "x",
                "MessageAttributes": {"e": {"DataType": "String", "StringValue": ""}},
            },
            "InvalidParameterValue",
        ),
        (
            {
                "MessageBody": "x",
                "MessageAttributes": {"t": {"DataType": "Date", "StringValue": "x"}},
            },
            "InvalidParameterValue",
        ),
        (
            {
                "MessageBody": "x",
                "MessageAttributes": {
                    f"k{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)
                },
            },
            "InvalidParameterValue",
        ),
    ],
)
def test_invalid_messages(sqs: Any, queue: str, kwargs: dict[str, Any], code: str) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        sqs.send_message(QueueUrl=queue, **kwargs)
    assert code_of(exc) == code
    assert counts(sqs, queue) == (0, 0, 0)


def test_delays(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=f"d-{uuid.uuid4().hex[:8]}", Attributes={"DelaySeconds": "1"})[
        "QueueUrl"
    ]
    sqs.send_message(QueueUrl=url, MessageBody="queue-delay")
    sqs.send_message(QueueUrl=url, MessageBody="no-delay", DelaySeconds=0)
    sqs.send_message(QueueUrl=url, MessageBody="long-delay", DelaySeconds=900)
    assert counts(sqs, url) == (1, 0, 2)
    (m,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert m["Body"] == "no-delay"
    got = wait_until(lambda: sqs.receive_message(QueueUrl=url).get("Messages"), timeout=10)
    assert got[0]["Body"] == "queue-delay"
    assert counts(sqs, url) == (0, 2, 1)


def test_purge(sqs: Any, queue: str) -> None:
    for i in range(3):
        sqs.send_message(QueueUrl=queue, MessageBody=str(i))
    sqs.receive_message(QueueUrl=queue)
    sqs.purge_queue(QueueUrl=queue)
    assert counts(sqs, queue) == (0, 0, 0)
    sqs.send_message(QueueUrl=queue, MessageBody="after")
    assert sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == "after"
