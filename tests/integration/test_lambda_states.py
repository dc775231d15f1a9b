"""Function states (issue 20 item 2): Pending -> Active after CreateFunction, InProgress ->
Successful after an update, as AWS answers them (test_lambda_api
TestLambdaFunction::test_function_lifecycle, TestLambdaRevisions::test_function_revisions_basic,
TestLambdaVersions::test_publish_with_update, test_lambda_concurrent_code_updates).

The transition is real: the code is unpacked into the code cache in the background. A
package that unzips to ~240 MB of zeros (a few hundred KB uploaded) keeps a function
Pending long enough for the next request to see it.
"""

from __future__ import annotations

import asyncio
import io
import uuid
import zipfile
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from tests.conftest import client_for
from tests.support.backend_postgres import fresh_schema, schema_url
from tests.support.backend_redis import fresh_prefix, prefix_url
from tests.support.cli import aws
from tests.support.functions import ROLE, create_python, unique, wait_active, wait_updated
from tests.support.server import start_server, wait_until
from tests.support.unavailable import unavailable

ARN = "arn:aws:lambda:us-east-1:000000000000:function:"
CREATING = "The function is being created."
FAST = {"Delay": 0.05, "MaxAttempts": 600}  # boto3 waiters poll every second by default


def error_of(exc: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> tuple[str, str, int]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def slow_zip() -> bytes:
    """A handler plus 24 x 10 MiB of zeros: tiny to upload, slow to unpack."""
    buf = io.BytesIO()
    files: dict[str, bytes] = {
        "app.py": b"def handler(event, context):\n    return 'slow'\n",
        "marker.txt": uuid.uuid4().hex.encode(),  # a new CodeSha256 every time
    }
    zeros = bytes(10 * (1 << 20))
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for index in range(24):
            files[f"zeros/{index}.bin"] = zeros
        for path, data in files.items():
            info = zipfile.ZipInfo(path)
            info.external_attr = 0o644 << 16  # readable by the sandboxed function
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def test_create_answers_pending_then_the_function_becomes_active(lambda_client: Any) -> None:
    """create_response: State Pending, StateReason/StateReasonCode, no LastUpdateStatus;
    get_function_response: Active, Successful, no reasons, a new RevisionId."""
    name = unique()
    created = create_python(lambda_client, name, wait=False)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["State"] == "Pending"
    assert created["StateReason"] == CREATING and created["StateReasonCode"] == "Creating"
    assert not {k for k in created if k.startswith("LastUpdateStatus")}
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=FAST)
    config = lambda_client.get_function(FunctionName=name)["Configuration"]
    assert config["State"] == "Active" and config["LastUpdateStatus"] == "Successful"
    assert not {k for k in config if k.endswith(("Reason", "ReasonCode"))}
    assert config["RevisionId"] != created["RevisionId"]
    pages = lambda_client.get_paginator("list_functions").paginate()
    shown = next(f for page in pages for f in page["Functions"] if f["FunctionName"] == name)
    assert "State" not in shown and "LastUpdateStatus" not in shown  # as AWS lists them


@pytest.mark.parametrize("operation", ["configuration", "code"])
def test_update_answers_in_progress_then_successful(lambda_client: Any, operation: str) -> None:
    """update_func_conf_response / update_code_response: Active, LastUpdateStatus InProgress
    with "The function is being created." and Creating; then Successful, a new RevisionId."""
    name = unique()
    create_python(lambda_client, name)
    if operation == "code":
        updated = lambda_client.update_function_code(FunctionName=name, ZipFile=slow_zip())
    else:
        updated = lambda_client.update_function_configuration(FunctionName=name, Timeout=20)
    assert updated["State"] == "Active" and "StateReason" not in updated
    assert updated["LastUpdateStatus"] == "InProgress"
    assert updated["LastUpdateStatusReason"] == CREATING
    assert updated["LastUpdateStatusReasonCode"] == "Creating"
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=FAST)
    config = lambda_client.get_function_configuration(FunctionName=name)
    assert config["LastUpdateStatus"] == "Successful" and config["State"] == "Active"
    assert "LastUpdateStatusReason" not in config
    assert config["RevisionId"] != updated["RevisionId"]


def test_a_pending_function_refuses_invokes_and_updates(lambda_client: Any) -> None:
    """Invoke (sync and Event), the updates and PublishVersion fail while Pending: 409
    ResourceConflictException (docs: functions-states.html)."""
    name = unique()
    lambda_client.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": slow_zip()},
    )  # fmt: skip
    pending = (
        "ResourceConflictException",
        "The operation cannot be performed at this time. The function is currently in the"
        " following state: Pending",
        409,
    )
    for kind in ("RequestResponse", "Event"):
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            lambda_client.invoke(FunctionName=name, InvocationType=kind, Payload=b"{}")
        assert error_of(exc) == pending
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        lambda_client.update_function_configuration(FunctionName=name, Timeout=9)
    assert error_of(exc) == pending
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        lambda_client.publish_version(FunctionName=name)
    assert error_of(exc) == pending
    assert lambda_client.get_function(FunctionName=name)["Configuration"]["State"] == "Pending"
    wait_active(lambda_client, name)
    out = lambda_client.invoke(FunctionName=name)["Payload"].read()
    assert out == b'"slow"', out


