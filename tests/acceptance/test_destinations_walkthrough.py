"""The AWS Lambda Destinations announcement, step by step, with the real AWS CLI.

A Node.js function (the article's handler, unchanged) has OnSuccess -> an SNS topic,
subscribed by an SQS queue and by email (a local SMTP server), and OnFailure -> another
Lambda function. ``aws lambda invoke --invocation-type Event`` answers 202; the success
record arrives by email and in the queue; the failure record, RetriesExhausted after 3
attempts with the stack trace, shows in the failure function's logs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.integration.test_lambda_invoke import SEED_HANDLER
from tests.support.cli import aws as run_aws
from tests.support.server import ServerProcess, free_port, start_server, wait_until
from tests.support.zips import make_zip

FAILURE_HANDLER = """
exports.handler = async (event) => {
  console.log('EVENT\\n' + JSON.stringify(event, null, 2));
  return 'logged';
};
"""


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def sendoff(tmp_path: Path, smtp: tuple[Inbox, int]) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path / "data", "--time-scale", "0.01", "--smtp-url", f"smtp://127.0.0.1:{smtp[1]}"
    )
    yield server
    server.stop()


def aws(server: ServerProcess, tmp_path: Path, *args: str) -> Any:
    return run_aws(server.url, *args, cwd=tmp_path, region="sa-east-1")


def test_walkthrough(sendoff: ServerProcess, smtp: tuple[Inbox, int], tmp_path: Path) -> None:
    inbox, _ = smtp
    role = "arn:aws:iam::000000000000:role/destinations"
    (tmp_path / "tester.zip").write_bytes(make_zip({"index.js": SEED_HANDLER}))
    (tmp_path / "failure.zip").write_bytes(make_zip({"index.js": FAILURE_HANDLER}))
    fn = aws(
        sendoff,
        tmp_path,
        "lambda",
        "create-function",
        "--function-name",
        "event-destinations",
        "--runtime",
        "nodejs20.x",
        "--handler",
        "index.handler",
        "--role",
        role,
        "--zip-file",
        "fileb://tester.zip",
    )
    failure_fn = aws(
        sendoff,
        tmp_path,
        "lambda",
        "create-function",
        "--function-name",
        "destination-failure",
        "--runtime",
        "nodejs20.x",
        "--handler",
        "index.handler",
        "--role",
        role,
        "--zip-file",
        "fileb://failure.zip",
    )
    for name in ("event-destinations", "destination-failure"):  # as a script on AWS must
        aws(sendoff, tmp_path, "lambda", "wait", "function-active-v2", "--function-name", name)
    topic = aws(sendoff, tmp_path, "sns", "create-topic", "--name", "destinations")["TopicArn"]
    queue_url = aws(sendoff, tmp_path, "sqs", "create-queue", "--queue-name", "records")["QueueUrl"]
    queue_arn = aws(
        sendoff,
        tmp_path,
        "sqs",
        "get-queue-attributes",
        "--queue-url",
        queue_url,
        "--attribute-names",
        "QueueArn",
    )["Attributes"]["QueueArn"]
    aws(
        sendoff,
        tmp_path,
        "sns",
        "subscribe",
        "--topic-arn",
        topic,
        "--protocol",
        "sqs",
        "--notification-endpoint",
        queue_arn,
    )
    aws(
        sendoff,
        tmp_path,
        "sns",
        "subscribe",
        "--topic-arn",
        topic,
        "--protocol",
        "email",
        "--notification-endpoint",
        "me@example.com",
    )
    aws(
        sendoff,
        tmp_path,
        "lambda",
        "put-function-event-invoke-config",
        "--function-name",
        "event-destinations",
        "--destination-config",
        json.dumps(
            {
                "OnSuccess": {"Destination": topic},
                "OnFailure": {"Destination": failure_fn["FunctionArn"]},
            }
        ),
    )

    # Success testing
    out = aws(
        sendoff,
        tmp_path,
        "lambda",
        "invoke",
        "--function-name",
        "event-destinations",
        "--invocation-type",
        "Event",
        "--payload",
        '{ "Success": true }',
        "response.json",
    )
    assert out["StatusCode"] == 202
    mail = wait_until(
        lambda: inbox.messages[0] if inbox.messages else None,
        timeout=60,
        message="the SNS notification email",
    )
    text = mail.get_payload(decode=True).decode()
    record, _ = json.JSONDecoder().raw_decode(text)  # the message, then SNS's email footer
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["functionArn"] == f"{fn['FunctionArn']}:$LATEST"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestPayload"] == {"Success": True}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] is None
    received = aws(
        sendoff,
        tmp_path,
        "sqs",
        "receive-message",
        "--queue-url",
        queue_url,
        "--wait-time-seconds",
        "5",
    )
    assert json.loads(json.loads(received["Messages"][0]["Body"])["Message"]) == record

    # Failure testing
    out = aws(
        sendoff,
        tmp_path,
        "lambda",
        "invoke",
        "--function-name",
        "event-destinations",
        "--invocation-type",
        "Event",
        "--payload",
        '{ "Success": false }',
        "response.json",
    )
    assert out["StatusCode"] == 202

    def failure_logged() -> dict[str, Any] | None:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "sendoff.cli.main",
                "--endpoint-url",
                sendoff.url,
                "logs",
                "destination-failure",
                "--region",  # logs are regional, as CloudWatch Logs' are
                "sa-east-1",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        text = done.stdout
        if "EVENT" not in text:
            return None
        body = text.split("EVENT", 1)[1]
        body = body[: body.index("\nEND RequestId")]
        start = body.index("{")
        logged: dict[str, Any] = json.loads(body[start:])
        return logged

    failure = wait_until(failure_logged, timeout=60, message="the failure record in the logs")
    assert failure["requestContext"]["condition"] == "RetriesExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert failure["requestPayload"] == {"Success": False}
    assert failure["responseContext"]["functionError"] == "Unhandled"
    payload = failure["responsePayload"]
    assert payload["errorType"] == "Error"
    assert payload["errorMessage"] == "Failure from event, Success = false, I am failing!"
    assert any("index.js" in line for line in payload["trace"])
