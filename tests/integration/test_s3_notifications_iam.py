"""``--iam enforce`` and S3: a bucket may notify a function only when the function's
resource policy lets ``s3.amazonaws.com`` invoke it for that bucket (AWS answers "Not
authorized to invoke function [arn]" otherwise), and an S3 failure destination needs
``s3:PutObject`` on the record's object in the execution role."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.support.functions import create_python, unique
from tests.support.server import ServerProcess, start_server, wait_until

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@pytest.fixture(scope="module")
def enforcing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(
        tmp_path_factory.mktemp("s3iam"), "--time-scale", "0.01", "--iam", "enforce"
    )
    yield proc
    assert proc.stop() == 0, proc.log()[-4000:]


def notify(s3: Any, bucket: str, arn: str) -> None:
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )


def test_the_function_policy_must_allow_s3_for_the_bucket(enforcing: ServerProcess) -> None:
    s3, lam = client_for(enforcing.url, "s3"), client_for(enforcing.url, "lambda")
    bucket = unique("b").lower()
    s3.create_bucket(Bucket=bucket)
    fn = unique()
    arn = create_python(lam, fn)["FunctionArn"]
    with pytest.raises(ClientError) as info:
        notify(s3, bucket, arn)
    error = info.value.response["Error"]
    assert error["Message"] == "Unable to validate the following destination configurations"
    assert error["ArgumentValue1"] == f"Not authorized to invoke function [{arn}]"
    lam.add_permission(
        FunctionName=fn,
        StatementId="other",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::another-bucket",
    )
    with pytest.raises(ClientError):
        notify(s3, bucket, arn)
    lam.add_permission(
        FunctionName=fn,
        StatementId="this",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{bucket}",
    )
    notify(s3, bucket, arn)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    import httpx

    def ran() -> bool | None:
        page = httpx.get(
            f"{enforcing.url}/_sendoff/events", params={"function": f"000000000000/us-east-1/{fn}"}
        ).json()
        return True if any(e["state"] == "succeeded" for e in page["events"]) else None

    wait_until(ran, timeout=30, message=f"{fn} invoked by S3")


def test_an_s3_failure_destination_needs_put_object(enforcing: ServerProcess) -> None:
    iam, lam = client_for(enforcing.url, "iam"), client_for(enforcing.url, "lambda")
    name = unique("role")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    fn = unique()
    create_python(lam, fn, Role=role)
    destination = {"OnFailure": {"Destination": "arn:aws:s3:::failures"}}
    with pytest.raises(ClientError) as info:
        lam.put_function_event_invoke_config(FunctionName=fn, DestinationConfig=destination)
    assert info.value.response["Error"]["Message"] == (
        "The function's execution role does not have permissions to call PutObject on"
        " arn:aws:s3:::failures"
    )
    iam.put_role_policy(
        RoleName=name,
        PolicyName="put",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:PutObject",
                        "Resource": "arn:aws:s3:::failures/*",
                    }
                ],
            }
        ),
    )
    lam.put_function_event_invoke_config(FunctionName=fn, DestinationConfig=destination)


SAM_S3 = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Uploads:
    Type: AWS::S3::Bucket
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: "def handler(event, context):\\n    return 'ok'\\n"
      Events:
        Upload:
          Type: S3
          Properties: {Bucket: !Ref Uploads, Events: s3:ObjectCreated:*}
Outputs:
  Function: {Value: !Ref Fn}
"""


def test_sam_s3_event_deploys_under_enforce(enforcing: ServerProcess, tmp_path: Any) -> None:
    """SAM's permission (s3.amazonaws.com, SourceAccount) is what S3 checks."""
    from tests.support.templates import deploy

    path = tmp_path / "template.yaml"
    path.write_text(SAM_S3)
    result = deploy(enforcing.url, path, "--stack-name", unique("stack"))
    assert result["status"] == "CREATE_COMPLETE", result
