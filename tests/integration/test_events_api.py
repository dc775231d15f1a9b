"""EventBridge control plane and PutEvents answers, driven by boto3 (and the AWS CLI)
against a real server: buses, rules, targets, TestEventPattern, and the error wire format."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.support.cli import aws
from tests.support.server import ServerProcess, start_server

ACCOUNT = "000000000000"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:somewhere"
PATTERN = json.dumps({"source": ["shop"]})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path_factory.mktemp("events-api"), "--time-scale", "0.01")
    yield proc
    assert proc.stop() == 0, proc.log()[-4000:]


@pytest.fixture(scope="module")
def events(server: ServerProcess) -> Any:
    return client_for(server.url, "events")


def error_of(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    error = info.value.response["Error"]
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return error["Code"], error["Message"]


# --------------------------------------------------------------------------- buses


def test_default_bus_exists_implicitly(events: Any) -> None:
    names = [b["Name"] for b in events.list_event_buses()["EventBuses"]]
    assert "default" in names
    described = events.describe_event_bus()
    assert described["Name"] == "default"
    assert described["Arn"] == f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default"
    assert events.describe_event_bus(Name="default")["Name"] == "default"


def test_custom_bus_lifecycle(events: Any) -> None:
    arn = events.create_event_bus(Name="orders", Description="all orders")["EventBusArn"]
    assert arn == f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/orders"

    described = events.describe_event_bus(Name="orders")
    assert described["Arn"] == arn
    assert described["Description"] == "all orders"
    assert described["CreationTime"] and described["LastModifiedTime"]
    assert events.describe_event_bus(Name=arn)["Name"] == "orders"

    code, message = error_of(events.create_event_bus, Name="orders")
    assert (code, message) == ("ResourceAlreadyExistsException", "Event bus orders already exists.")

    listed = events.list_event_buses(NamePrefix="ord")["EventBuses"]
    assert [b["Name"] for b in listed] == ["orders"]

    events.delete_event_bus(Name="orders")
    code, message = error_of(events.describe_event_bus, Name="orders")
    assert (code, message) == ("ResourceNotFoundException", "Event bus orders does not exist.")
    events.delete_event_bus(Name="orders")  # deleting a missing bus succeeds, as on AWS


def test_default_bus_cannot_be_deleted(events: Any) -> None:
    code, message = error_of(events.delete_event_bus, Name="default")
    assert (code, message) == ("ValidationException", "Cannot delete event bus default.")


def test_list_event_buses_pages(events: Any) -> None:
    for i in range(5):
        events.create_event_bus(Name=f"paged-{i}")
    first = events.list_event_buses(NamePrefix="paged-", Limit=3)
    assert [b["Name"] for b in first["EventBuses"]] == ["paged-0", "paged-1", "paged-2"]
    second = events.list_event_buses(NamePrefix="paged-", Limit=3, NextToken=first["NextToken"])
    assert [b["Name"] for b in second["EventBuses"]] == ["paged-3", "paged-4"]
    assert "NextToken" not in second


def test_buses_are_scoped_per_region(server: ServerProcess, events: Any) -> None:
    events.create_event_bus(Name="regional")
    elsewhere = client_for(server.url, "events", region="eu-west-1")
    assert [b["Name"] for b in elsewhere.list_event_buses()["EventBuses"]] == ["default"]
    code, _ = error_of(elsewhere.describe_event_bus, Name="regional")
    assert code == "ResourceNotFoundException"
    arn = elsewhere.put_rule(Name="r", EventPattern=PATTERN)["RuleArn"]
    assert arn == f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/r"


def test_bus_name_is_validated(events: Any) -> None:
    code, message = error_of(events.create_event_bus, Name="bad name!")
    assert code == "ValidationException"
    assert message.startswith("1 validation error detected: Value 'bad name!' at 'name'")


# --------------------------------------------------------------------------- rules


def test_rule_lifecycle_on_default_and_custom_bus(events: Any) -> None:
    events.create_event_bus(Name="rules-bus")
    default_arn = events.put_rule(Name="on-default", EventPattern=PATTERN)["RuleArn"]
    custom_arn = events.put_rule(
        Name="on-custom", EventBusName="rules-bus", EventPattern=PATTERN, Description="d"
    )["RuleArn"]
    assert default_arn == f"arn:aws:events:us-east-1:{ACCOUNT}:rule/on-default"
    assert custom_arn == f"arn:aws:events:us-east-1:{ACCOUNT}:rule/rules-bus/on-custom"

    described = events.describe_rule(Name="on-custom", EventBusName="rules-bus")
    assert described["Arn"] == custom_arn
    assert described["EventPattern"] == PATTERN
    assert described["State"] == "ENABLED"
    assert described["Description"] == "d"
    assert described["EventBusName"] == "rules-bus"
    assert described["CreatedBy"] == ACCOUNT
    bus_arn = f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/rules-bus"
    assert events.describe_rule(Name="on-custom", EventBusName=bus_arn)["Arn"] == custom_arn

    listed = events.list_rules(EventBusName="rules-bus")["Rules"]
    assert [r["Name"] for r in listed] == ["on-custom"]
    assert "CreatedBy" not in listed[0]

    events.disable_rule(Name="on-custom", EventBusName="rules-bus")
    assert events.describe_rule(Name="on-custom", EventBusName="rules-bus")["State"] == "DISABLED"
    events.enable_rule(Name="on-custom", EventBusName="rules-bus")
    assert events.describe_rule(Name="on-custom", EventBusName="rules-bus")["State"] == "ENABLED"

    # PutRule replaces the rule's settings but keeps its targets
    events.put_targets(
        Rule="on-custom", EventBusName="rules-bus", Targets=[{"Id": "q", "Arn": QUEUE_ARN}]
    )
    events.put_rule(
        Name="on-custom", EventBusName="rules-bus", EventPattern=PATTERN, State="DISABLED"
    )
    updated = events.describe_rule(Name="on-custom", EventBusName="rules-bus")
    assert updated["State"] == "DISABLED" and "Description" not in updated
    targets = events.list_targets_by_rule(Rule="on-custom", EventBusName="rules-bus")["Targets"]
    assert targets == [{"Id": "q", "Arn": QUEUE_ARN}]

    code, message = error_of(events.delete_rule, Name="on-custom", EventBusName="rules-bus")
    assert (code, message) == ("ValidationException", "Rule can't be deleted since it has targets.")
    removed = events.remove_targets(Rule="on-custom", EventBusName="rules-bus", Ids=["q"])
    assert removed["FailedEntryCount"] == 0
    events.delete_rule(Name="on-custom", EventBusName="rules-bus")
    events.delete_rule(Name="on-custom", EventBusName="rules-bus")  # gone already: no error
    code, message = error_of(events.describe_rule, Name="on-custom", EventBusName="rules-bus")
    assert (code, message) == (
        "ResourceNotFoundException",
        "Rule on-custom does not exist on EventBus rules-bus.",
    )
    events.delete_rule(Name="on-default")


def test_list_rules_prefix_and_pages(events: Any) -> None:
    events.create_event_bus(Name="many-rules")
    for i in range(5):
        events.put_rule(Name=f"rule-{i}", EventBusName="many-rules", EventPattern=PATTERN)
    events.put_rule(Name="other", EventBusName="many-rules", EventPattern=PATTERN)
    first = events.list_rules(EventBusName="many-rules", NamePrefix="rule-", Limit=3)
    assert [r["Name"] for r in first["Rules"]] == ["rule-0", "rule-1", "rule-2"]
    rest = events.list_rules(
        EventBusName="many-rules", NamePrefix="rule-", Limit=3, NextToken=first["NextToken"]
    )
    assert [r["Name"] for r in rest["Rules"]] == ["rule-3", "rule-4"]
    assert "NextToken" not in rest


def test_rule_errors(events: Any) -> None:
    assert error_of(events.describe_rule, Name="missing") == (
        "ResourceNotFoundException",
        "Rule missing does not exist on EventBus default.",
    )
    assert error_of(events.enable_rule, Name="missing")[0] == "ResourceNotFoundException"
    assert error_of(events.put_rule, Name="r", EventBusName="nope", EventPattern=PATTERN) == (
        "ResourceNotFoundException",
        "Event bus nope does not exist.",
    )
    assert error_of(events.list_rules, EventBusName="nope")[0] == "ResourceNotFoundException"
    code, message = error_of(events.put_rule, Name="r", EventPattern='{"source": "shop"}')
    assert code == "InvalidEventPatternException"
    assert message.startswith("Event pattern is not valid. Reason: ")
    code, message = error_of(events.put_rule, Name="r", EventPattern="{not json")
    assert code == "InvalidEventPatternException"
    assert error_of(events.put_rule, Name="r") == (
        "ValidationException",
        "Parameter(s) EventPattern or ScheduleExpression must be specified.",
    )
    assert error_of(events.put_rule, Name="r", ScheduleExpression="every minute") == (
        "ValidationException",
        "Parameter ScheduleExpression is not valid.",
    )
    events.create_event_bus(Name="no-schedules")
    assert error_of(
        events.put_rule, Name="r", EventBusName="no-schedules", ScheduleExpression="rate(5 minutes)"
    ) == ("ValidationException", "ScheduleExpression is supported only on the default event bus.")


def test_scheduled_rule_is_stored(events: Any) -> None:
    events.put_rule(Name="every-five", ScheduleExpression="rate(5 minutes)", State="DISABLED")
    described = events.describe_rule(Name="every-five")
    assert described["ScheduleExpression"] == "rate(5 minutes)"
    assert described["State"] == "DISABLED"


# --------------------------------------------------------------------------- targets


def test_targets_put_list_remove(events: Any) -> None:
    events.put_rule(Name="with-targets", EventPattern=PATTERN)
    targets = [
        {"Id": "plain", "Arn": QUEUE_ARN},
        {"Id": "path", "Arn": QUEUE_ARN, "InputPath": "$.detail"},
        {"Id": "const", "Arn": f"arn:aws:sns:us-east-1:{ACCOUNT}:topic", "Input": '{"a": 1}'},
        {
            "Id": "shaped",
            "Arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn",
            "InputTransformer": {
                "InputPathsMap": {"src": "$.source"},
                "InputTemplate": '{"from": <src>}',
            },
            "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
            "DeadLetterConfig": {"Arn": QUEUE_ARN},
        },
    ]
    answer = events.put_targets(Rule="with-targets", Targets=targets)
    assert (answer["FailedEntryCount"], answer["FailedEntries"]) == (0, [])
    listed = events.list_targets_by_rule(Rule="with-targets")["Targets"]
    assert listed == targets

    page = events.list_targets_by_rule(Rule="with-targets", Limit=3)
    assert [t["Id"] for t in page["Targets"]] == ["plain", "path", "const"]
    rest = events.list_targets_by_rule(Rule="with-targets", NextToken=page["NextToken"])
    assert [t["Id"] for t in rest["Targets"]] == ["shaped"]

    events.put_targets(Rule="with-targets", Targets=[{"Id": "plain", "Arn": QUEUE_ARN + "-2"}])
    listed = events.list_targets_by_rule(Rule="with-targets")["Targets"]
    assert listed[0] == {"Id": "plain", "Arn": QUEUE_ARN + "-2"}

    events.remove_targets(Rule="with-targets", Ids=["plain", "path", "const", "shaped", "nope"])
    assert events.list_targets_by_rule(Rule="with-targets")["Targets"] == []


def test_target_errors(events: Any) -> None:
    events.put_rule(Name="target-errors", EventPattern=PATTERN)
    six = [{"Id": f"t{i}", "Arn": QUEUE_ARN} for i in range(6)]
    assert error_of(events.put_targets, Rule="target-errors", Targets=six) == (
        "LimitExceededException",
        "The requested resource exceeds the maximum number allowed.",
    )
    assert error_of(events.put_targets, Rule="missing", Targets=six[:1]) == (
        "ResourceNotFoundException",
        "Rule missing does not exist on EventBus default.",
    )
    assert error_of(
        events.put_targets, Rule="target-errors", Targets=[{"Id": "x", "Arn": "not-an-arn"}]
    ) == (
        "ValidationException",
        "Parameter not-an-arn is not valid. Reason: Provided Arn is not in correct format.",
    )
    code, message = error_of(
        events.put_targets, Rule="target-errors", Targets=[{"Id": "!@#", "Arn": QUEUE_ARN}]
    )
    assert code == "ValidationException"
    assert "at 'targets.1.member.id' failed to satisfy constraint" in message
    both = {"Id": "x", "Arn": QUEUE_ARN, "Input": "{}", "InputPath": "$.detail"}
    assert error_of(events.put_targets, Rule="target-errors", Targets=[both]) == (
        "ValidationException",
        "Only one of Input, InputPath, or InputTransformer must be provided for target x.",
    )
    unknown = {
        "Id": "x",
        "Arn": QUEUE_ARN,
        "InputTransformer": {"InputPathsMap": {}, "InputTemplate": '"<who> said hi"'},
    }
    assert error_of(events.put_targets, Rule="target-errors", Targets=[unknown]) == (
        "ValidationException",
        "InputTemplate for target x contains invalid placeholder who.",
    )
    fifo = {"Id": "x", "Arn": QUEUE_ARN + ".fifo"}
    assert error_of(events.put_targets, Rule="target-errors", Targets=[fifo]) == (
        "ValidationException",
        "Parameter(s) SqsParameters must be specified for target: x.",
    )
    bad_path = {"Id": "x", "Arn": QUEUE_ARN, "InputPath": "$..detail"}
    assert error_of(events.put_targets, Rule="target-errors", Targets=[bad_path])[0] == (
        "ValidationException"
    )
    kinesis = {"Id": "k", "Arn": f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/s"}
    answer = events.put_targets(
        Rule="target-errors", Targets=[kinesis, {"Id": "ok", "Arn": QUEUE_ARN}]
    )
    assert answer["FailedEntryCount"] == 1
    assert answer["FailedEntries"][0]["TargetId"] == "k"
    assert answer["FailedEntries"][0]["ErrorCode"] == "ValidationException"
    listed = events.list_targets_by_rule(Rule="target-errors")["Targets"]
    assert [t["Id"] for t in listed] == ["ok"]


# --------------------------------------------------------------------------- PutEvents


def test_put_events_answers_per_entry(events: Any) -> None:
    answer = events.put_events(
        Entries=[
            {"Source": "shop", "DetailType": "order", "Detail": '{"id": 1}'},
            {"DetailType": "order", "Detail": "{}"},
            {"Source": "shop", "Detail": "{}"},
            {"Source": "shop", "DetailType": "order"},
            {"Source": "shop", "DetailType": "order", "Detail": "not json"},
            {"Source": "shop", "DetailType": "order", "Detail": "[1, 2]"},
            {"Source": "shop", "DetailType": "order", "Detail": '"text"'},
            {"Source": "shop", "DetailType": "order", "Detail": "{}", "EventBusName": "no-bus"},
        ]
    )
    entries = answer["Entries"]
    assert answer["FailedEntryCount"] == 6
    assert set(entries[0]) == {"EventId"}
    assert entries[1] == {
        "ErrorCode": "InvalidArgument",
        "ErrorMessage": "Parameter Source is not valid. Reason: Source is a required argument.",
    }
    assert entries[2]["ErrorMessage"] == (
        "Parameter DetailType is not valid. Reason: DetailType is a required argument."
    )
    assert entries[3]["ErrorMessage"] == (
        "Parameter Detail is not valid. Reason: Detail is a required argument."
    )
    for malformed in entries[4:7]:
        assert malformed == {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    assert set(entries[7]) == {"EventId"}  # AWS accepts events for a missing bus, then drops them


def test_put_events_request_limits(events: Any) -> None:
    entry = {"Source": "shop", "DetailType": "order", "Detail": "{}"}
    code, message = error_of(events.put_events, Entries=[entry] * 11)
    assert code == "ValidationException"
    assert "Member must have length less than or equal to 10" in message
    big = {"Source": "shop", "DetailType": "order", "Detail": json.dumps({"x": "y" * 262_144})}
    assert error_of(events.put_events, Entries=[big]) == (
        "ValidationException",
        "Total size of the entries in the request is over the limit.",
    )


def test_test_event_pattern(events: Any) -> None:
    event = {
        "id": "1",
        "account": ACCOUNT,
        "source": "shop",
        "time": "2024-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail-type": "order",
        "detail": {"total": 120, "currency": "EUR"},
    }
    pattern = {"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}}
    matched = events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(event))
    assert matched["Result"] is True
    pattern["detail"] = {"currency": [{"anything-but": ["EUR"]}]}
    missed = events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(event))
    assert missed["Result"] is False
    code, message = error_of(
        events.test_event_pattern, EventPattern='{"detail": 5}', Event=json.dumps(event)
    )
    assert code == "InvalidEventPatternException"
    assert message.startswith("Event pattern is not valid. Reason: ")
    assert error_of(
        events.test_event_pattern, EventPattern=PATTERN, Event=json.dumps({"source": "shop"})
    ) == ("ValidationException", "Parameter Event is not valid.")


# --------------------------------------------------------------------------- wire and tools


def test_error_wire_format(server: ServerProcess) -> None:
    response = httpx.post(
        server.url + "/",
        headers={
            "X-Amz-Target": "AWSEvents.DescribeRule",
            "Content-Type": "application/x-amz-json-1.1",
        },
        content=json.dumps({"Name": "nothing-here"}),
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/x-amz-json-1.1"
    assert response.json() == {
        "__type": "ResourceNotFoundException",
        "message": "Rule nothing-here does not exist on EventBus default.",
    }
    unknown = httpx.post(
        server.url + "/", headers={"X-Amz-Target": "AWSEvents.Frobnicate"}, content="{}"
    )
    assert unknown.status_code == 400
    assert unknown.json()["__type"] == "UnknownOperationException"


def _aws(server: ServerProcess, *args: str) -> Any:
    return aws(server.url, "events", *args)


def test_aws_cli(server: ServerProcess) -> None:
    created = _aws(server, "create-event-bus", "--name", "from-cli")
    assert created["EventBusArn"].endswith(":event-bus/from-cli")
    _aws(server, "put-rule", "--name", "cli-rule", "--event-bus-name", "from-cli",
         "--event-pattern", PATTERN)  # fmt: skip
    rules = _aws(server, "list-rules", "--event-bus-name", "from-cli")["Rules"]
    assert [r["Name"] for r in rules] == ["cli-rule"]
    answer = _aws(
        server, "put-events", "--entries",
        json.dumps([{"Source": "shop", "DetailType": "t", "Detail": "{}",
                     "EventBusName": "from-cli"}]),
    )  # fmt: skip
    assert answer["FailedEntryCount"] == 0 and answer["Entries"][0]["EventId"]


def test_cli_buses_list(server: ServerProcess, events: Any) -> None:
    events.create_event_bus(Name="for-the-cli")
    events.put_rule(Name="cli-listed", EventBusName="for-the-cli", EventPattern=PATTERN)
    done = subprocess.run(
        [sys.executable, "-m", "sendoff.cli.main", "--endpoint-url", server.url, "buses", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "for-the-cli  (1 rule)" in done.stdout
    assert "cli-listed" in done.stdout and "failed deliveries: 0" in done.stdout
