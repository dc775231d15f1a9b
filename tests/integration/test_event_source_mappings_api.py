"""The event source mapping API with boto3 and the AWS CLI: shapes, states, paging, errors.

Expected messages are AWS's, as LocalStack's AWS-validated snapshots record them
(test_lambda_api.py TestLambdaEventSourceMappings, event_source_mapping/test_api.py and
test_lambda_integration_sqs.py); see sources/mapping.py for the few that are not recorded.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.support.cli import aws
from tests.support.functions import create_python, unique
from tests.support.server import ServerProcess

NOT_FOUND = "The resource you requested does not exist."
ESM_ARN = "arn:aws:lambda:us-east-1:000000000000:event-source-mapping"


@pytest.fixture(scope="module")
def sqs(server: ServerProcess) -> Any:
    return client_for(server.url, "sqs")


@pytest.fixture(scope="module")
def raw_lambda(server: ServerProcess) -> Any:
    """A client that leaves range checks to the server (botocore checks minimums itself)."""
    return boto3.client(
        "lambda", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, parameter_validation=False),
    )  # fmt: skip


@pytest.fixture(scope="module")
def function(lambda_client: Any) -> str:
    name: str = create_python(lambda_client)["FunctionName"]
    return name


def new_queue(sqs: Any, *, fifo: bool = False) -> str:
    name = unique("q") + (".fifo" if fifo else "")
    attributes = {"FifoQueue": "true"} if fifo else {}
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return arn


def error_of(call: Any, **kwargs: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response = info.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"]["Message"],
    )


def test_lifecycle_states_and_shape(lambda_client: Any, sqs: Any, function: str) -> None:
    arn = new_queue(sqs)
    created = lambda_client.create_event_source_mapping(FunctionName=function, EventSourceArn=arn)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    uuid = created["UUID"]
    shape = {k: v for k, v in created.items() if k not in ("ResponseMetadata", "LastModified")}
    assert shape == {
        "UUID": uuid,
        "BatchSize": 10,
        "MaximumBatchingWindowInSeconds": 0,
        "EventSourceArn": arn,
        "FunctionArn": f"arn:aws:lambda:us-east-1:000000000000:function:{function}",
        "State": "Creating",
        "StateTransitionReason": "USER_INITIATED",
        "FunctionResponseTypes": [],
        "EventSourceMappingArn": f"{ESM_ARN}:{uuid}",
    }
    got = lambda_client.get_event_source_mapping(UUID=uuid)
    assert got["State"] == "Enabled"
    assert got["LastModified"] == created["LastModified"]

    updated = lambda_client.update_event_source_mapping(
        UUID=uuid, BatchSize=100, MaximumBatchingWindowInSeconds=2,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        ScalingConfig={"MaximumConcurrency": 3},
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"a": [1]}})}]},
    )  # fmt: skip
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert updated["State"] == "Updating"
    assert updated["BatchSize"] == 100
    assert updated["ScalingConfig"] == {"MaximumConcurrency": 3}
    assert updated["FilterCriteria"] == {"Filters": [{"Pattern": '{"body": {"a": [1]}}'}]}
    assert updated["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    assert lambda_client.update_event_source_mapping(UUID=uuid, Enabled=False)["State"] == (
        "Disabling"
    )
    assert lambda_client.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"
    assert lambda_client.update_event_source_mapping(UUID=uuid, Enabled=True)["State"] == (
        "Enabling"
    )
    assert lambda_client.get_event_source_mapping(UUID=uuid)["State"] == "Enabled"
    cleared = lambda_client.update_event_source_mapping(
        UUID=uuid, FilterCriteria={"Filters": []}, ScalingConfig={}
    )
    assert "FilterCriteria" not in cleared and "ScalingConfig" not in cleared

    deleted = lambda_client.delete_event_source_mapping(UUID=uuid)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert deleted["State"] == "Deleting"
    assert error_of(lambda_client.get_event_source_mapping, UUID=uuid) == (
        404, "ResourceNotFoundException", NOT_FOUND,
    )  # fmt: skip


def test_function_name_forms(lambda_client: Any, sqs: Any) -> None:
    name = create_python(lambda_client)["FunctionName"]
    version = lambda_client.publish_version(FunctionName=name)["Version"]
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    base = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    for given, shown in [
        (f"{name}:$LATEST", f"{base}:$LATEST"),
        (f"{name}:{version}", f"{base}:{version}"),
        (f"000000000000:function:{name}:live", f"{base}:live"),
        (base, base),
    ]:
        made = lambda_client.create_event_source_mapping(
            FunctionName=given, EventSourceArn=new_queue(sqs)
        )
        assert made["FunctionArn"] == shown
    listed = lambda_client.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
    assert len(listed) == 4
    assert len(lambda_client.list_event_source_mappings(FunctionName=f"{name}:live")[
        "EventSourceMappings"
    ]) == 1  # fmt: skip


def test_list_by_source_and_paging(lambda_client: Any, sqs: Any) -> None:
    arn = new_queue(sqs)
    names = [create_python(lambda_client)["FunctionName"] for _ in range(3)]
    uuids = sorted(
        lambda_client.create_event_source_mapping(FunctionName=n, EventSourceArn=arn)["UUID"]
        for n in names
    )
    seen: list[str] = []
    marker: dict[str, str] = {}
    pages = 0
    while True:
        page = lambda_client.list_event_source_mappings(EventSourceArn=arn, MaxItems=2, **marker)
        seen += [m["UUID"] for m in page["EventSourceMappings"]]
        pages += 1
        if "NextMarker" not in page:
            break
        marker = {"Marker": page["NextMarker"]}
    assert seen == uuids and pages == 2
    everything = lambda_client.get_paginator("list_event_source_mappings").paginate(
        EventSourceArn=arn, PaginationConfig={"PageSize": 1}
    )
    assert [m["UUID"] for p in everything for m in p["EventSourceMappings"]] == uuids


def test_create_errors(lambda_client: Any, raw_lambda: Any, sqs: Any, function: str) -> None:
    arn = new_queue(sqs)
    fifo = new_queue(sqs, fifo=True)
    create = raw_lambda.create_event_source_mapping
    bad = "InvalidParameterValueException"
    invalid = "ValidationException"
    cases: list[tuple[dict[str, Any], tuple[int, str, str]]] = [
        ({}, (400, bad, "Unrecognized event source.")),
        ({"EventSourceArn": arn.replace(function, "x"), "FunctionName": "nope"},
         (400, bad, "Function does not exist")),
        ({"EventSourceArn": arn[:-3] + "zzz"},
         (400, bad, "Error occurred while ReceiveMessage. SQS Error Code:"
          " AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue"
          " does not exist.")),
        ({"EventSourceArn": arn, "BatchSize": 11},
         (400, bad, "Maximum batch window in seconds must be greater than 0 if maximum batch"
          " size is greater than 10")),
        ({"EventSourceArn": fifo, "MaximumBatchingWindowInSeconds": 1},
         (400, bad, "Batching window is not supported for FIFO queues")),
        ({"EventSourceArn": arn, "StartingPosition": "LATEST"},
         (400, bad, "StartingPosition is not valid for SQS event sources.")),
        ({"EventSourceArn": arn, "StartingPosition": "0"},
         (400, invalid, "1 validation error detected: Value '0' at 'startingPosition' failed"
          " to satisfy constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP,"
          " TRIM_HORIZON]")),
        ({"EventSourceArn": arn, "FilterCriteria": {"Filters": [{"Pattern": "simple string"}]}},
         (400, bad, "Invalid filter pattern definition.")),
        ({"EventSourceArn": arn, "FilterCriteria": {"Filters": [{"Pattern": '{"a": "b"}'}]}},
         (400, bad, "Invalid filter pattern definition.")),
        ({"EventSourceArn": arn, "DestinationConfig": {"OnSuccess": {"Destination": arn}}},
         (400, bad, "Unsupported DestinationConfig parameter for given event source mapping"
          " type.")),
        ({"EventSourceArn": arn, "BatchSize": 0},
         (400, invalid, "1 validation error detected: Value '0' at 'batchSize' failed to"
          " satisfy constraint: Member must have value greater than or equal to 1")),
        ({"EventSourceArn": arn, "BatchSize": 10001, "MaximumBatchingWindowInSeconds": 1},
         (400, invalid, "1 validation error detected: Value '10001' at 'batchSize' failed to"
          " satisfy constraint: Member must have value less than or equal to 10000")),
        ({"EventSourceArn": arn, "MaximumBatchingWindowInSeconds": 301},
         (400, invalid, "1 validation error detected: Value '301' at"
          " 'maximumBatchingWindowInSeconds' failed to satisfy constraint: Member must have"
          " value less than or equal to 300")),
        ({"EventSourceArn": arn, "ScalingConfig": {"MaximumConcurrency": 1}},
         (400, invalid, "1 validation error detected: Value '1' at"
          " 'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must have"
          " value greater than or equal to 2")),
        ({"EventSourceArn": arn, "FunctionResponseTypes": ["Nope"]},
         (400, invalid, "1 validation error detected: Value '[Nope]' at"
          " 'functionResponseTypes' failed to satisfy constraint: Member must satisfy"
          " constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]")),
    ]  # fmt: skip
    west = client_for(raw_lambda.meta.endpoint_url, "sqs", region="us-west-2")
    west_url = west.create_queue(QueueName=unique("west"))["QueueUrl"]
    west_arn = west.get_queue_attributes(QueueUrl=west_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    no_queue = cases[2][1]
    cases += [
        ({"EventSourceArn": west_arn}, no_queue),  # a mapping and its queue share a region
        ({"EventSourceArn": arn, "FunctionName": "arn:aws:lambda:us-east-1:111111111111:function:"
          + function}, (400, bad, "Function does not exist")),  # another account's function
    ]  # fmt: skip
    for extra, expected in cases:
        params = {"FunctionName": function, **extra}
        assert error_of(create, **params) == expected, extra
    six = {"Filters": [{"Pattern": json.dumps({"body": {"n": [i]}})} for i in range(6)]}
    status, code, _ = error_of(
        create, FunctionName=function, EventSourceArn=arn, FilterCriteria=six
    )
    assert (status, code) == (400, bad)
    five = {"Filters": six["Filters"][:5]}
    made = lambda_client.create_event_source_mapping(
        FunctionName=function, EventSourceArn=arn, FilterCriteria=five
    )
    assert len(made["FilterCriteria"]["Filters"]) == 5
    status, code, message = error_of(create, FunctionName=function, EventSourceArn=arn)
    assert (status, code) == (409, "ResourceConflictException")
    assert message == (
        f'An event source mapping with SQS arn (" {arn} ") and function (" {function} ")'
        f" already exists. Please update or delete the existing mapping with UUID {made['UUID']}"
    )


def test_uuid_errors_and_update_rules(lambda_client: Any, sqs: Any, function: str) -> None:
    unknown = "4ae2f6a0-0000-4000-8000-000000000000"
    for call in (
        lambda_client.get_event_source_mapping,
        lambda_client.delete_event_source_mapping,
        lambda_client.update_event_source_mapping,
    ):
        assert error_of(call, UUID=unknown) == (404, "ResourceNotFoundException", NOT_FOUND)
    # test_event_source_mapping_exceptions, as recorded: the order of the checks
    somequeue = "arn:aws:sqs:us-east-1:111111111111:somequeue"
    for params, message in (
        ({}, "Unrecognized event source."),
        ({"EventSourceArn": somequeue}, "Function does not exist"),
        ({"EventSourceArn": somequeue, "DestinationConfig": {"OnSuccess": {
            "Destination": "arn:aws:sqs:us-east-1:111111111111:someotherqueue"}}},
         "Unsupported DestinationConfig parameter for given event source mapping type."),
    ):  # fmt: skip
        assert error_of(
            lambda_client.create_event_source_mapping, FunctionName="doesnotexist", **params
        ) == (400, "InvalidParameterValueException", message)
    # list does not care whether its filters exist
    assert lambda_client.list_event_source_mappings(FunctionName="doesnotexist")[
        "EventSourceMappings"
    ] == []  # fmt: skip
    assert lambda_client.list_event_source_mappings(EventSourceArn=somequeue)[
        "EventSourceMappings"
    ] == []  # fmt: skip
    uuid = lambda_client.create_event_source_mapping(
        FunctionName=function, EventSourceArn=new_queue(sqs)
    )["UUID"]
    assert error_of(lambda_client.update_event_source_mapping, UUID=uuid, BatchSize=11) == (
        400, "InvalidParameterValueException",
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is"
        " greater than 10",
    )  # fmt: skip
    other = create_python(lambda_client)["FunctionName"]
    moved = lambda_client.update_event_source_mapping(UUID=uuid, FunctionName=other)
    assert moved["FunctionArn"].endswith(f":function:{other}")
    queue = moved["EventSourceArn"]
    second = lambda_client.create_event_source_mapping(FunctionName=function, EventSourceArn=queue)
    status, code, _ = error_of(
        lambda_client.update_event_source_mapping, UUID=second["UUID"], FunctionName=other
    )
    assert (status, code) == (409, "ResourceConflictException")
    assert error_of(
        lambda_client.update_event_source_mapping, UUID=uuid, FunctionName="missing-fn"
    ) == (400, "InvalidParameterValueException", "Function does not exist")


def test_aws_cli(server: ServerProcess, sqs: Any, function: str) -> None:
    arn = new_queue(sqs)
    made = aws(server.url, "lambda", "create-event-source-mapping", "--function-name", function,
               "--event-source-arn", arn, "--batch-size", "5")  # fmt: skip
    assert made["State"] == "Creating" and made["BatchSize"] == 5
    listed = aws(server.url, "lambda", "list-event-source-mappings", "--event-source-arn", arn)
    assert [m["UUID"] for m in listed["EventSourceMappings"]] == [made["UUID"]]
    got = aws(server.url, "lambda", "get-event-source-mapping", "--uuid", made["UUID"])
    assert got["State"] == "Enabled"
    disabled = aws(server.url, "lambda", "update-event-source-mapping", "--uuid", made["UUID"],
                   "--no-enabled")  # fmt: skip
    assert disabled["State"] == "Disabling"
    gone = aws(server.url, "lambda", "delete-event-source-mapping", "--uuid", made["UUID"])
    assert gone["State"] == "Deleting"
    failed = aws(server.url, "lambda", "get-event-source-mapping", "--uuid", made["UUID"],
                 check=False)  # fmt: skip
    assert failed.returncode != 0 and "ResourceNotFoundException" in failed.stderr
