"""``sendoff deploy`` end to end: the Lambda Destinations announcement's snippet, deployed as
written inside a complete template, then invoked asynchronously."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import client_for
from tests.support.server import ServerProcess, start_server, wait_until
from tests.support.templates import TEMPLATES, deploy, describe, logs, sendoff

# the announcement's ARNs name this account (and us-east-1)
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(
        tmp_path_factory.mktemp("deploy"), "--time-scale", "0.01", "--account-id", ACCOUNT
    )
    yield proc
    assert proc.stop() == 0, proc.log()[-4000:]


def receive(sqs: Any, url: str) -> dict[str, Any]:
    def one() -> dict[str, Any] | None:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages")
        if not messages:
            return None
        sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
        return messages[0]  # type: ignore[no-any-return]

    return wait_until(one, timeout=30, message=f"a message in {url}")  # type: ignore[no-any-return]


def test_the_announcement_snippet_deploys_as_written_and_routes_records(
    server: ServerProcess,
) -> None:
    result = deploy(server.url, TEMPLATES / "announcement" / "template.yaml")
    assert result["status"] == "CREATE_COMPLETE"
    assert result["stack"] == "announcement"  # named after the template's directory
    resources = result["resources"]
    assert resources["EventInvokeConfig"]["physical_id"] == (
        "YourLambdaFunctionWithEventInvokeConfig:$LATEST"
    )
    lam, sqs = client_for(server.url, "lambda"), client_for(server.url, "sqs")
    config = lam.get_function_event_invoke_config(
        FunctionName="YourLambdaFunctionWithEventInvokeConfig", Qualifier="$LATEST"
    )
    assert config["MaximumEventAgeInSeconds"] == 600 and config["MaximumRetryAttempts"] == 0
    assert config["DestinationConfig"] == {
        "OnSuccess": {"Destination": f"arn:aws:sns:us-east-1:{ACCOUNT}:YourSNSTopicOnSuccess"},
        "OnFailure": {
            "Destination": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:"
            "YourLambdaFunctionOnFailure"
        },
    }

    ok = lam.invoke(
        FunctionName="YourLambdaFunctionWithEventInvokeConfig",
        InvocationType="Event",
        Payload=json.dumps({"Success": True}),
    )
    assert ok["StatusCode"] == 202
    message = receive(sqs, result["outputs"]["SuccessQueueUrl"])
    record = json.loads(json.loads(message["Body"])["Message"])  # SNS envelope, then record
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["requestId"] == ok["ResponseMetadata"]["RequestId"]
    assert record["requestPayload"] == {"Success": True}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}

    bad = lam.invoke(
        FunctionName="YourLambdaFunctionWithEventInvokeConfig",
        InvocationType="Event",
        Payload=json.dumps({"Success": False}),
    )
    request_id = bad["ResponseMetadata"]["RequestId"]
    line = wait_until(
        lambda: next(
            (
                x
                for x in logs(server.url, "YourLambdaFunctionOnFailure").splitlines()
                if x.startswith("FAILURE RECORD") and request_id in x
            ),
            None,
        ),
        timeout=30,
        message="the failure record in the failure function's logs",
    )
    failure = json.loads(line.removeprefix("FAILURE RECORD "))
    assert failure["requestContext"]["condition"] == "RetriesExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 1
    assert failure["requestPayload"] == {"Success": False}
    assert failure["responsePayload"]["errorMessage"] == (
        "Failure from event, Success = false, I am failing!"
    )

    stack = describe(server.url, "announcement")
    assert stack is not None and stack["status"] == "CREATE_COMPLETE"
    assert sendoff(server.url, "stacks", "delete", "announcement").returncode == 0
    assert describe(server.url, "announcement") is None
    names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert "YourLambdaFunctionWithEventInvokeConfig" not in names


def test_the_snippet_alone_is_an_error_naming_what_is_missing(
    server: ServerProcess, tmp_path: Any
) -> None:
    snippet = (TEMPLATES / "announcement" / "template.yaml").read_text()
    only = "Resources:\n" + snippet[snippet.index("  # the announcement's snippet") :]
    only = only[: only.index("\nOutputs:")]
    (tmp_path / "snippet.yaml").write_text(only)
    result = deploy(server.url, tmp_path / "snippet.yaml", expect=4)
    assert result["status"] == "ROLLBACK_COMPLETE"
    assert "Resources.EventInvokeConfig: ResourceNotFoundException" in result["reason"]
