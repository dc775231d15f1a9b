"""The Lambda API driven by the real AWS CLI, and sendoff's own CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.cli import aws, sendoff
from tests.support.functions import PY_ECHO, ROLE, unique, wait_active
from tests.support.zips import make_zip


def test_aws_cli_function_lifecycle(server: Any, tmp_path: Path) -> None:
    url = server.url
    name = unique("cli")
    (tmp_path / "fn.zip").write_bytes(make_zip({"app.py": PY_ECHO}))
    created = aws(
        url,
        "lambda",
        "create-function",
        "--function-name",
        name,
        "--runtime",
        "python3.12",
        "--handler",
        "app.handler",
        "--role",
        ROLE,
        "--zip-file",
        "fileb://fn.zip",
        "--environment",
        "Variables={GREETING=hey}",
        cwd=tmp_path,
    )
    assert created["FunctionName"] == name and created["Version"] == "$LATEST"
    assert created["State"] == "Pending" and created["StateReasonCode"] == "Creating"
    aws(url, "lambda", "wait", "function-active-v2", "--function-name", name)
    got = aws(url, "lambda", "get-function", "--function-name", name)
    assert got["Configuration"]["Environment"] == {"Variables": {"GREETING": "hey"}}
    listed = aws(url, "lambda", "list-functions")
    assert name in [f["FunctionName"] for f in listed["Functions"]]
    conf = aws(
        url, "lambda", "update-function-configuration", "--function-name", name, "--timeout", "20"
    )
    assert conf["Timeout"] == 20
    aws(url, "lambda", "wait", "function-updated-v2", "--function-name", name)
    aws(
        url,
        "lambda",
        "update-function-code",
        "--function-name",
        name,
        "--zip-file",
        "fileb://fn.zip",
        "--publish",
        cwd=tmp_path,
    )
    versions = aws(url, "lambda", "list-versions-by-function", "--function-name", name)
    assert [v["Version"] for v in versions["Versions"]] == ["$LATEST", "1"]
    aws(
        url,
        "lambda",
        "create-alias",
        "--function-name",
        name,
        "--name",
        "prod",
        "--function-version",
        "1",
    )
    assert (
        aws(url, "lambda", "get-alias", "--function-name", name, "--name", "prod")[
            "FunctionVersion"
        ]
        == "1"
    )
    aws(
        url,
        "lambda",
        "put-function-concurrency",
        "--function-name",
        name,
        "--reserved-concurrent-executions",
        "5",
    )
    assert (
        aws(url, "lambda", "get-function-concurrency", "--function-name", name)[
            "ReservedConcurrentExecutions"
        ]
        == 5
    )
    out = aws(
        url,
        "lambda",
        "invoke",
        "--function-name",
        name,
        "--qualifier",
        "prod",
        "--payload",
        '{"via": "cli"}',
        "--log-type",
        "Tail",
        "out.json",
        cwd=tmp_path,
    )
    assert out["StatusCode"] == 200 and out["ExecutedVersion"] == "1"
    assert json.loads((tmp_path / "out.json").read_text())["event"] == {"via": "cli"}
    event = aws(
        url,
        "lambda",
        "invoke",
        "--function-name",
        name,
        "--invocation-type",
        "Event",
        "--payload",
        "{}",
        "out2.json",
        cwd=tmp_path,
    )
    assert event["StatusCode"] == 202
    aws(
        url,
        "lambda",
        "put-function-event-invoke-config",
        "--function-name",
        name,
        "--maximum-retry-attempts",
        "1",
    )
    cfg = aws(url, "lambda", "get-function-event-invoke-config", "--function-name", name)
    assert cfg["MaximumRetryAttempts"] == 1
    aws(url, "lambda", "delete-alias", "--function-name", name, "--name", "prod")
    aws(url, "lambda", "delete-function", "--function-name", name)
    missing = aws(url, "lambda", "get-function", "--function-name", name, check=False)
    assert missing.returncode != 0 and "ResourceNotFoundException" in missing.stderr


def test_sendoff_cli_functions_invoke_logs(server: Any, lambda_client: Any) -> None:
    name = unique("scli")
    lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": PY_ECHO})},
    )
    wait_active(lambda_client, name)
    listing = sendoff(server.url, "functions", "list")
    assert listing.returncode == 0 and name in listing.stdout
    done = sendoff(server.url, "invoke", name, "--payload", '{"print": "cli-marker"}')
    assert done.returncode == 0
    assert json.loads(done.stdout)["event"] == {"print": "cli-marker"}
    assert "cli-marker" in done.stderr  # the log tail
    failed = sendoff(server.url, "invoke", name, "--payload", '{"fail": true}')
    assert failed.returncode == 1 and "ValueError" in failed.stdout
    logs = sendoff(server.url, "logs", name)
    assert "cli-marker" in logs.stdout and "REPORT RequestId" in logs.stdout


def test_sendoff_cli_friendly_errors(server: Any) -> None:
    bad = sendoff(server.url, "invoke", "no-such-function")
    assert bad.returncode == 1
    assert bad.stderr.startswith("sendoff: ResourceNotFoundException: Function not found")
    assert "Traceback" not in bad.stderr
    down = sendoff("http://127.0.0.1:9", "functions", "list")
    assert down.returncode == 1 and "cannot reach sendoff" in down.stderr
    invalid = sendoff(server.url, "invoke", "x", "--payload", "{nope")
    assert invalid.returncode == 1 and "not valid JSON" in invalid.stderr


def test_function_printing_megabytes(lambda_client: Any) -> None:
    name = unique("loud")
    source = "def handler(event, context):\n    print('x' * 10_000_000)\n    return 'done'\n"
    lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": source})},
    )
    wait_active(lambda_client, name)
    resp = lambda_client.invoke(FunctionName=name, LogType="Tail")
    assert resp["Payload"].read() == b'"done"'
    assert len(resp["LogResult"]) < 8192  # only the tail comes back
    again = lambda_client.invoke(FunctionName=name)
    assert again["StatusCode"] == 200


def test_sendoff_cli_json_output(server: Any, lambda_client: Any) -> None:
    name = unique("json")
    lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": PY_ECHO})},
    )
    wait_active(lambda_client, name)
    listed = sendoff(server.url, "functions", "list", "--output", "json")
    assert listed.returncode == 0
    assert name in [f["FunctionName"] for f in json.loads(listed.stdout)]
    for command in (["events", "list"], ["queues", "list"], ["topics", "list"], ["buses", "list"]):
        done = sendoff(server.url, *command, "-o", "json")
        assert done.returncode == 0, done.stderr
        json.loads(done.stdout)
