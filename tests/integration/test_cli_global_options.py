"""Issue 12.2: ``--endpoint-url``, ``--output`` and ``--region`` go before or after any
command, as with the AWS CLI. Every client command runs as a subprocess against the real
server with the global options after it; the default endpoint points at a closed port, so
a command that ignored ``--endpoint-url`` would fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import client_for
from tests.support.functions import create_python, unique
from tests.support.server import ServerProcess, free_port, start_server, wait_until

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Queue:
    Type: AWS::SQS::Queue
Outputs:
  QueueUrl:
    Value: !Ref Queue
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path_factory.mktemp("cli-globals"), "--time-scale", "0.01")
    yield proc
    assert proc.stop() == 0, proc.log()[-4000:]


def run(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SENDOFF_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    env.pop("SENDOFF_OUTPUT", None)
    return subprocess.run(
        [sys.executable, "-m", "sendoff.cli.main", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def after(server: ServerProcess, *argv: str) -> Any:
    """Run ``sendoff <argv> --endpoint-url URL --output json --region us-east-1``; its JSON."""
    done = run(*argv, "--endpoint-url", server.url, "--output", "json", "--region", "us-east-1")
    assert done.returncode == 0, f"{argv}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout) if done.stdout.strip().startswith(("{", "[")) else done.stdout


@pytest.fixture(scope="module")
def world(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    lam = client_for(server.url, "lambda")
    name = unique("globals")
    create_python(lam, name)
    event = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"print": "hi"}')
    request_id = event["ResponseMetadata"]["RequestId"]
    queue = client_for(server.url, "sqs").create_queue(QueueName=unique("q"))["QueueUrl"]
    client_for(server.url, "sns").create_topic(Name=unique("t"))
    client_for(server.url, "events").put_rule(Name=unique("r"), EventPattern='{"source": ["x"]}')
    folder = tmp_path_factory.mktemp("tpl")
    (folder / "template.yaml").write_text(TEMPLATE)
    return {"function": name, "event": request_id, "queue": queue, "template": str(folder)}


def test_the_default_endpoint_is_unreachable_so_the_options_matter(server: ServerProcess) -> None:
    done = run("functions", "list")
    assert done.returncode == 1 and "cannot reach sendoff" in done.stderr


def test_functions_list(server: ServerProcess, world: dict[str, str]) -> None:
    rows = after(server, "functions", "list")
    assert world["function"] in [r["FunctionName"] for r in rows]


def test_invoke(server: ServerProcess, world: dict[str, str]) -> None:
    out = after(server, "invoke", world["function"], "--payload", '{"a": 1}')
    assert out["event"] == {"a": 1}


def test_logs(server: ServerProcess, world: dict[str, str]) -> None:
    after(server, "invoke", world["function"], "--payload", '{"print": "marker-12-2"}')
    assert "marker-12-2" in after(server, "logs", world["function"])


def test_events_list_and_show(server: ServerProcess, world: dict[str, str]) -> None:
    rows = after(server, "events", "list", world["function"])
    assert world["event"] in [r["id"] for r in rows]
    shown = after(server, "events", "show", world["event"])
    assert shown["id"] == world["event"]


def test_events_redrive(server: ServerProcess, world: dict[str, str]) -> None:
    out = after(server, "events", "redrive", "--function", world["function"])
    assert out.startswith("redriven 0 event(s)")


def test_options_between_command_levels(server: ServerProcess, world: dict[str, str]) -> None:
    done = run("events", "--endpoint-url", server.url, "-o", "json", "list")
    assert done.returncode == 0, done.stderr
    assert isinstance(json.loads(done.stdout), list)


def test_options_before_the_command_still_work(server: ServerProcess) -> None:
    done = run("--endpoint-url", server.url, "--output", "json", "queues", "list")
    assert done.returncode == 0, done.stderr
    json.loads(done.stdout)


def test_buses_list(server: ServerProcess, world: dict[str, str]) -> None:
    overview = after(server, "buses", "list")
    assert overview["region"] == "us-east-1" and overview["buses"]


def test_queues_list_and_receive(server: ServerProcess, world: dict[str, str]) -> None:
    listed = after(server, "queues", "list")
    assert world["queue"] in json.dumps(listed)
    client_for(server.url, "sqs").send_message(QueueUrl=world["queue"], MessageBody="m-12-2")
    out = after(server, "queues", "receive", world["queue"], "--wait", "5")
    assert "m-12-2" in json.dumps(out)


def test_topics_list(server: ServerProcess, world: dict[str, str]) -> None:
    assert after(server, "topics", "list")["topics"]


def test_deploy_and_stacks(server: ServerProcess, world: dict[str, str]) -> None:
    folder = Path(world["template"])
    result = after(server, "deploy", str(folder / "template.yaml"), "--stack-name", "globals")
    assert result["status"] == "CREATE_COMPLETE"
    stacks = after(server, "stacks", "list")
    assert "globals" in json.dumps(stacks)
    described = after(server, "stacks", "describe", "globals")
    assert described["outputs"]["QueueUrl"]
    after(server, "stacks", "delete", "globals")
    wait_until(
        lambda: "globals" not in json.dumps(after(server, "stacks", "list")),
        timeout=30,
        message="the stack gone",
    )
