"""SQS errors as AWS answers them (issue 18, items 1-4), through boto3 against the real server.

Every expected code, QueryErrorCode, status and message is the one recorded from AWS in
LocalStack's tests/aws/services/sqs/test_sqs.snapshot.json (the ``[sqs]``, JSON-protocol
runs; /work/shared/aws-recordings/services/test_sqs.snapshot.json). botocore reads
``Error.Code`` from the ``x-amzn-query-error`` header and ``Error.QueryErrorCode`` from the
body's ``__type``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import botocore.exceptions
import pytest

from tests.conftest import client_for
from tests.support.server import ServerProcess, wait_until

ID_REASON = "can only include alphanumeric and punctuation characters. 1 to 128 in length."


@pytest.fixture(scope="module")
def sqs(server: ServerProcess) -> Any:
    return client_for(server.url, "sqs")


def unique(prefix: str = "fid") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def standard(sqs: Any, **attributes: str) -> str:
    return sqs.create_queue(QueueName=unique(), Attributes=attributes)["QueueUrl"]  # type: ignore[no-any-return]


def fifo(sqs: Any, **attributes: str) -> str:
    url = sqs.create_queue(
        QueueName=f"{unique()}.fifo", Attributes={"FifoQueue": "true", **attributes}
    )["QueueUrl"]
    return url  # type: ignore[no-any-return]


def refused(call: Callable[[], Any]) -> tuple[dict[str, Any], int]:
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        call()
    response = exc.value.response
    return response["Error"], response["ResponseMetadata"]["HTTPStatusCode"]


def assert_refused(
    call: Callable[[], Any], code: str, query_code: str, message: str, status: int = 400
) -> None:
    error, got_status = refused(call)
    assert (error["Code"], error.get("QueryErrorCode"), got_status, error["Message"]) == (
        code,
        query_code,
        status,
        message,
    )
    assert error["Type"] == "Sender"


def invalid(message: str) -> tuple[str, str, str]:
    return "InvalidParameterValue", "InvalidParameterValueException", message


# ---- item 1: InvalidParameterValue's QueryErrorCode ----
def test_oversized_message(sqs: Any) -> None:
    url = standard(sqs, MaximumMessageSize="1024")
    assert_refused(
        lambda: sqs.send_message(QueueUrl=url, MessageBody="x" * 1025),
        *invalid("One or more parameters are invalid."
                 " Reason: Message must be shorter than 1024 bytes."),
    )  # fmt: skip


def test_fifo_delay_seconds_per_message(sqs: Any) -> None:
    url = fifo(sqs, ContentBasedDeduplication="true")
    assert_refused(
        lambda: sqs.send_message(QueueUrl=url, MessageBody="m", MessageGroupId="g", DelaySeconds=2),
        *invalid("Value 2 for parameter DelaySeconds is invalid. Reason: The request include"
                 " parameter that is not valid for this queue type."),
    )  # fmt: skip


@pytest.mark.parametrize("wait", [21, -1])
def test_wait_time_seconds_out_of_range(sqs: Any, wait: int) -> None:
    url = standard(sqs)
    assert_refused(
        lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=wait),
        *invalid(f"Value {wait} for parameter WaitTimeSeconds is invalid."
                 " Reason: Must be >= 0 and <= 20, if provided."),
    )  # fmt: skip


def test_max_number_of_messages_out_of_range(sqs: Any) -> None:
    url = standard(sqs)
    assert_refused(
        lambda: sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11),
        *invalid("Value 11 for parameter MaxNumberOfMessages is invalid."
                 " Reason: Must be between 1 and 10, if provided."),
    )  # fmt: skip


@pytest.mark.parametrize("value", ["", "a" * 129, "group 123"])
def test_bad_group_id_on_a_standard_queue(sqs: Any, value: str) -> None:
    url = standard(sqs)
    assert_refused(
        lambda: sqs.send_message(QueueUrl=url, MessageBody="m", MessageGroupId=value),
        *invalid(f"Value {value} for parameter MessageGroupId is invalid."
                 f" Reason: MessageGroupId {ID_REASON}"),
    )  # fmt: skip


@pytest.mark.parametrize("value", ["", "a" * 129, "group 123"])
def test_bad_deduplication_id(sqs: Any, value: str) -> None:
    url = fifo(sqs)
    send = {"MessageBody": "m", "MessageGroupId": "g", "MessageDeduplicationId": value}
    assert_refused(
        lambda: sqs.send_message(QueueUrl=url, **send),
        *invalid(f"Value {value} for parameter MessageDeduplicationId is invalid."
                 f" Reason: MessageDeduplicationId {ID_REASON}"),
    )  # fmt: skip


def test_fifo_send_without_deduplication(sqs: Any) -> None:
    url = fifo(sqs)
    message = (
        "The queue should either have ContentBasedDeduplication enabled or"
        " MessageDeduplicationId provided explicitly"
    )
    assert_refused(
        lambda: sqs.send_message(QueueUrl=url, MessageBody="m", MessageGroupId="g"),
        *invalid(message),
    )
    entries = [
        {"Id": "a", "MessageBody": "m", "MessageGroupId": "g", "MessageDeduplicationId": "d"},
        {"Id": "b", "MessageBody": "m", "MessageGroupId": "g"},
    ]
    # in a batch AWS refuses the whole request (test_send_batch_missing_deduplication_id...)
    assert_refused(lambda: sqs.send_message_batch(QueueUrl=url, Entries=entries), *invalid(message))


# ---- item 2: MissingParameter ----
def test_empty_message_body(sqs: Any) -> None:
    url = standard(sqs)
    assert_refused(
        lambda: sqs.send_message(QueueUrl=url, MessageBody=""),
        "MissingParameter",
        "MissingRequiredParameterException",
        "The request must contain the parameter MessageBody.",
    )


def test_fifo_send_without_message_group_id(sqs: Any) -> None:
    url = fifo(sqs, ContentBasedDeduplication="true")
    assert_refused(
        lambda: sqs.send_message(QueueUrl=url, MessageBody="m"),
        "MissingParameter",
        "MissingRequiredParameterException",
        "The request must contain the parameter MessageGroupId.",
    )


# ---- item 3: requests AWS refuses ----
def test_fifo_batch_entry_without_message_group_id_refuses_the_batch(sqs: Any) -> None:
    url = fifo(sqs, ContentBasedDeduplication="true")
    entries = [
        {"Id": "ok", "MessageBody": "a", "MessageGroupId": "g"},
        {"Id": "nogroup", "MessageBody": "b"},
    ]
    assert_refused(
        lambda: sqs.send_message_batch(QueueUrl=url, Entries=entries),
        *invalid("The request must contain the parameter MessageGroupId."),
    )
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "0"  # nothing was sent


def test_standard_queue_with_fifo_queue_false(sqs: Any) -> None:
    assert_refused(
        lambda: sqs.create_queue(QueueName=unique(), Attributes={"FifoQueue": "false"}),
        "InvalidAttributeName",
        "InvalidAttributeName",
        "Unknown Attribute FifoQueue.",
    )


def test_second_purge_within_the_window(sqs: Any) -> None:
    name = unique()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    sqs.purge_queue(QueueUrl=url)
    assert_refused(
        lambda: sqs.purge_queue(QueueUrl=url),
        "AWS.SimpleQueueService.PurgeQueueInProgress",
        "PurgeQueueInProgress",
        f"Only one PurgeQueue operation on {name} is allowed every 60 seconds.",
        status=403,
    )
    other = standard(sqs)
    sqs.purge_queue(QueueUrl=other)  # the window is per queue

    def purged() -> bool:
        try:
            sqs.purge_queue(QueueUrl=url)
        except sqs.exceptions.PurgeQueueInProgress:
            return False
        return True

    # 60 s times the suite's --time-scale 0.01: 0.6 s
    wait_until(purged, timeout=10, interval=0.1, message="the purge window to pass")


@pytest.mark.parametrize("operation", ["create", "set"])
def test_kms_and_sqs_managed_sse_together(sqs: Any, operation: str) -> None:
    both = {"KmsMasterKeyId": "testKeyId", "SqsManagedSseEnabled": "true"}
    url = standard(sqs)

    def call() -> Any:
        if operation == "create":
            return sqs.create_queue(QueueName=unique(), Attributes=both)
        return sqs.set_queue_attributes(QueueUrl=url, Attributes=both)

    assert_refused(
        call,
        "InvalidAttributeName",
        "InvalidAttributeName",
        "You can use one type of server-side encryption (SSE) at one time."
        " You can either enable KMS SSE or SQS SSE.",
    )
    url = standard(sqs, KmsMasterKeyId="testKeyId", SqsManagedSseEnabled="false")  # one is fine
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["KmsMasterKeyId"])[
        "Attributes"
    ] == {"KmsMasterKeyId": "testKeyId"}


# ---- item 4: FIFO-only attributes on a standard queue ----
@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DeduplicationScope", "messageGroup",
         "You can specify the DeduplicationScope only when FifoQueue is set to true."),
        ("FifoThroughputLimit", "perMessageGroupId",
         "You can specify the FifoThroughputLimit only when FifoQueue is set to true."),
        ("ContentBasedDeduplication", "true", "Unknown Attribute ContentBasedDeduplication."),
    ],
)  # fmt: skip
def test_fifo_only_attribute_on_a_standard_queue(
    sqs: Any, name: str, value: str, message: str
) -> None:
    assert_refused(
        lambda: sqs.create_queue(QueueName=unique(), Attributes={name: value}),
        "InvalidAttributeName",
        "InvalidAttributeName",
        message,
    )


# ---- FIFO group ordering (issue 18, "also compare") ----
@pytest.mark.parametrize(("extended", "expected"), [(0, []), (1, ["foo"]), (2, ["foo", "bar"])])
def test_fifo_group_visibility_extends_with_change_message_visibility(
    sqs: Any, extended: int, expected: list[str]
) -> None:
    """AWS-recorded: after three messages of one group are received and one of them gets a
    longer visibility, the ones before it come back when theirs runs out; the ones after it
    wait."""
    url = fifo(sqs, VisibilityTimeout="1")
    for body in ("foo", "bar", "baz"):
        sqs.send_message(
            QueueUrl=url, MessageBody=body, MessageGroupId="1", MessageDeduplicationId=body
        )
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=5)["Messages"]
    assert [m["Body"] for m in got] == ["foo", "bar", "baz"]
    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=got[extended]["ReceiptHandle"], VisibilityTimeout=30
    )
    if not expected:  # the whole group waits behind foo: nothing comes back meanwhile
        again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=5, WaitTimeSeconds=2)
        assert again.get("Messages", []) == []
        return
    again = wait_until(
        lambda: sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=5).get("Messages"),
        message="the earlier messages to come back",
    )
    assert [m["Body"] for m in again] == expected
