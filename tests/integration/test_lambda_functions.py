"""Function management through boto3 against the real server."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import botocore.exceptions
import httpx
import pytest

from tests.support.functions import PY_ECHO, ROLE, create_python, unique, wait_updated
from tests.support.zips import make_zip


def error_of(exc: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> tuple[str, str, int]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_create_function_shape(lambda_client: Any) -> None:
    code = make_zip({"app.py": PY_ECHO})
    name = unique()
    resp = create_python(
        lambda_client,
        name,
        Description="d",
        MemorySize=256,
        Environment={"Variables": {"GREETING": "hi"}},
    )
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert resp["FunctionName"] == name
    assert resp["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert resp["CodeSha256"] == base64.b64encode(hashlib.sha256(code).digest()).decode()
    assert resp["CodeSize"] == len(code)
    assert resp["Version"] == "$LATEST"
    assert resp["State"] == "Pending" and "LastUpdateStatus" not in resp
    assert resp["MemorySize"] == 256 and resp["Timeout"] == 10
    assert resp["Environment"] == {"Variables": {"GREETING": "hi"}}
    assert resp["LastModified"].endswith("+0000")
    assert len(resp["RevisionId"]) == 36


def test_get_function_and_code_location(lambda_client: Any) -> None:
    name = unique()
    create_python(lambda_client, name)
    got = lambda_client.get_function(FunctionName=name)
    assert got["Configuration"]["FunctionName"] == name
    assert got["Code"]["RepositoryType"] == "S3"
    data = httpx.get(got["Code"]["Location"]).content
    assert (
        base64.b64encode(hashlib.sha256(data).digest()).decode()
        == got["Configuration"]["CodeSha256"]
    )
    by_arn = lambda_client.get_function_configuration(
        FunctionName=got["Configuration"]["FunctionArn"]
    )
    assert by_arn["FunctionName"] == name
    partial = lambda_client.get_function_configuration(FunctionName=f"000000000000:function:{name}")
    assert partial["FunctionName"] == name


def test_create_conflict_and_not_found(lambda_client: Any) -> None:
    name = unique()
    create_python(lambda_client, name)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        create_python(lambda_client, name)
    assert error_of(exc) == ("ResourceConflictException", f"Function already exist: {name}", 409)
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException) as exc2:
        lambda_client.get_function(FunctionName="does-not-exist")
    assert error_of(exc2) == (
        "ResourceNotFoundException",
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:does-not-exist",
        404,
    )


@pytest.mark.parametrize(
    ("kwargs", "code", "fragment"),
    [
        ({"Runtime": "python2.9"}, "InvalidParameterValueException", "at 'runtime'"),
        ({"Timeout": 901}, "ValidationException", "less than or equal to 900"),
        ({"Role": "not-a-role"}, "ValidationException", "at 'role'"),
        ({"Code": {"ZipFile": b"not a zip"}}, "InvalidParameterValueException", "Could not unzip"),
        (
            {"Environment": {"Variables": {"BIG": "x" * 5000}}},
            "InvalidParameterValueException",
            "exceeded the 4KB limit",
        ),
        (
            {"Environment": {"Variables": {"AWS_REGION": "x"}}},
            "InvalidParameterValueException",
            "reserved keys",
        ),
    ],
)
def test_create_rejects_bad_input(
    lambda_client: Any, kwargs: dict[str, Any], code: str, fragment: str
) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        create_python(lambda_client, **kwargs)
    got_code, message, status = error_of(exc)
    assert got_code == code
    assert fragment in message
    assert status == 400


def test_memory_size_out_of_range_raw(server: Any) -> None:
    body = {
        "FunctionName": unique(),
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "app.handler",
        "MemorySize": 64,
        "Code": {"ZipFile": base64.b64encode(make_zip({"app.py": PY_ECHO})).decode()},
    }
    resp = httpx.post(f"{server.url}/2015-03-31/functions", json=body)
    assert resp.status_code == 400
    assert resp.headers["x-amzn-errortype"] == "ValidationException"
    assert resp.json()["message"] == (
        "1 validation error detected: Value '64' at 'memorySize' failed to satisfy constraint:"
        " Member must have value greater than or equal to 128"
    )


def test_list_functions_paginates(server: Any) -> None:
    from tests.conftest import client_for

    client = client_for(server.url, "lambda", region="eu-west-1")  # its own region: a clean list
    names = sorted(unique("page") for _ in range(5))
    for name in names:
        create_python(client, name)
    first = client.list_functions(MaxItems=2)
    assert len(first["Functions"]) == 2 and "NextMarker" in first
    seen = [
        f["FunctionName"]
        for page in client.get_paginator("list_functions").paginate(
            PaginationConfig={"PageSize": 2}
        )
        for f in page["Functions"]
    ]
    assert seen == names
    assert all(":eu-west-1:" in f["FunctionArn"] for f in first["Functions"])


def test_update_code_and_configuration(lambda_client: Any) -> None:
    name = unique()
    before = create_python(lambda_client, name)
    new_code = make_zip({"app.py": "def handler(e, c):\n    return 'v2'\n"})
    after = lambda_client.update_function_code(FunctionName=name, ZipFile=new_code)
    assert after["CodeSha256"] != before["CodeSha256"]
    assert after["RevisionId"] != before["RevisionId"]
    out = lambda_client.invoke(FunctionName=name)
    assert out["Payload"].read() == b'"v2"'
    wait_updated(lambda_client, name)
    conf = lambda_client.update_function_configuration(
        FunctionName=name, Timeout=30, Environment={"Variables": {"AA": "1"}}, Description="new"
    )
    assert conf["Timeout"] == 30 and conf["Description"] == "new"
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        lambda_client.update_function_configuration(
            FunctionName=name, Timeout=5, RevisionId="stale"
        )
    assert error_of(exc)[0] == "PreconditionFailedException"


def test_delete_function(lambda_client: Any) -> None:
    name = unique()
    create_python(lambda_client, name)
    resp = lambda_client.delete_function(FunctionName=name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function(FunctionName=name)
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.delete_function(FunctionName=name)


def test_versions_and_aliases(lambda_client: Any) -> None:
    name = unique()
    create_python(lambda_client, name, Publish=True)
    v1 = lambda_client.get_function_configuration(FunctionName=name, Qualifier="1")
    assert v1["Version"] == "1" and v1["FunctionArn"].endswith(f"{name}:1")
    again = lambda_client.publish_version(FunctionName=name)
    assert again["Version"] == "1"  # nothing changed: the same version comes back
    lambda_client.update_function_code(
        FunctionName=name, ZipFile=make_zip({"app.py": "def handler(e, c):\n    return 2\n"})
    )
    wait_updated(lambda_client, name)
    v2 = lambda_client.publish_version(FunctionName=name, Description="second")
    assert v2["Version"] == "2" and v2["Description"] == "second"
    versions = [
        v["Version"] for v in lambda_client.list_versions_by_function(FunctionName=name)["Versions"]
    ]
    assert versions == ["$LATEST", "1", "2"]

    alias = lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert alias["AliasArn"].endswith(f"{name}:live")
    out = lambda_client.invoke(FunctionName=name, Qualifier="live")
    assert out["ExecutedVersion"] == "1"
    out = lambda_client.invoke(FunctionName=f"{name}:2")
    assert out["ExecutedVersion"] == "2" and out["Payload"].read() == b"2"
    lambda_client.update_alias(FunctionName=name, Name="live", FunctionVersion="2")
    assert lambda_client.invoke(FunctionName=f"{name}:live")["ExecutedVersion"] == "2"
    assert [a["Name"] for a in lambda_client.list_aliases(FunctionName=name)["Aliases"]] == ["live"]
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert error_of(exc)[0] == "ResourceConflictException"
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.create_alias(FunctionName=name, Name="nope", FunctionVersion="9")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        lambda_client.invoke(FunctionName=f"{name}:live", Qualifier="1")
    assert "derived qualifier" in error_of(exc)[1]
    lambda_client.delete_alias(FunctionName=name, Name="live")
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_alias(FunctionName=name, Name="live")
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.invoke(FunctionName=name, Qualifier="7")


def test_concurrency_settings(lambda_client: Any) -> None:
    name = unique()
    create_python(lambda_client, name)
    assert "ReservedConcurrentExecutions" not in lambda_client.get_function_concurrency(
        FunctionName=name
    )
    put = lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=3)
    assert put["ReservedConcurrentExecutions"] == 3
    assert lambda_client.get_function(FunctionName=name)["Concurrency"] == {
        "ReservedConcurrentExecutions": 3
    }
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=950)
    assert "UnreservedConcurrentExecution below its minimum value of [100]" in error_of(exc)[1]
    lambda_client.delete_function_concurrency(FunctionName=name)
    assert (
        lambda_client.get_function_concurrency(FunctionName=name).get(
            "ReservedConcurrentExecutions"
        )
        is None
    )


def test_recursion_config(lambda_client: Any) -> None:
    name = unique()
    create_python(lambda_client, name)
    assert lambda_client.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == (
        "Terminate"
    )
    lambda_client.put_function_recursion_config(FunctionName=name, RecursiveLoop="Allow")
    assert lambda_client.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == (
        "Allow"
    )
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        lambda_client.put_function_recursion_config(FunctionName=name, RecursiveLoop="Sometimes")
    assert error_of(exc)[0] == "ValidationException"


def test_role_is_kept(lambda_client: Any) -> None:
    resp = create_python(lambda_client)
    assert resp["Role"] == ROLE


def test_a_function_deleted_and_created_again_runs_the_new_code(lambda_client: Any) -> None:
    """Decoded function documents are cached: a re-created function (its document
    starts again at revision 1) must run its own code, not the deleted one's."""
    name = unique()
    create_python(lambda_client, name, source="def handler(event, context):\n    return 'old'\n")
    assert lambda_client.invoke(FunctionName=name)["Payload"].read() == b'"old"'
    lambda_client.delete_function(FunctionName=name)
    create_python(lambda_client, name, source="def handler(event, context):\n    return 'new'\n")
    assert lambda_client.invoke(FunctionName=name)["Payload"].read() == b'"new"'
