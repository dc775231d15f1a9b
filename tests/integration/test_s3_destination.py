"""The acceptance story: a bucket notifies a function that fails; its asynchronous retries
run; the failure record lands in an S3 failure-destination bucket under AWS's key layout,
with the S3 event, in AWS's shape, as ``requestPayload``. S3 is refused as OnSuccess."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.support.functions import create_python, unique
from tests.support.server import ServerProcess, wait_until

FAILING = """
def handler(event, context):
    raise RuntimeError("cannot process " + event["Records"][0]["s3"]["object"]["key"])
"""


def test_failed_s3_event_lands_in_the_failure_bucket(
    lambda_client: Any, server: ServerProcess
) -> None:
    s3 = client_for(server.url, "s3")
    uploads, failures = unique("up").lower(), unique("fail").lower()
    s3.create_bucket(Bucket=uploads)
    s3.create_bucket(Bucket=failures)
    fn = unique()
    arn = create_python(lambda_client, fn, FAILING)["FunctionArn"]
    lambda_client.put_function_event_invoke_config(
        FunctionName=fn,
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": f"arn:aws:s3:::{failures}"}},
    )
    lambda_client.add_permission(
        FunctionName=fn,
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{uploads}",
    )
    s3.put_bucket_notification_configuration(
        Bucket=uploads,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"Id": "on-upload", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    s3.put_object(Bucket=uploads, Key="in/photo 1.jpg", Body=b"jpeg")

    def stored() -> list[dict[str, Any]] | None:
        listed = s3.list_objects_v2(Bucket=failures, Prefix=f"aws/lambda/async/{fn}/")
        return listed.get("Contents") or None

    (item,) = wait_until(stored, timeout=60, message="the failure record in the bucket")
    assert re.fullmatch(
        rf"aws/lambda/async/{fn}/\d{{4}}/\d\d/\d\d/\d{{4}}-\d\d-\d\dT\d\d\.\d\d\.\d\d-"
        r"[0-9a-f-]{36}",
        item["Key"],
    )
    obj = s3.get_object(Bucket=failures, Key=item["Key"])
    assert obj["ContentType"] == "application/json"
    record = json.loads(obj["Body"].read())
    assert record["version"] == "1.0"
    context = record["requestContext"]
    assert context["condition"] == "RetriesExhausted"
    assert context["approximateInvokeCount"] == 3  # the first attempt and two retries
    assert context["functionArn"].startswith(arn)
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "cannot process in/photo+1.jpg"
    (event,) = record["requestPayload"]["Records"]
    assert event["eventSource"] == "aws:s3" and event["eventVersion"] == "2.1"
    assert event["eventName"] == "ObjectCreated:Put"
    assert event["s3"]["configurationId"] == "on-upload"
    assert event["s3"]["bucket"]["name"] == uploads
    assert event["s3"]["object"]["key"] == "in/photo+1.jpg"
    assert event["s3"]["object"]["size"] == 4


def test_s3_is_refused_as_on_success(lambda_client: Any) -> None:
    fn = unique()
    create_python(lambda_client, fn)
    with pytest.raises(ClientError) as info:
        lambda_client.put_function_event_invoke_config(
            FunctionName=fn, DestinationConfig={"OnSuccess": {"Destination": "arn:aws:s3:::b"}}
        )
    error = info.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert error["Message"] == (
        "The provided destination config DestinationConfig(onSuccess=OnSuccess("
        "destination=arn:aws:s3:::b), onFailure=null) is invalid."
    )


def test_the_whole_record_goes_in_however_large(lambda_client: Any, server: ServerProcess) -> None:
    """A near-1 MB event plus its error: too big for an SQS message, whole in S3."""
    s3 = client_for(server.url, "s3")
    failures = unique("big").lower()
    s3.create_bucket(Bucket=failures)
    fn = unique()
    create_python(lambda_client, fn, "def handler(event, context):\n    raise ValueError('no')\n")
    lambda_client.put_function_event_invoke_config(
        FunctionName=fn,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": f"arn:aws:s3:::{failures}"}},
    )
    blob = "x" * 1_000_000
    lambda_client.invoke(
        FunctionName=fn, InvocationType="Event", Payload=json.dumps({"blob": blob})
    )

    def stored() -> list[dict[str, Any]] | None:
        return s3.list_objects_v2(Bucket=failures).get("Contents") or None

    (item,) = wait_until(stored, timeout=60, message="the large record in the bucket")
    assert item["Size"] > 1_000_000
    record = json.loads(s3.get_object(Bucket=failures, Key=item["Key"])["Body"].read())
    assert record["requestPayload"] == {"blob": blob}
    assert record["requestContext"]["approximateInvokeCount"] == 1
