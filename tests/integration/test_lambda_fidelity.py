"""Function API responses compared with AWS's recorded ones (issue 20, items 3, 4, 7, 8).

Each expectation comes from /work/shared/aws-recordings/lambda/ (LocalStack's AWS-validated
snapshots); the entry it reproduces is named in each test's docstring.
"""

from __future__ import annotations

from typing import Any

import botocore.exceptions
import httpx
import pytest

from tests.support.functions import create_python, unique, wait_updated

ARN = "arn:aws:lambda:us-east-1:000000000000:function:"


def error_of(exc: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> tuple[str, str, int]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


# ---- 3. an empty variable map is shown; no Environment at all is not --------------------------


def test_empty_environment_is_shown_everywhere(lambda_client: Any) -> None:
    """test_lambda_api TestLambdaFunction::test_function_lifecycle / test_redundant_updates and
    TestLambdaRevisions::test_function_revisions_version_and_alias: a function created with
    Environment={"Variables": {}} answers `"Environment": {"Variables": {}}` on create, get,
    get configuration, update and publish version."""
    name = unique()
    empty = {"Variables": {}}
    created = create_python(lambda_client, name, Environment={"Variables": {}})
    assert created["Environment"] == empty
    assert lambda_client.get_function(FunctionName=name)["Configuration"]["Environment"] == empty
    assert lambda_client.get_function_configuration(FunctionName=name)["Environment"] == empty
    updated = lambda_client.update_function_configuration(FunctionName=name, Timeout=20)
    assert updated["Environment"] == empty
    wait_updated(lambda_client, name)
    published = lambda_client.publish_version(FunctionName=name)
    assert published["Environment"] == empty
    v1 = lambda_client.get_function(FunctionName=name, Qualifier="1")
    assert v1["Configuration"]["Environment"] == empty


def test_no_environment_is_not_shown(lambda_client: Any) -> None:
    """test_lambda_api TestLambdaVersions::test_version_lifecycle (create_function without
    Environment): no `Environment` key in create, get, update, publish or list versions."""
    name = unique()
    created = create_python(lambda_client, name)
    assert "Environment" not in created
    assert "Environment" not in lambda_client.get_function(FunctionName=name)["Configuration"]
    updated = lambda_client.update_function_configuration(FunctionName=name, Timeout=20)
    assert "Environment" not in updated
    wait_updated(lambda_client, name)
    assert "Environment" not in lambda_client.publish_version(FunctionName=name)
    versions = lambda_client.list_versions_by_function(FunctionName=name)["Versions"]
    assert [("Environment" in v) for v in versions] == [False, False]


def test_environment_emptied_by_update_stays_shown(lambda_client: Any) -> None:
    """Removing every variable with UpdateFunctionConfiguration leaves an empty map, which AWS
    shows as `{"Variables": {}}` (the same empty map as at create)."""
    name = unique()
    create_python(lambda_client, name)
    set_vars = lambda_client.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"GREETING": "hi"}}
    )
    assert set_vars["Environment"] == {"Variables": {"GREETING": "hi"}}
    wait_updated(lambda_client, name)
    emptied = lambda_client.update_function_configuration(
        FunctionName=name, Environment={"Variables": {}}
    )
    assert emptied["Environment"] == {"Variables": {}}
    assert lambda_client.get_function_configuration(FunctionName=name)["Environment"] == {
        "Variables": {}
    }


# ---- 4. ARNs ----------------------------------------------------------------------------------


