"""More async facts: throttles, $LATEST at dequeue, recursion detection, redrive, CLI."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import client_for
from tests.support.events import wait_terminal
from tests.support.functions import create_python, unique
from tests.support.server import start_server, wait_until
from tests.support.zips import make_zip

SLOW = "import time\ndef handler(event, context):\n    time.sleep(0.3)\n    return 'ok'\n"

SELF_INVOKER = """
import json, boto3
def handler(event, context):
    depth = event.get("depth", 0) + 1
    if depth < event.get("stop_at", 100):
        boto3.client("lambda").invoke(FunctionName=context.function_name, InvocationType="Event",
                                      Payload=json.dumps({**event, "depth": depth}))
    return depth
"""


def event_invoke(client: Any, name: str, payload: Any) -> str:
    resp = client.invoke(
        FunctionName=name, InvocationType="Event", Payload=json.dumps(payload).encode()
    )
    return str(resp["ResponseMetadata"]["RequestId"])


def test_throttles_back_off_without_using_retries(lambda_client: Any, server: Any) -> None:
    name = unique()
    create_python(lambda_client, name, source=SLOW)
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    lambda_client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    ids = [event_invoke(lambda_client, name, {"i": i}) for i in range(3)]
    events = [wait_terminal(server.url, i) for i in ids]
    assert all(e["state"] == "succeeded" for e in events)
    for e in events:
        assert e["body"]["outcome"]["record"]["requestContext"]["approximateInvokeCount"] == 1
    outcomes = [a["outcome"] for e in events for a in e["body"]["attempts"]]
    assert "throttled" in outcomes  # concurrency 1 and three events: some waited
    throttled = [
        e for e in events if any(a["outcome"] == "throttled" for a in e["body"]["attempts"])
    ]
    starts = [a["started_at"] for a in throttled[0]["body"]["attempts"]]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(g >= 0.01 * 0.9 for g in gaps)  # at least 1 s (scaled) between throttled tries


def test_latest_events_run_the_code_current_at_dequeue(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data, "--time-scale", "0.01", "--workers", "0")
    worker = None
    try:
        client = client_for(server.url, "lambda")
        name = unique()
        create_python(client, name, source="def handler(e, c):\n    return 'old'\n")
        ids = [event_invoke(client, name, {}) for _ in range(3)]
        client.update_function_code(
            FunctionName=name,
            ZipFile=make_zip({"app.py": "def handler(e, c):\n    return 'new'\n"}),
        )
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sendoff.cli.main",
                "worker",
                "--data-dir",
                str(data),
                "--port",
                str(server.port),
                "--time-scale",
                "0.01",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for request_id in ids:
            event = wait_terminal(server.url, request_id)
            assert event["body"]["outcome"]["record"]["responsePayload"] == "new"
    finally:
        if worker is not None:
            worker.terminate()
            assert worker.wait(20) == 0
        server.stop()


def test_recursive_loop_is_stopped_after_16(lambda_client: Any, server: Any) -> None:
    name = unique("loop")
    create_python(lambda_client, name, source=SELF_INVOKER)
    event_invoke(lambda_client, name, {})

    def dropped() -> list[dict[str, Any]]:
        page = httpx.get(
            f"{server.url}/_sendoff/events", params={"function": name, "state": "failed"}
        ).json()
        return list(page["events"])

    failed = wait_until(dropped, timeout=60, message="the loop to be stopped")
    assert failed[0]["condition"] == "RecursiveInvocationDetected"
    everything = httpx.get(f"{server.url}/_sendoff/events", params={"function": name}).json()
    succeeded = [e for e in everything["events"] if e["state"] == "succeeded"]
    assert len(succeeded) == 16
    metrics = httpx.get(f"{server.url}/metrics").text
    assert f'RecursiveInvocationsDropped_total{{function_name="{name}",resource="{name}"}} 1.0' in (
        metrics
    )


def test_recursive_loop_allowed(lambda_client: Any, server: Any) -> None:
    name = unique("allow")
    create_python(lambda_client, name, source=SELF_INVOKER)
    lambda_client.put_function_recursion_config(FunctionName=name, RecursiveLoop="Allow")
    event_invoke(lambda_client, name, {"stop_at": 20})

    def all_done() -> bool:
        page = httpx.get(f"{server.url}/_sendoff/events", params={"function": name}).json()
        states = [e["state"] for e in page["events"]]
        return len(states) == 20 and all(s == "succeeded" for s in states)

    wait_until(all_done, timeout=60, message="20 chained invocations")


def test_cli_events_list_show_and_redrive(lambda_client: Any, server: Any) -> None:
    name = unique()
    create_python(lambda_client, name)
    lambda_client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    request_id = event_invoke(lambda_client, name, {"fail": True})
    wait_terminal(server.url, request_id)

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "sendoff.cli.main", "--endpoint-url", server.url, *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    listing = cli("events", "list", name, "--state", "failed")
    assert request_id in listing and "RetriesExhausted" in listing
    shown = json.loads(cli("events", "show", request_id))
    assert shown["body"]["outcome"]["record"]["requestContext"]["requestId"] == request_id
    redriven = cli("events", "redrive", "--function", name).split()
    new_id = redriven[-1]
    assert wait_terminal(server.url, new_id)["body"]["redriven_from"] == request_id


SNS_LOOP = """
import json, os, boto3
def handler(event, context):
    boto3.client("sns").publish(TopicArn=os.environ["TOPIC"], Message="again")
    return "published"
"""


def test_recursive_loop_through_sns_is_stopped(lambda_client: Any, server: Any) -> None:
    sns = client_for(server.url, "sns")
    topic = sns.create_topic(Name=unique("loop"))["TopicArn"]
    name = unique("snsloop")
    create_python(lambda_client, name, source=SNS_LOOP, Environment={"Variables": {"TOPIC": topic}})
    fn_arn = lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn_arn)
    sns.publish(TopicArn=topic, Message="start")

    def dropped() -> list[dict[str, Any]]:
        page = httpx.get(
            f"{server.url}/_sendoff/events", params={"function": name, "state": "failed"}
        ).json()
        return list(page["events"])

    failed = wait_until(dropped, timeout=60, message="the SNS loop to be stopped")
    assert failed[0]["condition"] == "RecursiveInvocationDetected"
    page = httpx.get(f"{server.url}/_sendoff/events", params={"function": name}).json()
    assert sum(1 for e in page["events"] if e["state"] == "succeeded") == 16
