"""Bucket notifications: the configuration API with AWS's checks, and delivery to SQS, SNS
and EventBridge in AWS's shapes (localstack's AWS-recorded snapshots,
tests/aws/services/s3/test_s3_notifications_*.snapshot.json)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.support.functions import create_python, unique
from tests.support.server import ServerProcess, wait_until

ACCOUNT = "000000000000"


@pytest.fixture(scope="module")
def s3(server: ServerProcess) -> Any:
    return client_for(server.url, "s3")


@pytest.fixture(scope="module")
def sqs(server: ServerProcess) -> Any:
    return client_for(server.url, "sqs")


def bucket(s3: Any) -> str:
    name = unique("bkt").lower()
    s3.create_bucket(Bucket=name)
    return name


def queue(sqs: Any) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def messages(sqs: Any, url: str, count: int) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []

    def enough() -> list[dict[str, Any]] | None:
        for m in sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            got.append(m)
        return got if len(got) >= count else None

    return wait_until(enough, timeout=30, message=f"{count} messages in {url}")  # type: ignore[no-any-return]


def error(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response["Error"]  # type: ignore[no-any-return]


def test_configuration_round_trip_and_aws_errors(s3: Any, sqs: Any, lambda_client: Any) -> None:
    name = bucket(s3)
    _, arn = queue(sqs)
    assert "QueueConfigurations" not in s3.get_bucket_notification_configuration(Bucket=name)
    s3.put_bucket_notification_configuration(
        Bucket=name,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {
                        "Key": {
                            "FilterRules": [
                                {"Name": "prefix", "Value": "in/"},
                                {"Name": "SUFFIX", "Value": ".txt"},
                            ]
                        }
                    },
                }
            ],
            "EventBridgeConfiguration": {},
        },
    )
    got = s3.get_bucket_notification_configuration(Bucket=name)
    (config,) = got["QueueConfigurations"]
    assert config["QueueArn"] == arn and config["Events"] == ["s3:ObjectCreated:*"]
    assert config["Id"]  # generated
    assert config["Filter"]["Key"]["FilterRules"] == [
        {"Name": "Prefix", "Value": "in/"},
        {"Name": "Suffix", "Value": ".txt"},
    ]
    assert got["EventBridgeConfiguration"] == {}

    put = s3.put_bucket_notification_configuration
    bad = error(
        put,
        Bucket=name,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": "invalid-queue", "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    assert bad["Code"] == "InvalidArgument" and bad["Message"] == "The ARN could not be parsed"
    assert (bad["ArgumentName"], bad["ArgumentValue"]) == ("Queue", "invalid-queue")
    missing = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{unique('nope')}"
    bad = error(
        put,
        Bucket=name,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": missing, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    assert bad["Message"] == "Unable to validate the following destination configurations"
    assert bad["ArgumentName1"] == missing
    assert bad["ArgumentValue1"] == "The destination queue does not exist"
    fifo_name = unique("f") + ".fifo"
    fifo_url = sqs.create_queue(QueueName=fifo_name, Attributes={"FifoQueue": "true"})["QueueUrl"]
    fifo = sqs.get_queue_attributes(QueueUrl=fifo_url, AttributeNames=["QueueArn"])
    fifo_arn = fifo["Attributes"]["QueueArn"]
    bad = error(
        put,
        Bucket=name,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": fifo_arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    assert bad["ArgumentValue1"] == (
        "Permissions on the destination queue do not allow S3 to publish notifications from"
        " this bucket"
    )
    function = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{unique('nope')}"
    bad = error(
        put,
        Bucket=name,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": function, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    assert bad["ArgumentName1"] == f"{function}, null"
    assert bad["ArgumentValue1"] == f"Not authorized to invoke function [{function}]"
    bad = error(
        put,
        Bucket=name,
        NotificationConfiguration={
            "QueueConfigurations": [
                {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]},
                {"QueueArn": arn, "Events": ["s3:ObjectCreated:Put"]},
            ]
        },
    )
    assert bad["Message"] == (
        "Configurations overlap. Configurations on the same bucket cannot share a common"
        " event type."
    )
    bad = error(
        put,
        Bucket=name,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "INVALID", "Value": "x"}]}},
                }
            ]
        },
    )
    assert bad["Message"] == "filter rule name must be either prefix or suffix"
    # skipping validation stores a target that does not exist
    put(
        Bucket=name,
        SkipDestinationValidation=True,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"Id": "id123", "LambdaFunctionArn": function, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    (stored,) = s3.get_bucket_notification_configuration(Bucket=name)[
        "LambdaFunctionConfigurations"
    ]
    assert stored == {
        "Id": "id123",
        "LambdaFunctionArn": function,
        "Events": ["s3:ObjectCreated:*"],
    }
    assert error(s3.get_bucket_notification_configuration, Bucket=unique("none"))["Code"] == (
        "NoSuchBucket"
    )


def test_sqs_gets_the_test_event_then_records(s3: Any, sqs: Any) -> None:
    name = bucket(s3)
    url, arn = queue(sqs)
    s3.put_bucket_notification_configuration(
        Bucket=name,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "cfg",
                    "QueueArn": arn,
                    "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                }
            ]
        },
    )
    (test,) = messages(sqs, url, 1)
    body = json.loads(test["Body"])
    assert body["Service"] == "Amazon S3" and body["Event"] == "s3:TestEvent"
    assert body["Bucket"] == name and set(body) == {
        "Service",
        "Event",
        "Time",
        "Bucket",
        "RequestId",
        "HostId",
    }

    put = s3.put_object(Bucket=name, Key="my dir/a@b.txt", Body=b"hello world")
    s3.delete_object(Bucket=name, Key="my dir/a@b.txt")
    created, removed = (json.loads(m["Body"])["Records"][0] for m in messages(sqs, url, 2))
    assert created["eventVersion"] == "2.1" and created["eventSource"] == "aws:s3"
    assert created["awsRegion"] == "us-east-1" and created["eventName"] == "ObjectCreated:Put"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", created["eventTime"])
    assert set(created["userIdentity"]) == {"principalId"}
    assert set(created["requestParameters"]) == {"sourceIPAddress"}
    assert set(created["responseElements"]) == {"x-amz-request-id", "x-amz-id-2"}
    assert created["s3"]["s3SchemaVersion"] == "1.0" and created["s3"]["configurationId"] == "cfg"
    assert created["s3"]["bucket"]["name"] == name
    assert created["s3"]["bucket"]["arn"] == f"arn:aws:s3:::{name}"
    assert set(created["s3"]["bucket"]["ownerIdentity"]) == {"principalId"}
    obj = created["s3"]["object"]
    assert obj["key"] == "my+dir/a%40b.txt" and obj["size"] == 11
    assert obj["eTag"] == put["ETag"].strip('"') and obj["sequencer"]
    assert removed["eventName"] == "ObjectRemoved:Delete"
    assert set(removed["s3"]["object"]) == {"key", "sequencer"}


def test_sns_and_eventbridge_in_aws_shapes(s3: Any, sqs: Any, server: ServerProcess) -> None:
    sns, events = client_for(server.url, "sns"), client_for(server.url, "events")
    name = bucket(s3)
    url, queue_arn = queue(sqs)
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    rule = unique("r")
    events.put_rule(
        Name=rule,
        EventPattern=json.dumps({"source": ["aws.s3"], "detail": {"bucket": {"name": [name]}}}),
    )
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": queue_arn}])
    s3.put_bucket_notification_configuration(
        Bucket=name,
        NotificationConfiguration={
            "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:Put"]}],
            "EventBridgeConfiguration": {},
        },
    )
    s3.put_object(Bucket=name, Key="k", Body=b"data")
    bodies = [json.loads(m["Body"]) for m in messages(sqs, url, 3)]
    envelopes = [b for b in bodies if b.get("Type") == "Notification"]
    test = next(json.loads(e["Message"]) for e in envelopes if "TestEvent" in e["Message"])
    assert test["Event"] == "s3:TestEvent"
    note = next(e for e in envelopes if "Records" in e["Message"])
    assert note["Subject"] == "Amazon S3 Notification" and note["TopicArn"] == topic
    (record,) = json.loads(note["Message"])["Records"]
    assert record["eventName"] == "ObjectCreated:Put" and record["s3"]["object"]["size"] == 4
    (event,) = [b for b in bodies if b.get("source") == "aws.s3"]
    assert event["detail-type"] == "Object Created" and event["account"] == ACCOUNT
    assert event["resources"] == [f"arn:aws:s3:::{name}"] and event["version"] == "0"
    detail = event["detail"]
    assert detail["version"] == "0" and detail["bucket"] == {"name": name}
    assert detail["object"]["key"] == "k" and detail["object"]["size"] == 4
    assert detail["reason"] == "PutObject" and detail["requester"] == ACCOUNT
    assert {"request-id", "source-ip-address"} <= set(detail)
    s3.delete_object(Bucket=name, Key="k")
    (deleted,) = [json.loads(m["Body"]) for m in messages(sqs, url, 1)]
    assert deleted["detail-type"] == "Object Deleted"
    assert deleted["detail"]["deletion-type"] == "Permanently Deleted"
    assert deleted["detail"]["reason"] == "DeleteObject"


def test_lambda_gets_the_event_asynchronously(
    s3: Any, lambda_client: Any, server: ServerProcess
) -> None:
    name = bucket(s3)
    fn = unique()
    arn = create_python(lambda_client, fn)["FunctionArn"]
    lambda_client.add_permission(
        FunctionName=fn,
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{name}",
    )
    s3.put_bucket_notification_configuration(
        Bucket=name,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    s3.put_object(Bucket=name, Key="x.txt", Body=b"1")
    import httpx

    def invoked() -> dict[str, Any] | None:
        page = httpx.get(
            f"{server.url}/_sendoff/events", params={"function": f"{ACCOUNT}/us-east-1/{fn}"}
        ).json()
        done = [e for e in page["events"] if e["state"] == "succeeded"]
        return done[0] if done else None

    wait_until(invoked, timeout=30, message=f"{fn} invoked by S3")


LOOPER = """
import boto3
def handler(event, context):
    record = event["Records"][0]["s3"]
    boto3.client("s3").put_object(Bucket=record["bucket"]["name"],
                                  Key=record["object"]["key"] + "x", Body=b"again")
    return "put"
