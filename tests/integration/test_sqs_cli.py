"""``sendoff queues list|receive`` against the real server."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from sendoff.cli.main import main
from tests.conftest import client_for
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def sqs(server: ServerProcess) -> Any:
    return client_for(server.url, "sqs")


def test_queues_list_and_receive(
    sqs: Any, server: ServerProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"cli-{uuid.uuid4().hex[:10]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(
        QueueUrl=url,
        MessageBody="one",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )
    sqs.send_message(QueueUrl=url, MessageBody="two")
    assert main(["--endpoint-url", server.url, "queues", "list", "--prefix", name]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["NAME", "VISIBLE", "IN", "FLIGHT", "DELAYED", "URL"]
    assert out[1].split() == [name, "2", "0", "0", url]

    assert main(["--endpoint-url", server.url, "queues", "receive", name, "--delete"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(m["Body"] for m in lines) == ["one", "two"]
    one = next(m for m in lines if m["Body"] == "one")
    assert one["MessageAttributes"]["k"]["StringValue"] == "v"
    assert one["Attributes"]["ApproximateReceiveCount"] == "1"
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == attrs["ApproximateNumberOfMessagesNotVisible"]
    assert attrs["ApproximateNumberOfMessages"] == "0"

    assert main(["--endpoint-url", server.url, "queues", "receive", url]) == 0
    assert "no messages" in capsys.readouterr().err


def test_queues_errors_and_regions(
    server: ServerProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--endpoint-url", server.url, "queues", "receive", "no-such-queue"]) == 1
    assert "QueueDoesNotExist" in capsys.readouterr().err
    west = client_for(server.url, "sqs", "eu-west-1")
    name = f"west-{uuid.uuid4().hex[:8]}"
    west.create_queue(QueueName=name)
    assert main(["--endpoint-url", server.url, "queues", "list", "--prefix", name]) == 0
    assert capsys.readouterr().out.strip() == "no queues"
    args = [
        "--endpoint-url",
        server.url,
        "queues",
        "list",
        "--prefix",
        name,
        "--region",
        "eu-west-1",
    ]
    assert main(args) == 0
    assert name in capsys.readouterr().out