def test_an_update_in_progress_refuses_another(lambda_client: Any) -> None:
    """update-during-in-progress-update-exc (test_lambda_concurrent_code_updates)."""
    name = unique()
    create_python(lambda_client, name)
    first, second = slow_zip(), slow_zip()  # built first: building one takes a while
    lambda_client.update_function_code(FunctionName=name, ZipFile=first)
    in_progress = (
        "ResourceConflictException",
        "The operation cannot be performed at this time. An update is in progress for"
        f" resource: {ARN}{name}",
        409,
    )
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        lambda_client.update_function_code(FunctionName=name, ZipFile=second)
    assert error_of(exc) == in_progress
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        lambda_client.publish_version(FunctionName=name)
    assert error_of(exc) == in_progress
    assert lambda_client.invoke(FunctionName=name)["StatusCode"] == 200  # invokes still run
    wait_updated(lambda_client, name)
    assert lambda_client.publish_version(FunctionName=name)["Version"] == "1"


def test_update_code_with_publish_answers_a_pending_version(lambda_client: Any) -> None:
    """update_function_code_result (test_publish_with_update): the new version is Pending
    (no LastUpdateStatus) while $LATEST is InProgress; both settle."""
    name = unique()
    create_python(lambda_client, name)
    published = lambda_client.update_function_code(
        FunctionName=name, ZipFile=slow_zip(), Publish=True
    )
    assert published["Version"] == "1" and published["State"] == "Pending"
    assert published["StateReasonCode"] == "Creating" and "LastUpdateStatus" not in published
    latest = lambda_client.get_function(FunctionName=f"{name}:$LATEST")["Configuration"]
    assert latest["LastUpdateStatus"] == "InProgress" and latest["State"] == "Active"
    wait_updated(lambda_client, name)
    version = lambda_client.get_function_configuration(FunctionName=name, Qualifier="1")
    assert version["State"] == "Active" and version["LastUpdateStatus"] == "Successful"


def test_aws_cli_waits_for_function_active_v2(server: Any, tmp_path: Path) -> None:
    """`aws lambda wait function-active-v2` returns once the function is Active."""
    name = unique("wait")
    package = tmp_path / "fn.zip"
    package.write_bytes(slow_zip())
    created = aws(
        server.url, "lambda", "create-function", "--function-name", name,
        "--runtime", "python3.12", "--role", ROLE, "--handler", "app.handler",
        "--zip-file", f"fileb://{package}",
    )  # fmt: skip
    assert created["State"] == "Pending"
    aws(server.url, "lambda", "wait", "function-active-v2", "--function-name", name)
    got = aws(server.url, "lambda", "get-function-configuration", "--function-name", name)
    assert got["State"] == "Active" and got["LastUpdateStatus"] == "Successful"


@pytest.mark.parametrize("backend", ["redis", "postgres"])
def test_states_are_shared_by_api_processes_on_one_store(tmp_path: Path, backend: str) -> None:
    """Two servers on one Redis/PostgreSQL store: a function created on one becomes Active
    on the other, and an update made on the second settles for the first."""

    async def run() -> None:
        if backend == "redis":
            async with fresh_prefix(unavailable) as prefix:
                await asyncio.to_thread(_two_servers, tmp_path, prefix_url(prefix))
        else:
            async with fresh_schema(unavailable) as schema:
                await asyncio.to_thread(_two_servers, tmp_path, schema_url(schema))

    asyncio.run(run())


def _two_servers(tmp_path: Path, store: str) -> None:
    first = start_server(tmp_path / "a", "--store", store)
    second = start_server(tmp_path / "b", "--store", store)
    try:
        a, b = client_for(first.url, "lambda"), client_for(second.url, "lambda")
        name = unique()
        created = create_python(a, name, wait=False)
        assert created["State"] == "Pending"
        b.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=FAST)
        assert b.invoke(FunctionName=name)["StatusCode"] == 200
        updated = b.update_function_configuration(FunctionName=name, Timeout=20)
        assert updated["LastUpdateStatus"] == "InProgress"

        def settled_on_a() -> bool:  # another process's change shows within the 1 s cache
            config = a.get_function_configuration(FunctionName=name)
            return config["Timeout"] == 20 and config["LastUpdateStatus"] == "Successful"

        wait_until(settled_on_a, message="the update to settle for the first server")
    finally:
        first.stop()
        second.stop()