"""


def test_s3_lambda_put_object_loop_is_stopped_after_16(
    s3: Any, lambda_client: Any, server: ServerProcess
) -> None:
    """S3 → Lambda → PutObject into the same bucket (AWS detects S3 loops since 2024): the
    function's PutObject carries the lineage, the S3 event counts once per invocation."""
    import httpx

    name = bucket(s3)
    fn = unique()
    arn = create_python(lambda_client, fn, LOOPER)["FunctionArn"]
    s3.put_bucket_notification_configuration(
        Bucket=name,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    s3.put_object(Bucket=name, Key="k", Body=b"start")

    def stopped() -> list[dict[str, Any]] | None:
        page = httpx.get(
            f"{server.url}/_sendoff/events", params={"function": f"{ACCOUNT}/us-east-1/{fn}"}
        ).json()
        events = [e for e in page["events"] if e["function"] == fn]
        states = [e["state"] for e in events]
        if "failed" in states and all(s in ("succeeded", "failed") for s in states):
            return events
        return None

    events = wait_until(stopped, timeout=120, message=f"the S3 loop of {fn} to be stopped")
    failed = [e for e in events if e["state"] == "failed"]
    assert [e["condition"] for e in failed] == ["RecursiveInvocationDetected"]
    assert sum(1 for e in events if e["state"] == "succeeded") == 16
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]]
    assert len(keys) == 17  # the first object and one per completed invocation


