"""SQS queue management through boto3 and the AWS CLI against the real server process."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from typing import Any

import botocore.exceptions
import httpx
import pytest

from tests.conftest import client_for
from tests.support.server import ServerProcess

ACCOUNT = "000000000000"


@pytest.fixture(scope="module")
def sqs(server: ServerProcess) -> Any:
    return client_for(server.url, "sqs")


def unique(prefix: str = "q") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error_of(exc: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> dict[str, Any]:
    return exc.value.response["Error"]  # type: ignore[no-any-return]


def test_create_get_url_and_arn(sqs: Any, server: ServerProcess) -> None:
    name = unique()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert url == f"{server.url}/{ACCOUNT}/{name}"
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    assert attrs == {"QueueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"}


def test_create_is_idempotent_with_same_attributes(sqs: Any) -> None:
    name = unique()
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})["QueueUrl"]
    again = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})
    assert again["QueueUrl"] == url
    assert sqs.create_queue(QueueName=name)["QueueUrl"] == url
    with pytest.raises(sqs.exceptions.QueueNameExists) as exc:
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "46"})
    assert error_of(exc)["Code"] == "QueueAlreadyExists"
    assert "VisibilityTimeout" in error_of(exc)["Message"]


def test_all_attributes_of_a_standard_queue(sqs: Any) -> None:
    url = sqs.create_queue(
        QueueName=unique(),
        Attributes={
            "DelaySeconds": "2",
            "MessageRetentionPeriod": "600",
            "ReceiveMessageWaitTimeSeconds": "1",
            "Policy": '{"Version":"2012-10-17"}',
        },
    )["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["DelaySeconds"] == "2"
    assert attrs["MessageRetentionPeriod"] == "600"
    assert attrs["ReceiveMessageWaitTimeSeconds"] == "1"
    assert attrs["VisibilityTimeout"] == "30"
    assert attrs["MaximumMessageSize"] == "1048576"
    assert attrs["Policy"] == '{"Version":"2012-10-17"}'
    for count in (
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ):
        assert attrs[count] == "0"
    assert int(attrs["CreatedTimestamp"]) == int(attrs["LastModifiedTimestamp"])
    assert "FifoQueue" not in attrs and "RedrivePolicy" not in attrs
    assert sqs.get_queue_attributes(QueueUrl=url).get("Attributes", {}) == {}


def test_set_attributes_and_last_modified(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "7"})
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["VisibilityTimeout", "LastModifiedTimestamp"]
    )["Attributes"]
    assert attrs["VisibilityTimeout"] == "7"
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "true"})
    with pytest.raises(sqs.exceptions.InvalidAttributeName):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"QueueArn": "x"})


@pytest.mark.parametrize(
    ("attributes", "error"),
    [
        ({"VisibilityTimeout": "43201"}, "InvalidAttributeValue"),
        ({"DelaySeconds": "-1"}, "InvalidAttributeValue"),
        ({"MessageRetentionPeriod": "59"}, "InvalidAttributeValue"),
        ({"MaximumMessageSize": "1048577"}, "InvalidAttributeValue"),
        ({"ReceiveMessageWaitTimeSeconds": "abc"}, "InvalidAttributeValue"),
        ({"NotAnAttribute": "1"}, "InvalidAttributeName"),
        ({"ContentBasedDeduplication": "true"}, "InvalidAttributeName"),
        ({"RedrivePolicy": '{"maxReceiveCount": 3}'}, "InvalidAttributeValue"),
    ],
)
def test_invalid_attributes(sqs: Any, attributes: dict[str, str], error: str) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        sqs.create_queue(QueueName=unique(), Attributes=attributes)
    assert error_of(exc)["Code"] == error
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_invalid_queue_names(sqs: Any) -> None:
    for name in ("has space", "x" * 81, "dotted.name", "plain.fifo"):
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            sqs.create_queue(QueueName=name)
        assert error_of(exc)["Code"] == "InvalidParameterValue"
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        sqs.create_queue(QueueName=unique(), Attributes={"FifoQueue": "true"})
    assert error_of(exc)["Code"] == "InvalidParameterValue"


def test_unknown_queue_errors_carry_the_query_code(sqs: Any, server: ServerProcess) -> None:
    url = f"{server.url}/{ACCOUNT}/{unique('missing')}"
    calls = [
        lambda: sqs.get_queue_url(QueueName=unique("missing")),
        lambda: sqs.send_message(QueueUrl=url, MessageBody="x"),
        lambda: sqs.receive_message(QueueUrl=url),
        lambda: sqs.delete_queue(QueueUrl=url),
        lambda: sqs.purge_queue(QueueUrl=url),
        lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]),
    ]
    for call in calls:
        with pytest.raises(sqs.exceptions.QueueDoesNotExist) as exc:
            call()
        assert error_of(exc)["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
        assert error_of(exc)["QueryErrorCode"] == "QueueDoesNotExist"


def test_wire_error_shape(server: ServerProcess) -> None:
    response = httpx.post(
        server.url,
        json={"QueueName": unique("missing")},
        headers={
            "X-Amz-Target": "AmazonSQS.GetQueueUrl",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/x-amz-json-1.0"
    assert (
        response.headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    )
    assert response.json() == {
        "__type": "com.amazonaws.sqs#QueueDoesNotExist",
        "message": "The specified queue does not exist.",
    }
    missing = httpx.post(
        server.url,
        json={},
        headers={
            "X-Amz-Target": "AmazonSQS.CreateQueue",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    assert missing.status_code == 400
    # AWS's JSON name for MissingParameter (recorded for an empty MessageBody)
    assert missing.json()["__type"] == "com.amazonaws.sqs#MissingRequiredParameterException"
    assert missing.headers["x-amzn-query-error"] == "MissingParameter;Sender"
    assert "QueueName" in missing.json()["message"]


def test_queue_url_accepted_in_any_host_form(sqs: Any, server: ServerProcess) -> None:
    name = unique()
    sqs.create_queue(QueueName=name)
    forms = [
        f"http://localhost:4566/{ACCOUNT}/{name}",
        f"http://sqs.us-east-1.localhost.localstack.cloud:4566/{ACCOUNT}/{name}",
        f"http://us-east-1.queue.localhost.localstack.cloud:4566/{ACCOUNT}/{name}",
        f"http://localhost:4566/queue/us-east-1/{ACCOUNT}/{name}",
        f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/{name}",
    ]
    for url in forms:
        sqs.send_message(QueueUrl=url, MessageBody=url)
    attrs = sqs.get_queue_attributes(
        QueueUrl=forms[0], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == str(len(forms))
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=f"http://sqs.eu-west-1.x:4566/{ACCOUNT}/{name}", MessageBody="x")


def test_queues_are_scoped_by_region(server: ServerProcess) -> None:
    east, west = client_for(server.url, "sqs"), client_for(server.url, "sqs", "eu-west-1")
    name = unique()
    url = west.create_queue(QueueName=name)["QueueUrl"]
    arn = west.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    assert arn["QueueArn"] == f"arn:aws:sqs:eu-west-1:{ACCOUNT}:{name}"
    with pytest.raises(east.exceptions.QueueDoesNotExist):
        east.get_queue_url(QueueName=name)
    assert url not in east.list_queues(QueueNamePrefix=name).get("QueueUrls", [])


def test_list_queues_prefix_and_pagination(sqs: Any) -> None:
    prefix = unique("list")
    names = [f"{prefix}-{i}" for i in range(5)]
    for name in names:
        sqs.create_queue(QueueName=name)
    sqs.create_queue(QueueName=unique("other"))
    listed = sqs.list_queues(QueueNamePrefix=prefix)
    assert [u.rsplit("/", 1)[1] for u in listed["QueueUrls"]] == names
    assert "NextToken" not in listed
    pages = list(
        sqs.get_paginator("list_queues").paginate(
            QueueNamePrefix=prefix, PaginationConfig={"PageSize": 2}
        )
    )
    assert [len(p["QueueUrls"]) for p in pages] == [2, 2, 1]
    assert [u.rsplit("/", 1)[1] for p in pages for u in p["QueueUrls"]] == names
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=unique("nothing"))
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        sqs.list_queues(MaxResults=1001)
    assert error_of(exc)["Code"] == "InvalidParameterValue"


def test_delete_queue_then_recreate_starts_empty(sqs: Any) -> None:
    name = unique()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="old")
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=name)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_tags(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=unique(), tags={"team": "a"})["QueueUrl"]
    sqs.tag_queue(QueueUrl=url, Tags={"env": "test"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a", "env": "test"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "test"}


def test_unimplemented_operation_is_unsupported(sqs: Any) -> None:
    url = sqs.create_queue(QueueName=unique())["QueueUrl"]
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        sqs.add_permission(QueueUrl=url, Label="l", AWSAccountIds=[ACCOUNT], Actions=["*"])
    assert error_of(exc)["QueryErrorCode"] == "UnsupportedOperation"


def aws(server: ServerProcess, *args: str) -> Any:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    env.pop("AWS_ENDPOINT_URL", None)
    result = subprocess.run(
        ["aws", "sqs", *args, "--endpoint-url", server.url, "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def test_aws_cli_round_trip(sqs: Any, server: ServerProcess) -> None:
    name = unique("cli")
    url = aws(server, "create-queue", "--queue-name", name)["QueueUrl"]
    assert url.endswith(f"/{ACCOUNT}/{name}")
    sent = aws(
        server,
        "send-message",
        "--queue-url",
        url,
        "--message-body",
        "from the cli",
        "--message-attributes",
        '{"k":{"DataType":"String","StringValue":"v"}}',
    )
    assert sent["MD5OfMessageBody"] and sent["MD5OfMessageAttributes"]
    got = aws(
        server,
        "receive-message",
        "--queue-url",
        url,
        "--message-attribute-names",
        "All",
        "--wait-time-seconds",
        "1",
    )
    (message,) = got["Messages"]
    assert message["Body"] == "from the cli"
    assert message["MessageAttributes"]["k"]["StringValue"] == "v"
    aws(server, "delete-queue", "--queue-url", url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=name)


def test_a_queue_deleted_and_created_again_gets_the_new_queues_messages(
    sqs: Any, server: ServerProcess
) -> None:
    """Queue lookups are cached: a re-created queue (new id, same name) must not be
    confused with the deleted one, nor its delay with the old one's."""
    name = unique()
    url = sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "900"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="old")
    sqs.delete_queue(QueueUrl=url)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="new")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2)
    assert [m["Body"] for m in got.get("Messages", [])] == ["new"]
