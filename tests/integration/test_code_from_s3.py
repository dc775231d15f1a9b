"""Function code from S3: CreateFunction/UpdateFunctionCode with S3Bucket/S3Key (and
AWS's errors when the object is missing), and ``sendoff deploy`` of a SAM template with
``CodeUri: s3://...`` and an S3 event on a bucket of the same template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ROLE, client_for
from tests.support.functions import unique, wait_active, wait_updated
from tests.support.server import ServerProcess, wait_until
from tests.support.templates import deploy, logs
from tests.support.zips import make_zip


def handler_zip(answer: str) -> bytes:
    return make_zip({"app.py": f"def handler(event, context):\n    return {answer!r}\n"})


def test_create_and_update_from_s3(lambda_client: Any, server: ServerProcess) -> None:
    s3 = client_for(server.url, "s3")
    code = unique("code").lower()
    s3.create_bucket(Bucket=code)
    s3.put_object(Bucket=code, Key="v1.zip", Body=handler_zip("one"))
    s3.put_object(Bucket=code, Key="v2.zip", Body=handler_zip("two"))
    fn = unique()
    created = lambda_client.create_function(
        FunctionName=fn,
        Runtime="python3.12",
        Handler="app.handler",
        Role=ROLE,
        Code={"S3Bucket": code, "S3Key": "v1.zip"},
    )
    assert created["CodeSize"] == len(handler_zip("one"))
    wait_active(lambda_client, fn)
    assert json.loads(lambda_client.invoke(FunctionName=fn)["Payload"].read()) == "one"
    lambda_client.update_function_code(FunctionName=fn, S3Bucket=code, S3Key="v2.zip")
    wait_updated(lambda_client, fn)
    assert json.loads(lambda_client.invoke(FunctionName=fn)["Payload"].read()) == "two"

    with pytest.raises(ClientError) as info:
        lambda_client.update_function_code(FunctionName=fn, S3Bucket=code, S3Key="none.zip")
    assert info.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert info.value.response["Error"]["Message"] == (
        "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The"
        " specified key does not exist."
    )
    with pytest.raises(ClientError) as info:
        lambda_client.create_function(
            FunctionName=unique(),
            Runtime="python3.12",
            Handler="app.handler",
            Role=ROLE,
            Code={"S3Bucket": unique("none").lower(), "S3Key": "v1.zip"},
        )
    assert "S3 Error Code: NoSuchBucket" in info.value.response["Error"]["Message"]


TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  CodeBucket: {Type: String}
Resources:
  Uploads:
    Type: AWS::S3::Bucket
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: s3://CODE_BUCKET/app.zip
      Events:
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref Uploads
            Events: s3:ObjectCreated:*
            Filter: {S3Key: {Rules: [{Name: prefix, Value: in/}]}}
  Failures:
    Type: AWS::S3::Bucket
  Other:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: {Bucket: !Ref CodeBucket, Key: app.zip}
      EventInvokeConfig:
        DestinationConfig:
          OnFailure: {Type: S3, Destination: !GetAtt Failures.Arn}
Outputs:
  Bucket: {Value: !Ref Uploads}
  Function: {Value: !Ref Fn}
  Other: {Value: !Ref Other}
"""

PRINTER = """
import json
def handler(event, context):
    print("S3 EVENT " + json.dumps(event))
    return "ok"
"""


def test_template_with_code_uri_in_s3_and_an_s3_event(
    server: ServerProcess, tmp_path: Path
) -> None:
    s3 = client_for(server.url, "s3")
    code = unique("code").lower()
    s3.create_bucket(Bucket=code)
    s3.put_object(Bucket=code, Key="app.zip", Body=make_zip({"app.py": PRINTER}))
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE.replace("CODE_BUCKET", code))
    stack = unique("stack")
    result = deploy(
        server.url, path, "--stack-name", stack, "--parameter-overrides", f"CodeBucket={code}"
    )
    assert result["status"] == "CREATE_COMPLETE", result
    bucket, fn = result["outputs"]["Bucket"], result["outputs"]["Function"]
    config = s3.get_bucket_notification_configuration(Bucket=bucket)
    (entry,) = config["LambdaFunctionConfigurations"]
    assert entry["Events"] == ["s3:ObjectCreated:*"]
    s3.put_object(Bucket=bucket, Key="out/skip.txt", Body=b"no")
    s3.put_object(Bucket=bucket, Key="in/take.txt", Body=b"yes")
    line = wait_until(
        lambda: next(
            (x for x in logs(server.url, fn).splitlines() if x.startswith("S3 EVENT")), None
        ),
        timeout=30,
        message="the S3 event in the function's logs",
    )
    (record,) = json.loads(line.removeprefix("S3 EVENT "))["Records"]
    assert record["s3"]["object"]["key"] == "in/take.txt"
    lam = client_for(server.url, "lambda")
    other = lam.invoke(FunctionName=result["outputs"]["Other"], Payload=b"{}")
    assert json.loads(other["Payload"].read()) == "ok"
    config = lam.get_function_event_invoke_config(FunctionName=result["outputs"]["Other"])
    failures = result["resources"]["Failures"]["physical_id"]
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == f"arn:aws:s3:::{failures}"


BUCKET_TEMPLATE = """
Resources:
  Events:
    Type: AWS::SQS::Queue
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      NotificationConfiguration:
        QueueConfigurations:
          - Event: s3:ObjectCreated:*
            Queue: !GetAtt Events.Arn
            Filter: {S3Key: {Rules: [{Name: suffix, Value: .csv}]}}
        EventBridgeConfiguration: {EventBridgeEnabled: EB}
Outputs:
  Bucket: {Value: !Ref Bucket}
"""


def test_bucket_notifications_are_updated_in_place(server: ServerProcess, tmp_path: Path) -> None:
    s3 = client_for(server.url, "s3")
    path = tmp_path / "template.yaml"
    stack = unique("stack")
    path.write_text(BUCKET_TEMPLATE.replace("EB", "true"))
    first = deploy(server.url, path, "--stack-name", stack)
    assert first["status"] == "CREATE_COMPLETE", first
    bucket = first["outputs"]["Bucket"]
    config = s3.get_bucket_notification_configuration(Bucket=bucket)
    (queue,) = config["QueueConfigurations"]
    assert queue["Filter"]["Key"]["FilterRules"] == [{"Name": "Suffix", "Value": ".csv"}]
    assert config["EventBridgeConfiguration"] == {}
    path.write_text(BUCKET_TEMPLATE.replace("EB", "false"))
    second = deploy(server.url, path, "--stack-name", stack)
    assert second["status"] == "UPDATE_COMPLETE", second
    assert second["outputs"]["Bucket"] == bucket  # the same bucket, changed in place
    assert "EventBridgeConfiguration" not in s3.get_bucket_notification_configuration(Bucket=bucket)