def test_copy_multipart_and_batch_delete_events(s3: Any, sqs: Any) -> None:
    name = bucket(s3)
    url, arn = queue(sqs)
    s3.put_bucket_notification_configuration(
        Bucket=name,
        NotificationConfiguration={
            "QueueConfigurations": [
                {"QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}
            ]
        },
        SkipDestinationValidation=True,  # no s3:TestEvent
    )
    s3.put_object(Bucket=name, Key="a", Body=b"x")
    s3.copy_object(Bucket=name, Key="b", CopySource={"Bucket": name, "Key": "a"})
    upload = s3.create_multipart_upload(Bucket=name, Key="c")["UploadId"]
    part = s3.upload_part(Bucket=name, Key="c", UploadId=upload, PartNumber=1, Body=b"y" * 10)
    s3.complete_multipart_upload(
        Bucket=name,
        Key="c",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    s3.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}]})
    records = [json.loads(m["Body"])["Records"][0] for m in messages(sqs, url, 5)]
    seen = sorted((r["eventName"], r["s3"]["object"]["key"]) for r in records)
    assert seen == [
        ("ObjectCreated:CompleteMultipartUpload", "c"),
        ("ObjectCreated:Copy", "b"),
        ("ObjectCreated:Put", "a"),
        ("ObjectRemoved:Delete", "a"),
        ("ObjectRemoved:Delete", "b"),
    ]
    multipart = next(r for r in records if r["eventName"].endswith("CompleteMultipartUpload"))
    assert multipart["s3"]["object"]["eTag"].endswith("-1")
