"""Asynchronous invocation: 202, retries, event age, records (facts §1, §2, §4).

The session server runs with --time-scale 0.01, so AWS's 60 s and 120 s retry delays take
0.6 s and 1.2 s here.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import botocore.exceptions
import httpx
import pytest

from tests.support.events import function_logs, wait_terminal
from tests.support.functions import create_python, unique, wait_active
from tests.support.server import wait_until

ARN = "arn:aws:lambda:us-east-1:000000000000:function:"
SCALE = 0.01


def event_invoke(client: Any, name: str, payload: Any, **kwargs: Any) -> str:
    resp = client.invoke(
        FunctionName=name, InvocationType="Event", Payload=json.dumps(payload).encode(), **kwargs
    )
    assert resp["StatusCode"] == 202
    assert resp["Payload"].read() == b""
    assert "ExecutedVersion" not in resp and "FunctionError" not in resp
    return str(resp["ResponseMetadata"]["RequestId"])


def test_success_record(lambda_client: Any, server: Any) -> None:
    name = unique()
    create_python(lambda_client, name)
    request_id = event_invoke(lambda_client, name, {"hello": "world"})
    event = wait_terminal(server.url, request_id)
    assert event["state"] == "succeeded"
    record = event["body"]["outcome"]["record"]
    assert list(record) == [
        "version",
        "timestamp",
        "requestContext",
        "requestPayload",
        "responseContext",
        "responsePayload",
    ]
    assert record["version"] == "1.0"
    assert record["timestamp"].endswith("Z") and len(record["timestamp"]) == 24
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": f"{ARN}{name}:$LATEST",
        "condition": "Success",
        "approximateInvokeCount": 1,
    }
    assert record["requestPayload"] == {"hello": "world"}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"]["request_id"] == request_id  # the id the function saw


def test_function_errors_are_retried_twice_about_60_then_120_s(
    lambda_client: Any, server: Any
) -> None:
    name = unique()
    create_python(lambda_client, name)
    request_id = event_invoke(lambda_client, name, {"fail": True, "message": "always"})
    event = wait_terminal(server.url, request_id)
    assert event["state"] == "failed"
    attempts = event["body"]["attempts"]
    assert len(attempts) == 3
    gaps = [b["started_at"] - a["started_at"] for a, b in itertools.pairwise(attempts)]
    assert gaps[0] >= 60 * SCALE * 0.95 and gaps[1] >= 120 * SCALE * 0.95
    assert gaps[0] < gaps[1]
    record = event["body"]["outcome"]["record"]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "always"
    assert record["responsePayload"]["errorType"] == "ValueError"
    assert record["responsePayload"]["stackTrace"]
    logs = function_logs(server.url, name)
    assert logs.count(f"START RequestId: {request_id}") == 3  # same id on every retry


def test_zero_retries(lambda_client: Any, server: Any) -> None:
    name = unique()
    create_python(lambda_client, name)
    lambda_client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    event = wait_terminal(server.url, event_invoke(lambda_client, name, {"fail": True}))
    rc = event["body"]["outcome"]["record"]["requestContext"]
    assert (rc["condition"], rc["approximateInvokeCount"]) == ("RetriesExhausted", 1)


@pytest.mark.parametrize(("max_age", "count"), [(60, 1), (150, 2)])
def test_event_age_look_ahead(lambda_client: Any, server: Any, max_age: int, count: int) -> None:
    name = unique()
    create_python(lambda_client, name)
    lambda_client.put_function_event_invoke_config(
        FunctionName=name, MaximumEventAgeInSeconds=max_age
    )
    event = wait_terminal(server.url, event_invoke(lambda_client, name, {"fail": True}))
    record = event["body"]["outcome"]["record"]
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == count
    assert record["responseContext"]["functionError"] == "Unhandled"  # last attempt kept
    assert event["body"]["outcome"]["at"] - event["enqueued_at"] < max_age * SCALE


def test_zero_reserved_concurrency(lambda_client: Any, server: Any) -> None:
    name = unique()
    create_python(lambda_client, name)
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    request_id = event_invoke(lambda_client, name, {})
    event = wait_terminal(server.url, request_id)
    record = event["body"]["outcome"]["record"]
    assert record["requestContext"]["condition"] == "ZeroReservedConcurrency"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert "responseContext" not in record and "responsePayload" not in record
    assert record["requestPayload"] == {}
    assert event["body"]["attempts"] == []


def test_non_json_output_is_kept_as_string(lambda_client: Any, server: Any) -> None:
    name = unique("raw")
    bootstrap = (
        '#!/bin/sh\nset -e\nAPI="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"\n'
        "while true; do\n"
        "  ID=$(curl -sS -D - -o /dev/null \"$API/invocation/next\" | tr -d '\\r' |"
        " awk -F': ' 'tolower($1)==\"lambda-runtime-aws-request-id\"{print $2}')\n"
        "  curl -sS -X POST -d 'plain text, not json' \"$API/invocation/$ID/response\" >/dev/null\n"
        "done\n"
    )
    from tests.support.functions import ROLE
    from tests.support.zips import make_zip

    lambda_client.create_function(
        FunctionName=name,
        Runtime="provided.al2023",
        Role=ROLE,
        Handler="x",
        Code={"ZipFile": make_zip({"bootstrap": bootstrap}, executable=("bootstrap",))},
    )
    wait_active(lambda_client, name)
    event = wait_terminal(server.url, event_invoke(lambda_client, name, {}))
    assert event["body"]["outcome"]["record"]["responsePayload"] == "plain text, not json"


def test_async_payload_limit_and_invalid_json(lambda_client: Any, server: Any) -> None:
    name = unique()
    create_python(lambda_client, name)
    big = b'"' + b"x" * 1_048_576 + b'"'
    resp = httpx.post(
        f"{server.url}/2015-03-31/functions/{name}/invocations",
        content=big,
        headers={"X-Amz-Invocation-Type": "Event"},
    )
    assert resp.status_code == 413
    assert resp.json()["message"] == (
        f"{len(big)} byte payload is too large for the Event invocation type (limit 1048576 bytes)"
    )
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{bad")
    assert exc.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_legacy_invoke_async(lambda_client: Any, server: Any) -> None:
    name = unique()
    create_python(lambda_client, name)
    resp = lambda_client.invoke_async(FunctionName=name, InvokeArgs=b'{"legacy": true}')
    assert resp["Status"] == 202
    request_id = resp["ResponseMetadata"]["RequestId"]
    event = wait_terminal(server.url, request_id)
    assert event["body"]["outcome"]["record"]["requestPayload"] == {"legacy": True}


def test_lambda_destination_receives_failure_record(lambda_client: Any, server: Any) -> None:
    target = unique("dest")
    create_python(
        lambda_client,
        target,
        source=(
            "import json\ndef handler(event, context):\n    print('RECORD ' + json.dumps(event))\n"
        ),
    )
    name = unique()
    create_python(lambda_client, name)
    lambda_client.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": f"{ARN}{target}"}},
    )
    request_id = event_invoke(lambda_client, name, {"fail": True, "message": "to the dest"})

    def record_logged() -> dict[str, Any] | None:
        for line in function_logs(server.url, target).splitlines():
            if "RECORD " in line:
                record: dict[str, Any] = json.loads(line.split("RECORD ", 1)[1])
                return record
        return None

    record = wait_until(record_logged, timeout=30, message="record in destination logs")
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responsePayload"]["errorMessage"] == "to the dest"
    event = wait_terminal(server.url, request_id)
    assert event["deliveries"][0]["target"] == f"{ARN}{target}"


def test_alias_config_applies_to_alias_invokes(lambda_client: Any, server: Any) -> None:
    name = unique()
    create_python(lambda_client, name, Publish=True)
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lambda_client.put_function_event_invoke_config(
        FunctionName=name, Qualifier="live", MaximumRetryAttempts=0
    )
    event = wait_terminal(
        server.url, event_invoke(lambda_client, name, {"fail": True}, Qualifier="live")
    )
    record = event["body"]["outcome"]["record"]
    assert record["requestContext"]["functionArn"] == f"{ARN}{name}:live"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responseContext"]["executedVersion"] == "1"


def test_metrics_exposed(lambda_client: Any, server: Any) -> None:
    name = unique()
    create_python(lambda_client, name)
    wait_terminal(server.url, event_invoke(lambda_client, name, {}))
    text = httpx.get(f"{server.url}/metrics").text
    assert f'AsyncEventsReceived_total{{function_name="{name}",resource="{name}"}} 1.0' in text
    assert f'Invocations_total{{function_name="{name}",resource="{name}"}} 1.0' in text
