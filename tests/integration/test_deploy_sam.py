"""A SAM application deployed with ``sendoff deploy``: EventInvokeConfig destinations of all
four types (SQS and SNS created by SAM, Lambda, EventBridge), a dead-letter queue, an alias,
and SNS and EventBridgeRule events, checked by invoking it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tests.conftest import client_for
from tests.support.server import ServerProcess, wait_until
from tests.support.templates import TEMPLATES, deploy, logs, sendoff


def messages(sqs: Any, url: str, count: int) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def enough() -> bool:
        for m in sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            seen.append(m)
        return len(seen) >= count

    wait_until(enough, timeout=40, message=f"{count} message(s) in {url}")
    return seen


def log_line(url: str, function: str, *needles: str) -> str:
    def find() -> str | None:
        return next(
            (line for line in logs(url, function).splitlines() if all(n in line for n in needles)),
            None,
        )

    return wait_until(find, timeout=40, message=f"{needles} in {function}'s logs")  # type: ignore[no-any-return]


def test_sam_destinations_of_every_type(server: ServerProcess, tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(TEMPLATES / "sam-destinations", app)
    result = deploy(
        server.url,
        app / "template.yaml",
        "--stack-name",
        "sam-app",
        "--parameter-overrides",
        "Stage=prod",
    )
    assert result["status"] == "CREATE_COMPLETE"
    out = result["outputs"]
    resources = result["resources"]
    # SAM's logical ids, so references written against SAM's output keep working
    for logical_id, type_name in (
        ("WorkerEventInvokeConfig", "AWS::Lambda::EventInvokeConfig"),
        ("WorkerEventInvokeConfigOnSuccessQueue", "AWS::SQS::Queue"),
        ("WorkerEventInvokeConfigOnFailureTopic", "AWS::SNS::Topic"),
        ("WorkerAliaslive", "AWS::Lambda::Alias"),
        ("ReceiverFromTopic", "AWS::SNS::Subscription"),
        ("ReceiverFromBus", "AWS::Events::Rule"),
    ):
        assert resources[logical_id]["type"] == type_name
    lam, sqs = client_for(server.url, "lambda"), client_for(server.url, "sqs")
    worker, chained, receiver = (
        out["WorkerFunction"],
        out["ChainedFunction"],
        out["ReceiverFunction"],
    )
    config = lam.get_function_event_invoke_config(FunctionName=worker, Qualifier="live")
    assert config["MaximumRetryAttempts"] == 0
    assert lam.get_function_configuration(FunctionName=worker)["Environment"]["Variables"] == {
        "STAGE": "prod"
    }

    def invoke(name: str, payload: Any, qualifier: str | None = None) -> str:
        extra = {"Qualifier": qualifier} if qualifier else {}
        response = lam.invoke(
            FunctionName=name, InvocationType="Event", Payload=json.dumps(payload), **extra
        )
        assert response["StatusCode"] == 202
        return str(response["ResponseMetadata"]["RequestId"])

    # SQS (created by SAM) on success, through the alias
    ok = invoke(worker, {"n": 1}, "live")
    (message,) = messages(sqs, out["SuccessQueueUrl"], 1)
    record = json.loads(message["Body"])
    assert record["requestContext"]["requestId"] == ok
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["functionArn"].endswith(f"{worker}:live")
    assert record["responsePayload"]["stage"] == "prod"

    # SNS (created by SAM) on failure -> raw to Records; and the dead-letter queue
    bad = invoke(worker, {"fail": True}, "live")
    (message,) = messages(sqs, out["RecordsUrl"], 1)
    record = json.loads(message["Body"])
    assert record["requestContext"]["requestId"] == bad
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responsePayload"]["errorMessage"] == "asked to fail"
    (dead,) = messages(sqs, out["DeadLettersUrl"], 1)
    assert json.loads(dead["Body"]) == {"fail": True}
    assert dead["MessageAttributes"]["RequestID"]["StringValue"] == bad

    # Lambda on success: the receiver gets the record as its event
    chained_ok = invoke(chained, {"n": 2})
    line = log_line(server.url, receiver, "EVENT", chained_ok)
    assert json.loads(line.removeprefix("EVENT "))["requestContext"]["condition"] == "Success"

    # EventBridge on failure: the bus's rule sends it to Records
    chained_bad = invoke(chained, {"fail": True})
    (message,) = messages(sqs, out["RecordsUrl"], 1)
    event = json.loads(message["Body"])
    assert event["source"] == "lambda"
    assert event["detail-type"] == "Lambda Function Invocation Result - Failure"
    assert event["detail"]["requestContext"]["requestId"] == chained_bad

    # the SAM events: an SNS subscription and an EventBridge rule invoke the receiver
    client_for(server.url, "sns").publish(TopicArn=out["AnnouncementsArn"], Message="hello topic")
    log_line(server.url, receiver, "EVENT", "hello topic")
    client_for(server.url, "events").put_events(
        Entries=[
            {
                "EventBusName": out["BusName"],
                "Source": "app.orders",
                "DetailType": "order",
                "Detail": json.dumps({"order": "o-17"}),
            }
        ]
    )
    log_line(server.url, receiver, "EVENT", "o-17")

    # a code change: the functions are updated in place, the alias moves to a new version
    # (the old one is retained, as SAM does); Stage keeps its value from the last deployment
    source = app / "src" / "app.py"
    source.write_text(source.read_text().replace('"ok": True', '"ok": "v2"'))
    again = deploy(server.url, app / "template.yaml", "--stack-name", "sam-app")
    changes = {c["logical_id"]: (c["action"], c["replacement"]) for c in again["changes"]}
    (old_version,) = [k for k in resources if k.startswith("WorkerVersion")]
    (new_version,) = [k for k in again["resources"] if k.startswith("WorkerVersion")]
    assert changes == {
        "Worker": ("Modify", "False"),
        "Chained": ("Modify", "False"),
        "Receiver": ("Modify", "False"),
        new_version: ("Add", ""),
        "WorkerAliaslive": ("Modify", "False"),
        old_version: ("Remove", ""),
    }
    assert again["outputs"]["WorkerFunction"] == worker
    versions = [
        v["Version"] for v in lam.list_versions_by_function(FunctionName=worker)["Versions"]
    ]
    assert versions == ["$LATEST", "1", "2"]
    assert lam.get_alias(FunctionName=worker, Name="live")["FunctionVersion"] == "2"
    assert lam.get_function_configuration(FunctionName=worker)["Environment"]["Variables"] == {
        "STAGE": "prod"
    }
    invoke(worker, {"n": 3}, "live")
    (message,) = messages(sqs, out["SuccessQueueUrl"], 1)
    assert json.loads(message["Body"])["responsePayload"]["ok"] == "v2"
    assert deploy(server.url, app / "template.yaml", "--stack-name", "sam-app")["changes"] == []

    assert sendoff(server.url, "stacks", "delete", "sam-app").returncode == 0
    assert worker not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]
