"""The EventInvokeConfig API, with AWS's exact semantics (facts §3)."""

from __future__ import annotations

from typing import Any

import botocore.exceptions
import pytest

from tests.support.functions import create_python, unique

ARN = "arn:aws:lambda:us-east-1:000000000000:function:"


def err(exc: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> tuple[str, str]:
    e = exc.value.response["Error"]
    return e["Code"], e["Message"]


def test_put_replaces_update_merges(lambda_client: Any) -> None:
    name = unique()
    create_python(lambda_client, name)
    put = lambda_client.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=2, MaximumEventAgeInSeconds=60
    )
    assert put["FunctionArn"] == f"{ARN}{name}:$LATEST"
    assert put["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}
    assert isinstance(put["LastModified"].timestamp(), float)
    replaced = lambda_client.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=0
    )
    assert replaced["MaximumRetryAttempts"] == 0
    assert "MaximumEventAgeInSeconds" not in replaced
    lambda_client.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=2, MaximumEventAgeInSeconds=60
    )
    merged = lambda_client.update_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=0
    )
    assert merged["MaximumRetryAttempts"] == 0 and merged["MaximumEventAgeInSeconds"] == 60
    got = lambda_client.get_function_event_invoke_config(FunctionName=name)
    assert got["MaximumRetryAttempts"] == 0 and got["MaximumEventAgeInSeconds"] == 60
    deleted = lambda_client.delete_function_event_invoke_config(FunctionName=name)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException) as exc:
        lambda_client.get_function_event_invoke_config(FunctionName=name)
    assert err(exc)[1] == f"The function {ARN}{name}:$LATEST doesn't have an EventInvokeConfig"


def test_errors(lambda_client: Any, server: Any) -> None:
    name = unique()
    create_python(lambda_client, name)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        lambda_client.put_function_event_invoke_config(FunctionName="does-not-exist-xyz")
    assert err(exc) == (
        "InvalidParameterValueException",
        "You must specify at least one of error handling or destination setting.",
    )
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException) as exc:
        lambda_client.put_function_event_invoke_config(
            FunctionName="does-not-exist-xyz", MaximumRetryAttempts=1
        )
    assert err(exc)[1] == "The function doesn't exist."
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException) as exc:
        lambda_client.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    assert err(exc)[1] == f"The function {ARN}{name}:$LATEST doesn't have an EventInvokeConfig"
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        lambda_client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=5)
    assert err(exc) == (
        "ValidationException",
        "1 validation error detected: Value '5' at 'maximumRetryAttempts' failed"
        " to satisfy constraint: Member must have value less than or equal to 2",
    )
    import httpx

    resp = httpx.put(
        f"{server.url}/2019-09-25/functions/{name}/event-invoke-config",
        json={"MaximumEventAgeInSeconds": 59},
    )
    assert resp.status_code == 400 and resp.json()["message"] == (
        "1 validation error detected: Value '59' at 'maximumEventAgeInSeconds' failed to satisfy"
        " constraint: Member must have value greater than or equal to 60"
    )
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        lambda_client.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": f"{ARN}{name}"}}
        )
    assert err(exc) == (
        "InvalidParameterValueException",
        "You can't specify the function as a destination for itself.",
    )
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        lambda_client.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnFailure": {"Destination": f"{ARN}nope-x"}}
        )
    assert err(exc) == (
        "InvalidParameterValueException",
        f"The destination ARN {ARN}nope-x is invalid.",
    )
    iam = "arn:aws:iam::000000000000:role/x"
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        lambda_client.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": iam}}
        )
    assert err(exc)[1] == (
        f"The provided destination config DestinationConfig(onSuccess=OnSuccess(destination={iam}),"
        " onFailure=null) is invalid."
    )
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        lambda_client.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnFailure": {"Destination": "not-an-arn"}}
        )
    code, message = err(exc)
    assert code == "ValidationException"
    assert "at 'destinationConfig.onFailure.destination'" in message
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        lambda_client.put_function_event_invoke_config(
            FunctionName=f"{name}:$LATEST", Qualifier="1", MaximumRetryAttempts=1
        )
    assert err(exc)[1] == (
        "The derived qualifier from the function name does not match the specified qualifier."
    )


def test_per_qualifier_and_list(lambda_client: Any) -> None:
    name = unique()
    create_python(lambda_client, name, Publish=True)
    lambda_client.create_alias(FunctionName=name, Name="prod", FunctionVersion="1")
    lambda_client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    lambda_client.put_function_event_invoke_config(
        FunctionName=f"{name}:prod", MaximumRetryAttempts=0
    )
    lambda_client.put_function_event_invoke_config(
        FunctionName=name, Qualifier="1", MaximumEventAgeInSeconds=100
    )
    prod = lambda_client.get_function_event_invoke_config(FunctionName=name, Qualifier="prod")
    assert prod["FunctionArn"] == f"{ARN}{name}:prod" and prod["MaximumRetryAttempts"] == 0
    listed = lambda_client.list_function_event_invoke_configs(FunctionName=name)
    arns = sorted(c["FunctionArn"] for c in listed["FunctionEventInvokeConfigs"])
    assert arns == sorted([f"{ARN}{name}:$LATEST", f"{ARN}{name}:prod", f"{ARN}{name}:1"])
    page = lambda_client.list_function_event_invoke_configs(FunctionName=name, MaxItems=2)
    assert len(page["FunctionEventInvokeConfigs"]) == 2 and page["NextMarker"]
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException) as exc:
        lambda_client.get_function_event_invoke_config(FunctionName=name, Qualifier="2")
    assert err(exc)[1] == f"The function {ARN}{name}:2 doesn't have an EventInvokeConfig"
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.put_function_event_invoke_config(
            FunctionName=name, Qualifier="nope", MaximumRetryAttempts=1
        )
    lambda_client.publish_version(FunctionName=name)  # publishing does not copy configs
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.list_function_event_invoke_configs(FunctionName="nope-nope-nope")
