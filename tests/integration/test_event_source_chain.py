"""The announcement's chain, deployed from a SAM template: an asynchronous function's
OnFailure records go to a queue; an SQS event (an event source mapping, with partial batch
responses, a filter and ScalingConfig) runs a consumer on them; the record the consumer
refuses ends in the queue's DLQ."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tests.conftest import client_for
from tests.support.server import ServerProcess, wait_until
from tests.support.templates import TEMPLATES, deploy, logs, sendoff


def handled(url: str, function: str) -> list[dict[str, Any]]:
    prefix = "HANDLED "
    return [
        json.loads(line[len(prefix) :])
        for line in logs(url, function).splitlines()
        if line.startswith(prefix)
    ]


def test_async_failure_to_queue_to_consumer(server: ServerProcess, tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(TEMPLATES / "sam-sqs", app)
    result = deploy(server.url, app / "template.yaml", "--stack-name", "sam-sqs-chain")
    assert result["status"] == "CREATE_COMPLETE"
    assert result["resources"]["ConsumerFromFailures"]["type"] == (
        "AWS::Lambda::EventSourceMapping"
    )
    out = result["outputs"]
    lam, sqs = client_for(server.url, "lambda"), client_for(server.url, "sqs")
    mapping = lam.get_event_source_mapping(UUID=out["Mapping"])
    assert mapping["State"] == "Enabled"
    assert mapping["BatchSize"] == 5
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 2}
    assert mapping["FunctionArn"].endswith(":function:" + out["ConsumerFunction"])

    orders = ["a", "b", "poison", "c"]
    for order in orders:
        lam.invoke(
            FunctionName=out["ProducerFunction"], InvocationType="Event",
            Payload=json.dumps({"order": order}).encode(),
        )  # fmt: skip
    seen = wait_until(
        lambda: (h := handled(server.url, out["ConsumerFunction"])) and len(h) >= 3 and h,
        timeout=60, message="three orders handled",
    )  # fmt: skip
    assert sorted(h["order"] for h in seen) == ["a", "b", "c"]
    assert {h["condition"] for h in seen} == {"RetriesExhausted"}
    assert {h["error"] for h in seen} == {f"order {o} failed" for o in "abc"}
    assert all("Root=" in h["trace"] for h in seen)  # the lineage flows with the record

    def poisoned() -> list[dict[str, Any]]:
        got = sqs.receive_message(QueueUrl=out["PoisonUrl"], WaitTimeSeconds=1)
        return list(got.get("Messages", []))

    (dead,) = wait_until(poisoned, timeout=30, message="the poison record in the DLQ")
    assert json.loads(dead["Body"])["requestPayload"] == {"order": "poison"}
    assert len(handled(server.url, out["ConsumerFunction"])) == 3

    again = deploy(server.url, app / "template.yaml", "--stack-name", "sam-sqs-chain",
                   "--parameter-overrides", "BatchSize=3")  # fmt: skip
    assert again["outputs"]["Mapping"] == out["Mapping"]  # updated in place
    assert lam.get_event_source_mapping(UUID=out["Mapping"])["BatchSize"] == 3
    done = sendoff(server.url, "stacks", "delete", "sam-sqs-chain")
    assert done.returncode == 0, done.stderr
    assert lam.list_event_source_mappings(FunctionName=out["ConsumerFunction"])[
        "EventSourceMappings"
    ] == []  # fmt: skip
