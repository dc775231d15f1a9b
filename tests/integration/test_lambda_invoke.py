"""Synchronous invoke of real runtimes through boto3 against the real server."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import botocore.exceptions
import httpx
import pytest

from tests.support.functions import ROLE, create_python, unique, wait_active
from tests.support.zips import make_zip

# The handler of the AWS Lambda Destinations announcement (shared/seed), unchanged.
SEED_HANDLER = (Path(__file__).parent.parent / "support" / "seed" / "index.js").read_text()


def invoke(client: Any, name: str, payload: Any = None, **kwargs: Any) -> tuple[Any, Any]:
    params: dict[str, Any] = {"FunctionName": name, **kwargs}
    if payload is not None:
        params["Payload"] = json.dumps(payload).encode()
    resp = client.invoke(**params)
    return resp, json.loads(resp["Payload"].read() or b"null")


def test_python_sync_invoke(lambda_client: Any) -> None:
    name = unique()
    create_python(lambda_client, name, Environment={"Variables": {"GREETING": "hello"}})
    resp, body = invoke(lambda_client, name, {"a": 1})
    assert resp["StatusCode"] == 200
    assert resp["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in resp
    assert body["event"] == {"a": 1}
    assert body["env"] == "hello"
    assert body["request_id"] == resp["ResponseMetadata"]["RequestId"]
    assert body["arn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"


def test_warm_reuse(lambda_client: Any) -> None:
    name = unique()
    create_python(lambda_client, name)
    pids = {invoke(lambda_client, name, {})[1]["pid"] for _ in range(3)}
    assert len(pids) == 1


def test_log_tail(lambda_client: Any) -> None:
    name = unique()
    create_python(lambda_client, name)
    resp, _ = invoke(lambda_client, name, {"print": "hello from the function"}, LogType="Tail")
    log = base64.b64decode(resp["LogResult"]).decode()
    request_id = resp["ResponseMetadata"]["RequestId"]
    assert f"START RequestId: {request_id} Version: $LATEST" in log
    assert "hello from the function" in log
    assert f"END RequestId: {request_id}" in log
    assert f"REPORT RequestId: {request_id}" in log and "Billed Duration" in log


def test_python_function_error(lambda_client: Any) -> None:
    name = unique()
    create_python(lambda_client, name)
    resp, body = invoke(lambda_client, name, {"fail": True, "message": "nope"})
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorMessage"] == "nope"
    assert body["errorType"] == "ValueError"
    assert body["requestId"] == resp["ResponseMetadata"]["RequestId"]
    assert any("app.py" in line for line in body["stackTrace"])


def test_timeout(lambda_client: Any) -> None:
    name = unique()
    create_python(lambda_client, name, Timeout=1)
    resp, body = invoke(lambda_client, name, {"sleep": 30})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    request_id = resp["ResponseMetadata"]["RequestId"]
    assert (
        body["errorMessage"] == f"RequestId: {request_id} Error: Task timed out after 1.00 seconds"
    )
    resp2, body2 = invoke(lambda_client, name, {"a": 1})  # the server keeps serving
    assert "FunctionError" not in resp2 and body2["event"] == {"a": 1}


def test_import_error(lambda_client: Any) -> None:
    name = unique()
    create_python(lambda_client, name, Handler="missing.handler")
    resp, body = invoke(lambda_client, name, {})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'missing'" in body["errorMessage"]


def test_boto3_inside_function_reaches_sendoff(lambda_client: Any) -> None:
    source = (
        "import boto3\n"
        "def handler(event, context):\n"
        "    client = boto3.client('lambda')\n"
        "    pages = client.get_paginator('list_functions').paginate()\n"
        "    names = [f['FunctionName'] for page in pages for f in page['Functions']]\n"
        "    return context.function_name in names\n"
    )
    name = unique()
    create_python(lambda_client, name, source=source)
    _, body = invoke(lambda_client, name, {})
    assert body is True


def test_dry_run_and_bad_payloads(lambda_client: Any, server: Any) -> None:
    name = unique()
    create_python(lambda_client, name)
    assert lambda_client.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        lambda_client.invoke(FunctionName=name, Payload=b"{not json")
    assert exc.value.response["Error"]["Code"] == "InvalidRequestContentException"
    assert exc.value.response["Error"]["Message"].startswith(
        "Could not parse request body into json: Could not parse payload into json"
    )
    big = b'"' + b"x" * 6_291_457 + b'"'
    resp = httpx.post(f"{server.url}/2015-03-31/functions/{name}/invocations", content=big)
    assert resp.status_code == 413
    assert resp.json()["message"] == (
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException) as exc2:
        lambda_client.invoke(FunctionName="nope-nope")
    assert exc2.value.response["Error"]["Message"] == (
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope-nope:$LATEST"
    )


def test_reserved_concurrency_zero_throttles_sync(lambda_client: Any) -> None:
    name = unique()
    create_python(lambda_client, name)
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(lambda_client.exceptions.TooManyRequestsException) as exc:
        lambda_client.invoke(FunctionName=name)
    err = exc.value.response
    assert err["Error"]["Message"] == "Rate Exceeded."
    assert err["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_node_seed_handler(lambda_client: Any) -> None:
    name = unique("node")
    lambda_client.create_function(
        FunctionName=name,
        Runtime="nodejs20.x",
        Role=ROLE,
        Handler="index.handler",
        Code={"ZipFile": make_zip({"index.js": SEED_HANDLER})},
    )
    wait_active(lambda_client, name)
    resp, body = invoke(lambda_client, name, {"Success": True}, LogType="Tail")
    assert "FunctionError" not in resp and body is None
    assert "Success" in base64.b64decode(resp["LogResult"]).decode()
    resp, body = invoke(lambda_client, name, {"Success": False})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Error"
    assert body["errorMessage"] == "Failure from event, Success = false, I am failing!"
    assert isinstance(body["trace"], list)


def test_node_async_esm_handler(lambda_client: Any) -> None:
    name = unique("esm")
    source = (
        "export const handler = async (event, context) =>"
        " ({got: event, id: context.awsRequestId});\n"
    )
    lambda_client.create_function(
        FunctionName=name,
        Runtime="nodejs22.x",
        Role=ROLE,
        Handler="index.handler",
        Code={"ZipFile": make_zip({"index.mjs": source})},
    )
    wait_active(lambda_client, name)
    resp, body = invoke(lambda_client, name, {"x": 1})
    assert body == {"got": {"x": 1}, "id": resp["ResponseMetadata"]["RequestId"]}


def test_provided_runtime_with_awslambdaric(lambda_client: Any) -> None:
    name = unique("ric")
    bootstrap = f"#!/bin/sh\nexec {sys.executable} -m awslambdaric app.handler\n"
    app = "def handler(event, context):\n    return {'ric': event, 'fn': context.function_name}\n"
    lambda_client.create_function(
        FunctionName=name,
        Runtime="provided.al2023",
        Role=ROLE,
        Handler="app.handler",
        Code={
            "ZipFile": make_zip({"bootstrap": bootstrap, "app.py": app}, executable=("bootstrap",))
        },
    )
    wait_active(lambda_client, name)
    _, body = invoke(lambda_client, name, {"k": "v"})
    assert body == {"ric": {"k": "v"}, "fn": name}


def test_provided_bootstrap_that_exits(lambda_client: Any) -> None:
    name = unique("exit")
    lambda_client.create_function(
        FunctionName=name,
        Runtime="provided.al2",
        Role=ROLE,
        Handler="x",
        Code={"ZipFile": make_zip({"bootstrap": "#!/bin/sh\nexit 3\n"}, executable=("bootstrap",))},
    )
    wait_active(lambda_client, name)
    resp, body = invoke(lambda_client, name, {})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
