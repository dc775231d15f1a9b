"""EventBridge event patterns as AWS judges them (issue 18, items 8-10), through boto3
against the real server.

Expectations are AWS's, recorded in LocalStack's
tests/aws/services/events/test_events_patterns.snapshot.json and its
event_pattern_templates (/work/shared/aws-recordings/services/, where pattern_cases.json
holds all 155 pattern/event/outcome triples).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from tests.conftest import client_for
from tests.support.server import ServerProcess

CASES = Path(__file__).parents[1] / "data" / "aws" / "pattern_cases.json"  # vendored, see README
VALUES = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
TOO_COMPLEX = (
    "Event pattern is not valid. Reason: Rule is too complex - try using fewer wildcard"
    " characters or fewer repeating character sequences after a wildcard character"
)
EVENT: dict[str, Any] = {
    "id": "1",
    "account": "123456789012",
    "source": "test-source",
    "detail-type": "test-detail-type",
    "time": "2022-07-13T13:48:01Z",
    "region": "us-east-2",
    "resources": [],
}


@pytest.fixture(scope="module")
def events(server: ServerProcess) -> Any:
    return client_for(server.url, "events")


def refused(call: Callable[[], Any]) -> tuple[str, int, str]:
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        call()
    response = exc.value.response
    error = response["Error"]
    return error["Code"], response["ResponseMetadata"]["HTTPStatusCode"], error["Message"]


def invalid_pattern(reason: str) -> tuple[str, int, str]:
    return "InvalidEventPatternException", 400, f"Event pattern is not valid. Reason: {reason}"


def judge(events: Any, pattern: Any, event: dict[str, Any]) -> bool:
    text = pattern if isinstance(pattern, str) else json.dumps(pattern)
    result = events.test_event_pattern(EventPattern=text, Event=json.dumps(event))
    return bool(result["Result"])


# ---- item 8: keys join with dots ----
@pytest.mark.parametrize(
    ("pattern", "detail", "expected"),
    [
        ({"detail": {"state": {"status": ["running"]}}}, {"state.status": "running"}, True),
        ({"detail": {"state.status": ["running"]}}, {"state": {"status": "running"}}, True),
        (
            {"detail": {"state": {"status": ["running"]}}},
            {"state.status": {"status": "running"}},
            False,
        ),
        (
            {"detail": {"state.status": {"status": ["running"]}}},
            {"state": {"status": "running"}},
            False,
        ),
        ({"detail": {"a.b.c": ["x"]}}, {"a": {"b.c": "x"}}, True),
    ],
    ids=["event-key-dotted", "pattern-key-dotted", "event-NEG", "pattern-NEG", "deeper"],
)
def test_dotted_keys(events: Any, pattern: Any, detail: Any, expected: bool) -> None:
    assert judge(events, pattern, {**EVENT, "detail": detail}) is expected


def test_dotted_keys_deliver_through_a_rule(events: Any, server: ServerProcess) -> None:
    sqs = client_for(server.url, "sqs")
    url = sqs.create_queue(QueueName=f"dotted-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    source = f"dotted.{uuid.uuid4().hex[:8]}"
    name = f"dotted-{uuid.uuid4().hex[:8]}"
    pattern = {"source": [source], "detail": {"state.status": ["running"]}}
    events.put_rule(Name=name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn}])
    entries = [
        {"Source": source, "DetailType": "t", "Detail": json.dumps(detail)}
        for detail in ({"state": {"status": "stopped"}}, {"state": {"status": "running"}})
    ]
    assert events.put_events(Entries=entries)["FailedEntryCount"] == 0
    received = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10, MaxNumberOfMessages=10)
    bodies = [json.loads(m["Body"])["detail"] for m in received.get("Messages", [])]
    assert bodies == [{"state": {"status": "running"}}]


def test_all_recorded_pattern_cases(events: Any) -> None:
    failures = []
    for name, case in json.loads(CASES.read_text()).items():
        pattern = json.dumps(case["EventPattern"])
        event = json.dumps(case["Event"])
        try:
            got: Any = events.test_event_pattern(EventPattern=pattern, Event=event)["Result"]
        except botocore.exceptions.ClientError as exc:
            got = ("error", exc.response["Error"]["Message"])
        if case["expect"] == "error":
            expected: Any = ("error", case["error"]["Message"])
        else:
            expected = case["expect"]
        if got != expected:
            failures.append((name, got, expected))
    assert failures == []


# ---- item 9: wildcard complexity ----
RECORDED_COMPLEX = {"EventBusArn": [{"wildcard": "*:*:*:*:*:event-bus/*"}]}


def test_too_complex_wildcard_on_test_event_pattern(events: Any) -> None:
    event = {**EVENT, "EventBusArn": "arn:aws:events:us-east-1:1:event-bus/b"}
    assert refused(lambda: judge(events, RECORDED_COMPLEX, event)) == (
        "InvalidEventPatternException",
        400,
        TOO_COMPLEX,
    )


def test_too_complex_wildcard_on_put_rule(events: Any) -> None:
    name = f"complex-{uuid.uuid4().hex[:8]}"
    assert refused(
        lambda: events.put_rule(Name=name, EventPattern=json.dumps(RECORDED_COMPLEX))
    ) == ("InvalidEventPatternException", 400, TOO_COMPLEX)
    assert name not in [r["Name"] for r in events.list_rules(NamePrefix=name)["Rules"]]


def test_five_wildcards_are_allowed(events: Any) -> None:
    pattern = {"EventBusArn": [{"wildcard": "*:*:*:*:event-bus/*"}]}
    event = {**EVENT, "EventBusArn": "arn:aws:events:us-east-1:1:event-bus/b"}
    assert judge(events, pattern, event) is True


# ---- item 10: malformed JSON in Jackson's words ----
@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "this is valid json but not a dict",
            f"Unrecognized token 'this': was expecting {VALUES}\n at [Source: (String)"
            '"this is valid json but not a dict"; line: 1, column: 5]',
        ),
        (
            "{'bad': 'quotation'}",
            "Unexpected character (''' (code 39)): was expecting double-quote to start field"
            " name\n at [Source: (String)\"{'bad': 'quotation'}\"; line: 1, column: 2]",
        ),
        (
            '{"not": closed mark"',
            f"Unrecognized token 'closed': was expecting {VALUES}\n at [Source: (String)"
            '"{"not": closed mark""; line: 1, column: 15]',
        ),
        (
            '["not", "a", "dict", "but valid json"]',
            "Filter is not an object\n at [Source: (String)"
            '"["not", "a", "dict", "but valid json"]"; line: 1, column: 2]',
        ),
    ],
    ids=["unrecognized-token", "single-quotes", "unquoted-value", "not-an-object"],
)
def test_malformed_json_patterns(events: Any, text: str, reason: str) -> None:
    assert refused(lambda: judge(events, text, EVENT)) == invalid_pattern(reason)
    name = f"bad-json-{uuid.uuid4().hex[:8]}"
    assert refused(lambda: events.put_rule(Name=name, EventPattern=text)) == invalid_pattern(reason)


def test_unclosed_array_is_an_unexpected_end_of_input(events: Any) -> None:
    text = '{"source": ["a"'
    code, status, message = refused(lambda: judge(events, text, EVENT))
    assert (code, status) == ("InvalidEventPatternException", 400)
    assert message.startswith(
        "Event pattern is not valid. Reason: Unexpected end-of-input: expected close marker"
        " for ARRAY"
    )
    assert message.endswith("line: 1, column: 16]")


# ---- input transformers (issue 18, "also compare") ----
def test_input_transformers_as_aws_delivers_them(events: Any, server: ServerProcess) -> None:
    """AWS-recorded (test_events_inputs.snapshot.json): <aws.events.event> spells
    detailType; a missing path is "" in a JSON template; a JSON template that renders
    invalid JSON (an object inside quotes) delivers nothing."""
    sqs = client_for(server.url, "sqs")
    queues = {}
    for name in ("event", "missing", "broken"):
        url = sqs.create_queue(QueueName=f"in-{name}-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        queues[name] = (url, arn)
    source = f"inputs.{uuid.uuid4().hex[:8]}"
    rule = f"inputs-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": [source]}))
    paths = {"command": "$.detail.notinmessage", "payload": "$.detail.payload"}
    templates = {
        "event": '{"originalEvent": <aws.events.event>}',
        "missing": '{"command": <command>}',
        "broken": '{"payload": "<payload>"}',
    }
    events.put_targets(
        Rule=rule,
        Targets=[
            {
                "Id": name,
                "Arn": queues[name][1],
                "InputTransformer": {"InputPathsMap": paths, "InputTemplate": templates[name]},
            }
            for name in templates
        ],
    )
    detail = {"command": "update-account", "payload": {"acc_id": "0a787ecb-4015"}}
    events.put_events(
        Entries=[{"Source": source, "DetailType": "core.cmd", "Detail": json.dumps(detail)}]
    )

    def body(name: str) -> Any:
        got = sqs.receive_message(QueueUrl=queues[name][0], WaitTimeSeconds=10)
        return json.loads(got["Messages"][0]["Body"])

    original = body("event")["originalEvent"]
    assert list(original) == [
        "id", "account", "detailType", "time", "source", "region", "resources", "version",
    ]  # fmt: skip
    assert original["detailType"] == "core.cmd"
    assert body("missing") == {"command": ""}
    nothing = sqs.receive_message(QueueUrl=queues["broken"][0], WaitTimeSeconds=1)
    assert nothing.get("Messages", []) == []
