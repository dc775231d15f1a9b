"""Accounts are disjoint under ``--auth sigv4``: a key of one account cannot read, change,
invoke or grant itself another account's function by naming its ARN (403
AccessDeniedException, AWS's wording), whatever the operation; under ``--iam enforce`` an
Invoke is let through only when the function's resource policy grants the caller. A real
server, two keys in two accounts, boto3."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.integration.test_lambda_policy_enforce import ACCOUNT_A, ACCOUNT_B, client
from tests.support.cli import create_key
from tests.support.functions import create_python, unique
from tests.support.server import ServerProcess, start_server, wait_until

HANDLER = "def handler(event, context):\n    return {'ran': True}\n"


@pytest.fixture(scope="module", params=["off", "enforce"])
def srv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
    tuple[ServerProcess, dict[str, dict[str, str]], str]
]:  # fmt: skip
    data_dir = tmp_path_factory.mktemp("accounts")
    keys = {
        "a": create_key(data_dir, ACCOUNT_A, "alice"),
        "b": create_key(data_dir, ACCOUNT_B, "bob"),
    }
    proc = start_server(
        data_dir, "--auth", "sigv4", "--iam", request.param, "--time-scale", "0.001"
    )
    yield proc, keys, request.param
    assert proc.stop() == 0, proc.log()[-4000:]


def _operations(arn: str) -> dict[str, Callable[[Any], Any]]:
    return {
        "GetFunction": lambda lam: lam.get_function(FunctionName=arn),
        "GetFunctionConfiguration": lambda lam: lam.get_function_configuration(FunctionName=arn),
        "UpdateFunctionConfiguration": lambda lam: lam.update_function_configuration(
            FunctionName=arn, Timeout=9
        ),
        "DeleteFunction": lambda lam: lam.delete_function(FunctionName=arn),
        "PublishVersion": lambda lam: lam.publish_version(FunctionName=arn),
        "ListVersionsByFunction": lambda lam: lam.list_versions_by_function(FunctionName=arn),
        "CreateAlias": lambda lam: lam.create_alias(
            FunctionName=arn, Name="live", FunctionVersion="$LATEST"
        ),
        "PutFunctionConcurrency": lambda lam: lam.put_function_concurrency(
            FunctionName=arn, ReservedConcurrentExecutions=0
        ),
        "PutFunctionEventInvokeConfig": lambda lam: lam.put_function_event_invoke_config(
            FunctionName=arn, MaximumRetryAttempts=0
        ),
        "AddPermission": lambda lam: lam.add_permission(
            FunctionName=arn,
            StatementId="mine",
            Action="lambda:InvokeFunction",
            Principal=ACCOUNT_B,
        ),
        "InvokeFunction": lambda lam: lam.invoke(FunctionName=arn, Payload=b"{}"),
    }


def test_another_accounts_function_is_out_of_reach_by_arn(srv: Any) -> None:
    proc, keys, iam = srv
    owner, stranger = client(proc, "lambda", keys["a"]), client(proc, "lambda", keys["b"])
    name = unique("mine")
    arn = create_python(owner, name, HANDLER)["FunctionArn"]
    assert f":{ACCOUNT_A}:" in arn

    for operation, call in _operations(arn).items():
        with pytest.raises(ClientError) as caught:
            call(stranger)
        error = caught.value.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 403, operation
        assert error["Error"]["Code"] == "AccessDeniedException", operation
        message = error.get("Message") or error["Error"].get("Message") or ""
        if iam == "off" or operation != "AddPermission":
            assert f"lambda:{operation}" in message, (operation, message)
            assert f":{ACCOUNT_B}:user/bob" in message

    # nothing changed: the owner still sees its function as it was, and runs it
    config = owner.get_function_configuration(FunctionName=name)
    assert config["Timeout"] == 10
    assert owner.invoke(FunctionName=name)["StatusCode"] == 200
    assert "Policy" not in _policy_or_empty(owner, name)
    # the stranger's own account has no such function either
    with pytest.raises(ClientError) as missing:
        stranger.get_function(FunctionName=name)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_grant_lets_another_account_invoke_only_under_enforce(srv: Any) -> None:
    proc, keys, iam = srv
    owner, stranger = client(proc, "lambda", keys["a"]), client(proc, "lambda", keys["b"])
    name = unique("shared")
    arn = create_python(owner, name, HANDLER)["FunctionArn"]
    owner.add_permission(
        FunctionName=name, StatementId="b", Action="lambda:InvokeFunction", Principal=ACCOUNT_B
    )
    if iam == "enforce":
        assert stranger.invoke(FunctionName=arn)["StatusCode"] == 200
    else:  # no policy is evaluated without --iam enforce: the account boundary holds
        with pytest.raises(ClientError) as caught:
            stranger.invoke(FunctionName=arn)
        assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    # a grant to invoke is not a grant to read
    with pytest.raises(ClientError) as read:
        stranger.get_function(FunctionName=arn)
    assert read.value.response["Error"]["Code"] == "AccessDeniedException"


def _policy_or_empty(lam: Any, name: str) -> dict[str, Any]:
    try:
        policy: dict[str, Any] = lam.get_policy(FunctionName=name)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "ResourceNotFoundException"
        return {}
    return policy


# ---- deliveries: a key cannot reach another account through its own resources ----


def _signed_get(proc: ServerProcess, key: dict[str, str], path: str) -> Any:
    request = AWSRequest(method="GET", url=proc.url + path)
    creds = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    SigV4Auth(creds, "lambda", "us-east-1").add_auth(request)
    answer = httpx.get(request.url, headers=dict(request.headers.items()), timeout=10)
    return answer.json() if answer.status_code == 200 else None


def _delivery(proc: ServerProcess, key: dict[str, str], request_id: str) -> dict[str, Any]:
    def settled() -> dict[str, Any] | None:
        event = _signed_get(proc, key, f"/_sendoff/events/{request_id}")
        if not event or event["state"] not in ("succeeded", "failed") or not event["deliveries"]:
            return None
        delivery: dict[str, Any] = event["deliveries"][0]
        return delivery if delivery.get("state", "succeeded") in ("succeeded", "failed") else None

    found: dict[str, Any] = wait_until(settled, timeout=60, message="the delivery to settle")
    return found


def test_a_destination_in_another_account_is_refused(srv: Any) -> None:
    proc, keys, _ = srv
    a_sqs, b_lambda = client(proc, "sqs", keys["a"]), client(proc, "lambda", keys["b"])
    queue = a_sqs.create_queue(QueueName=unique("a-inbox"))["QueueUrl"]
    queue_arn = a_sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    name = unique("sender")
    create_python(b_lambda, name, HANDLER)
    b_lambda.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": queue_arn}}
    )
    sent = b_lambda.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    request_id = sent["ResponseMetadata"]["RequestId"]

    delivery = _delivery(proc, keys["b"], request_id)
    assert delivery["state"] == "failed", delivery
    assert "AccessDeniedException" in json.dumps(delivery["failures"])
    assert "Messages" not in a_sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0)


def test_a_subscription_of_another_accounts_queue_delivers_nothing(srv: Any) -> None:
    proc, keys, _ = srv
    a_sqs, b_sns = client(proc, "sqs", keys["a"]), client(proc, "sns", keys["b"])
    queue = a_sqs.create_queue(QueueName=unique("a-feed"))["QueueUrl"]
    queue_arn = a_sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    topic = b_sns.create_topic(Name=unique("b-topic"))["TopicArn"]
    b_sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    b_sns.publish(TopicArn=topic, Message="from b")

    def failed() -> bool:
        summary = _signed_get(proc, keys["b"], "/_sendoff/sns/topics") or {"topics": []}
        mine = [t for t in summary["topics"] if t["arn"] == topic]
        return bool(mine) and any(
            sub["notifications_failed"] >= 1 for sub in mine[0]["subscriptions"]
        )

    wait_until(failed, timeout=60, message="the fan-out to be refused")
    assert "Messages" not in a_sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0)


def test_a_destination_function_in_another_account_needs_its_grant(srv: Any) -> None:
    proc, keys, iam = srv
    a_lambda, b_lambda = client(proc, "lambda", keys["a"]), client(proc, "lambda", keys["b"])
    target = unique("a-target")
    target_arn = create_python(a_lambda, target, HANDLER)["FunctionArn"]
    name = unique("b-sender")
    create_python(b_lambda, name, HANDLER)
    b_lambda.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": target_arn}}
    )
    first = b_lambda.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    refused = _delivery(proc, keys["b"], first["ResponseMetadata"]["RequestId"])
    assert refused["state"] == "failed", refused

    a_lambda.add_permission(
        FunctionName=target, StatementId="b", Action="lambda:InvokeFunction", Principal=ACCOUNT_B
    )
    second = b_lambda.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    granted = _delivery(proc, keys["b"], second["ResponseMetadata"]["RequestId"])
    # the grant counts only where resource policies are evaluated (--iam enforce)
    assert granted["state"] == ("succeeded" if iam == "enforce" else "failed"), granted
