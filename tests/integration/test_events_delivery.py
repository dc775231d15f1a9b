"""Events reaching targets through a real server: pattern matching through PutEvents, SQS
targets with InputPath / Input / InputTransformer, bus-to-bus forwarding, disabled rules,
and failed deliveries counted per rule and dead-lettered."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import client_for
from tests.support.events import function_logs
from tests.support.functions import create_python, unique
from tests.support.server import ServerProcess, start_server, wait_until

ACCOUNT = "000000000000"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path_factory.mktemp("events-delivery"), "--time-scale", "0.01")
    yield proc
    assert proc.stop() == 0, proc.log()[-4000:]


@pytest.fixture(scope="module")
def events(server: ServerProcess) -> Any:
    return client_for(server.url, "events")


@pytest.fixture(scope="module")
def sqs(server: ServerProcess) -> Any:
    return client_for(server.url, "sqs")


class Queue:
    def __init__(self, sqs: Any, name: str) -> None:
        self.sqs = sqs
        self.url = sqs.create_queue(QueueName=name)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])
        self.arn = attributes["Attributes"]["QueueArn"]
        self.received: list[dict[str, Any]] = []

    def _poll(self) -> None:
        answer = self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )
        for message in answer.get("Messages", []):
            self.received.append(message)
            self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])

    def wait_for(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        def enough() -> bool:
            self._poll()
            return len(self.received) >= count

        wait_until(enough, timeout=timeout, message=f"{count} messages on {self.arn}")
        return self.received

    def bodies(self, count: int) -> list[str]:
        return [m["Body"] for m in self.wait_for(count)]


def outbox_idle(server: ServerProcess) -> bool:
    """No delivery job of this scope is waiting or running (sendoff's own events API)."""
    params = [("prefix", f"delivery/{ACCOUNT}/{REGION}"), ("kind", "deliver")]
    params += [("state", state) for state in ("queued", "running", "retrying")]
    answer = httpx.get(server.url + "/_sendoff/events", params=params)
    return answer.status_code == 200 and not answer.json()["events"]


def put(events: Any, detail: dict[str, Any], **entry: Any) -> str:
    entry = {"Source": "shop", "DetailType": "order", "Detail": json.dumps(detail), **entry}
    answer = events.put_events(Entries=[entry])
    assert answer["FailedEntryCount"] == 0, answer
    return str(answer["Entries"][0]["EventId"])


def test_matching_event_reaches_queue_with_full_envelope(events: Any, sqs: Any) -> None:
    queue = Queue(sqs, "envelope")
    events.put_rule(Name="envelope", EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule="envelope", Targets=[{"Id": "q", "Arn": queue.arn}])

    put(events, {"ignored": True}, Source="other-shop")
    event_id = put(
        events,
        {"order": {"id": 7, "total": 12.5}},
        Resources=["arn:aws:s3:::bucket"],
        Time=1_700_000_000,
    )
    (body,) = queue.bodies(1)
    event = json.loads(body)
    assert list(event) == [
        "version", "id", "detail-type", "source", "account", "time", "region", "resources",
        "detail",
    ]  # fmt: skip
    assert event == {
        "version": "0",
        "id": event_id,
        "detail-type": "order",
        "source": "shop",
        "account": ACCOUNT,
        "time": "2023-11-14T22:13:20Z",
        "region": REGION,
        "resources": ["arn:aws:s3:::bucket"],
        "detail": {"order": {"id": 7, "total": 12.5}},
    }
    assert "," in body and ", " not in body  # compact JSON, as EventBridge sends it

    put(events, {"second": True})
    assert len(queue.wait_for(2)) == 2  # the non-matching event never arrived
    now_event = json.loads(queue.received[1]["Body"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", now_event["time"])


def test_patterns_select_rules(server: ServerProcess, events: Any, sqs: Any) -> None:
    patterns = {
        "big": {"detail": {"total": [{"numeric": [">=", 100]}]}},
        "eu": {"detail": {"country": [{"prefix": "EU-"}]}},
        "not-test": {"detail-type": [{"anything-but": "test"}], "source": ["patterns"]},
        "has-coupon": {"source": ["patterns"], "detail": {"coupon": [{"exists": True}]}},
    }
    queues = {}
    events.create_event_bus(Name="patterns")
    for name, pattern in patterns.items():
        queues[name] = Queue(sqs, f"pattern-{name}")
        events.put_rule(Name=name, EventBusName="patterns", EventPattern=json.dumps(pattern))
        events.put_targets(
            Rule=name, EventBusName="patterns", Targets=[{"Id": "q", "Arn": queues[name].arn}]
        )
    sent = [
        ("order", {"total": 150, "country": "US"}),  # big, not-test
        ("test", {"total": 5, "country": "EU-FR", "coupon": "X"}),  # eu, has-coupon
        ("test", {"total": 99.5}),  # nothing
    ]
    for detail_type, detail in sent:
        put(events, detail, Source="patterns", DetailType=detail_type, EventBusName="patterns")
    # a final event every rule matches marks the end of the stream
    put(
        events,
        {"total": 100, "country": "EU-DE", "coupon": "Y"},
        Source="patterns",
        DetailType="last",
        EventBusName="patterns",
    )
    expected = {
        "big": ["last", "order"],
        "eu": ["last", "test"],
        "not-test": ["last", "order"],
        "has-coupon": ["last", "test"],
    }
    for name, kinds in expected.items():
        queues[name].wait_for(len(kinds))
    wait_until(lambda: outbox_idle(server), message="the outbox to drain")
    for name, kinds in expected.items():
        got = sorted(json.loads(b)["detail-type"] for b in queues[name].bodies(len(kinds)))
        assert got == kinds, name


def test_disabled_rule_does_not_match(events: Any, sqs: Any) -> None:
    queue = Queue(sqs, "disabled")
    events.put_rule(Name="sometimes", EventPattern=json.dumps({"source": ["toggle"]}))
    events.put_targets(Rule="sometimes", Targets=[{"Id": "q", "Arn": queue.arn}])
    events.disable_rule(Name="sometimes")
    put(events, {"n": 1}, Source="toggle")
    events.enable_rule(Name="sometimes")
    put(events, {"n": 2}, Source="toggle")
    assert [json.loads(b)["detail"] for b in queue.bodies(1)] == [{"n": 2}]
    put(events, {"n": 3}, Source="toggle")
    assert [json.loads(b)["detail"]["n"] for b in queue.bodies(2)] == [2, 3]


def test_input_path_input_and_transformer(events: Any, sqs: Any) -> None:
    names = ["whole-detail", "leaf", "constant", "json-template", "text-template", "predefined"]
    queues = {name: Queue(sqs, f"input-{name}") for name in names}
    events.create_event_bus(Name="inputs")
    bus = "inputs"
    events.put_rule(Name="shape", EventBusName=bus, EventPattern=json.dumps({"source": ["in"]}))
    targets: list[dict[str, Any]] = [
        {"Id": "whole-detail", "InputPath": "$.detail"},
        {"Id": "leaf", "InputPath": "$.detail.payload.sf_id"},
        {"Id": "constant", "Input": '{"fixed": [1, 2]}'},
        {
            "Id": "json-template",
            "InputTransformer": {
                "InputPathsMap": {
                    "state": "$.detail.state",
                    "count": "$.detail.count",
                    "payload": "$.detail.payload",
                    "missing": "$.detail.nothing",
                },
                "InputTemplate": '{"state": <state>, "quoted": "is <state>", "count": <count>,'
                ' "payload": <payload>, "missing": <missing>}',
            },
        },
        {
            "Id": "text-template",
            "InputTransformer": {
                "InputPathsMap": {
                    "type": "$.detail-type",
                    "msg": "$.detail.message",
                    "absent": "$.detail.absent",
                },
                "InputTemplate": '"Event of <type> type, info <msg><absent>"',
            },
        },
        {
            "Id": "predefined",
            "InputTransformer": {
                "InputPathsMap": {},
                "InputTemplate": '{"rule": "<aws.events.rule-name>", "arn": <aws.events.rule-arn>,'
                ' "event": <aws.events.event.json>}',
            },
        },
    ]
    for target in targets:
        target["Arn"] = queues[target["Id"]].arn
    answer = events.put_targets(Rule="shape", EventBusName=bus, Targets=targets[:5])
    assert answer["FailedEntryCount"] == 0, answer
    events.put_rule(Name="also", EventBusName=bus, EventPattern=json.dumps({"source": ["in"]}))
    answer = events.put_targets(Rule="also", EventBusName=bus, Targets=targets[5:])
    assert answer["FailedEntryCount"] == 0, answer

    detail = {
        "state": "RUNNING",
        "count": 3,
        "message": "hello",
        "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"},
    }
    event_id = put(events, detail, Source="in", DetailType="customerCreated", EventBusName=bus)

    assert json.loads(queues["whole-detail"].bodies(1)[0]) == detail
    assert queues["leaf"].bodies(1) == ['"baz"']
    assert queues["constant"].bodies(1) == ['{"fixed": [1, 2]}']
    assert json.loads(queues["json-template"].bodies(1)[0]) == {
        "state": "RUNNING",
        "quoted": "is RUNNING",
        "count": 3,
        "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"},
        "missing": "",  # AWS-recorded: a path that matches nothing gives ""
    }
    assert queues["text-template"].bodies(1) == ['"Event of customerCreated type, info hello"']
    predefined = json.loads(queues["predefined"].bodies(1)[0])
    assert predefined["rule"] == "also"
    assert predefined["arn"] == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/inputs/also"
    assert predefined["event"]["id"] == event_id and predefined["event"]["detail"] == detail


def test_event_bus_target_forwards_event(events: Any, sqs: Any) -> None:
    queue = Queue(sqs, "forwarded")
    events.create_event_bus(Name="downstream")
    downstream_arn = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/downstream"
    events.put_rule(Name="forward", EventPattern=json.dumps({"source": ["upstream"]}))
    events.put_targets(Rule="forward", Targets=[{"Id": "bus", "Arn": downstream_arn}])
    events.put_rule(
        Name="collect", EventBusName="downstream", EventPattern=json.dumps({"source": ["upstream"]})
    )
    events.put_targets(
        Rule="collect", EventBusName="downstream", Targets=[{"Id": "q", "Arn": queue.arn}]
    )
    put(events, {"hop": 1}, Source="upstream", DetailType="crossing", Resources=["r:1"])
    (body,) = queue.bodies(1)
    event = json.loads(body)
    assert event["source"] == "upstream"
    assert event["detail-type"] == "crossing"
    assert event["detail"] == {"hop": 1}
    assert event["resources"] == ["r:1"]
    assert event["account"] == ACCOUNT and event["region"] == REGION


def test_failed_target_is_counted_and_dead_lettered(
    server: ServerProcess, events: Any, sqs: Any
) -> None:
    dead_letters = Queue(sqs, "rule-dlq")
    events.put_rule(Name="doomed", EventPattern=json.dumps({"source": ["doomed"]}))
    gone = f"arn:aws:sqs:{REGION}:{ACCOUNT}:no-such-queue"
    events.put_targets(
        Rule="doomed",
        Targets=[{"Id": "gone", "Arn": gone, "DeadLetterConfig": {"Arn": dead_letters.arn}}],
    )
    event_id = put(events, {"will": "fail"}, Source="doomed")

    def failed_rule() -> dict[str, Any] | None:
        overview = httpx.get(server.url + "/_sendoff/buses").json()
        default = next(b for b in overview["buses"] if b["name"] == "default")
        rule = next(r for r in default["rules"] if r["name"] == "doomed")
        return rule if rule["failed_invocations"] else None

    rule = wait_until(failed_rule, message="a counted failed invocation")
    assert rule["failed_invocations"] == 1
    (failure,) = rule["recent_failures"]
    assert failure["event_id"] == event_id and failure["target_id"] == "gone"
    assert "no-such-queue" in failure["error"]

    (message,) = dead_letters.wait_for(1)
    assert json.loads(message["Body"])["id"] == event_id
    attributes = message["MessageAttributes"]
    assert attributes["RULE_ARN"]["StringValue"].endswith(":rule/doomed")
    assert attributes["TARGET_ARN"]["StringValue"] == gone
    assert "ERROR_MESSAGE" in attributes and "ERROR_CODE" in attributes


def test_lambda_target_is_invoked_asynchronously(server: ServerProcess, events: Any) -> None:
    lambda_client = client_for(server.url, "lambda")
    name = unique("bus-target")
    arn = create_python(lambda_client, name)["FunctionArn"]
    events.put_rule(Name="to-lambda", EventPattern=json.dumps({"source": ["to-lambda"]}))
    events.put_targets(
        Rule="to-lambda", Targets=[{"Id": "fn", "Arn": arn, "InputPath": "$.detail"}]
    )
    put(events, {"print": "hello from the bus"}, Source="to-lambda")
    wait_until(
        lambda: "hello from the bus" in function_logs(server.url, name),
        timeout=30,
        message="the function to log the event",
    )


def test_sns_target_publishes_the_event(server: ServerProcess, events: Any, sqs: Any) -> None:
    sns = client_for(server.url, "sns")
    queue = Queue(sqs, "via-topic")
    topic = sns.create_topic(Name="bus-topic")["TopicArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue.arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    events.put_rule(Name="to-topic", EventPattern=json.dumps({"source": ["to-topic"]}))
    events.put_targets(Rule="to-topic", Targets=[{"Id": "topic", "Arn": topic}])
    event_id = put(events, {"via": "sns"}, Source="to-topic")
    (body,) = queue.bodies(1)
    assert json.loads(body)["id"] == event_id
    assert json.loads(body)["detail"] == {"via": "sns"}