def test_latest_qualifier_gives_the_qualified_arn(lambda_client: Any) -> None:
    """test_lambda_api TestLambdaVersions::test_publish_version_on_create
    (get_function_latest_result) and the `…:$LATEST` FunctionArns of GetFunctionConfiguration
    with Qualifier=$LATEST; unqualified calls keep the unqualified ARN."""
    name = unique()
    create_python(lambda_client, name)
    qualified = f"{ARN}{name}:$LATEST"
    cfg = lambda_client.get_function_configuration(FunctionName=name, Qualifier="$LATEST")
    assert cfg["FunctionArn"] == qualified and cfg["Version"] == "$LATEST"
    got = lambda_client.get_function(FunctionName=name, Qualifier="$LATEST")
    assert got["Configuration"]["FunctionArn"] == qualified
    by_arn = lambda_client.get_function_configuration(FunctionName=qualified)
    assert by_arn["FunctionArn"] == qualified
    assert lambda_client.get_function_configuration(FunctionName=name)["FunctionArn"] == (
        f"{ARN}{name}"
    )
    assert lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"] == (
        f"{ARN}{name}"
    )


def test_create_with_publish_answers_the_unqualified_arn(lambda_client: Any) -> None:
    """test_lambda_api TestLambdaVersions::test_publish_version_on_create (create_response):
    FunctionArn unqualified, Version "1"; version 1 itself has the qualified ARN."""
    name = unique()
    created = create_python(lambda_client, name, Publish=True)
    assert created["FunctionArn"] == f"{ARN}{name}"
    assert created["Version"] == "1"
    v1 = lambda_client.get_function(FunctionName=name, Qualifier="1")
    assert v1["Configuration"]["FunctionArn"] == f"{ARN}{name}:1"


# ---- 7. $LATEST cannot be deleted on its own --------------------------------------------------

LATEST_DELETE = (
    "InvalidParameterValueException",
    "$LATEST version cannot be deleted without deleting the function.",
    400,
)


@pytest.mark.parametrize("form", ["arn+qualifier", "name+qualifier", "arn", "name:$LATEST"])
def test_delete_latest_is_refused(lambda_client: Any, form: str) -> None:
    """test_lambda_api TestLambdaFunction::test_ops_with_arn_qualifier_mismatch[delete_function]
    (match_exception): 400 InvalidParameterValueException; the function survives."""
    name = unique()
    create_python(lambda_client, name)
    kwargs = {
        "arn+qualifier": {"FunctionName": f"{ARN}{name}:$LATEST", "Qualifier": "$LATEST"},
        "name+qualifier": {"FunctionName": name, "Qualifier": "$LATEST"},
        "arn": {"FunctionName": f"{ARN}{name}:$LATEST"},
        "name:$LATEST": {"FunctionName": f"{name}:$LATEST"},
    }[form]
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        lambda_client.delete_function(**kwargs)
    assert error_of(exc) == LATEST_DELETE
    assert exc.value.response["Type"] == "User"
    assert lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionName"] == name


def test_delete_latest_of_a_missing_function_is_not_found(lambda_client: Any) -> None:
    """The function is looked up first: a missing one is 404 whatever the qualifier."""
    name = unique()
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.delete_function(FunctionName=name, Qualifier="$LATEST")


# ---- 8. reserved-concurrency throttles carry no Retry-After -----------------------------------


def test_reserved_throttle_matches_the_recording(lambda_client: Any, server: Any) -> None:
    """test_lambda TestLambdaConcurrency::test_lambda_concurrency_block (invoke_latest_first_exc):
    429, body {Type, message, Reason} only; botocore parses `retryAfterSeconds` from a
    Retry-After header, and AWS's recorded error has none, so AWS sends no such header."""
    name = unique()
    create_python(lambda_client, name)
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(lambda_client.exceptions.TooManyRequestsException) as exc:
        lambda_client.invoke(FunctionName=name, Payload=b"{}")
    err = exc.value.response
    assert error_of(exc) == ("TooManyRequestsException", "Rate Exceeded.", 429)
    assert err["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert err["Type"] == "User" and err["message"] == "Rate Exceeded."
    assert "retryAfterSeconds" not in err
    raw = httpx.post(
        f"{server.url}/2015-03-31/functions/{name}/invocations",
        content=b"{}",
    )
    assert raw.status_code == 429
    assert "retry-after" not in raw.headers
    assert raw.headers["x-amzn-errortype"] == "TooManyRequestsException"
    assert raw.json() == {
        "Type": "User",
        "message": "Rate Exceeded.",
        "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
    }
