"""The CloudWatch Logs API against a real server running real functions: boto3 and the
``aws logs`` CLI (v1) read the START/END/REPORT lines and the function's own lines from
``/aws/lambda/<fn>``; groups, streams, tokens, filter patterns, retention, tags, errors
and scoping by region and by account (``--auth sigv4``)."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.support.cli import aws, sendoff
from tests.support.functions import create_python, unique
from tests.support.server import ServerProcess, start_server, wait_until
from tests.tools.clients import sam_or_skip

STREAM_NAME = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
REPORT = re.compile(
    rf"^REPORT RequestId: {UUID}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
    r"Memory Size: 128 MB\tMax Memory Used: \d+ MB\t(Init Duration: \d+\.\d\d ms\t)?$"
)

PRINTER = """
import json

def handler(event, context):
    print("hello from", context.function_name)
    print(json.dumps({"level": event.get("level", "INFO"), "n": event.get("n", 0)}))
    return "ok"
"""


@pytest.fixture(scope="module")
def logs(server: ServerProcess) -> Any:
    return client_for(server.url, "logs")


def _code(error: ClientError) -> tuple[str, str]:
    return error.response["Error"]["Code"], error.response["Error"]["Message"]


def _put(logs: Any, group: str, stream: str, messages: list[str], start_ms: int) -> None:
    events = [{"timestamp": start_ms + i, "message": m} for i, m in enumerate(messages)]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


@pytest.fixture(scope="module")
def invoked(server: ServerProcess, lambda_client: Any, logs: Any) -> dict[str, Any]:
    """A function invoked three times; its group once every line is there."""
    name = unique("logs")
    create_python(lambda_client, name, PRINTER)
    for n in range(3):
        payload = json.dumps({"n": n, "level": "ERROR" if n == 1 else "INFO"})
        lambda_client.invoke(FunctionName=name, Payload=payload)
    group = f"/aws/lambda/{name}"

    def all_reports() -> list[dict[str, Any]] | None:
        found = logs.filter_log_events(logGroupName=group, filterPattern="REPORT")["events"]
        return found if len(found) == 3 else None

    wait_until(all_reports, message="three REPORT lines")
    return {"name": name, "group": group}


def test_function_lines_land_in_its_group_as_aws_writes_them(
    logs: Any, invoked: dict[str, Any]
) -> None:
    group = invoked["group"]
    described = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [g["logGroupName"] for g in described] == [group]
    assert described[0]["arn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{group}:*"
    assert described[0]["storedBytes"] > 0
    streams = logs.describe_log_streams(
        logGroupName=group, orderBy="LastEventTime", descending=True
    )["logStreams"]
    assert streams and all(STREAM_NAME.match(s["logStreamName"]) for s in streams)
    stream = streams[0]
    assert stream["firstEventTimestamp"] <= stream["lastEventTimestamp"]
    messages = [
        e["message"]
        for s in streams
        for e in logs.get_log_events(
            logGroupName=group, logStreamName=s["logStreamName"], startFromHead=True
        )["events"]
    ]
    starts = [m for m in messages if m.startswith("START")]
    assert len(starts) == 3
    assert all(re.fullmatch(rf"START RequestId: {UUID} Version: \$LATEST", m) for m in starts)
    assert sum(bool(re.fullmatch(rf"END RequestId: {UUID}", m)) for m in messages) == 3
    reports = [m for m in messages if m.startswith("REPORT")]
    assert len(reports) == 3 and all(REPORT.match(m) for m in reports)
    assert sum("Init Duration" in m for m in reports) == len(streams)  # one per cold start
    assert messages.count(f"hello from {invoked['name']}") == 3


def test_filter_patterns_on_function_logs(logs: Any, invoked: dict[str, Any]) -> None:
    group = invoked["group"]

    def matched(pattern: str) -> list[str]:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=group, filterPattern=pattern
        )
        return [e["message"] for page in pages for e in page["events"]]

    assert len(matched("START")) == 3
    assert len(matched("?START ?END")) == 6
    assert len(matched('"hello from"')) == 3
    assert matched('{ $.level = "ERROR" }') == ['{"level": "ERROR", "n": 1}']
    assert len(matched("{ $.n >= 1 }")) == 2
    assert matched('{ $.level = "ERROR" && $.n > 1 }') == []
    assert len(matched('{ $.level = "INF*" || $.n = 1 }')) == 3
    assert len(matched("hello -START")) == 3
    assert matched("nothing-like-this") == []


def test_aws_cli_filter_log_events_and_sendoff_logs(
    server: ServerProcess, invoked: dict[str, Any]
) -> None:
    out = aws(server.url, "logs", "filter-log-events", "--log-group-name", invoked["group"],
              "--filter-pattern", "REPORT")  # fmt: skip
    assert len(out["events"]) == 3 and all(REPORT.match(e["message"]) for e in out["events"])
    groups = aws(server.url, "logs", "describe-log-groups", "--log-group-name-prefix",
                 invoked["group"])  # fmt: skip
    assert [g["logGroupName"] for g in groups["logGroups"]] == [invoked["group"]]
    done = sendoff(server.url, "logs", invoked["name"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("START RequestId:") == 3


def test_get_log_events_tokens_like_aws(logs: Any) -> None:
    group, stream = f"/custom/{unique('g')}", "s1"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(time.time() * 1000)
    _put(logs, group, stream, [f"line {i}" for i in range(5)], now - 10_000)

    first = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True,
                                limit=2)  # fmt: skip
    assert [e["message"] for e in first["events"]] == ["line 0", "line 1"]
    assert re.fullmatch(r"f/\d{56}", first["nextForwardToken"])
    assert re.fullmatch(r"b/\d{56}", first["nextBackwardToken"])
    seen, token = [], first["nextForwardToken"]
    while True:
        page = logs.get_log_events(logGroupName=group, logStreamName=stream, nextToken=token,
                                   limit=2)  # fmt: skip
        seen += [e["message"] for e in page["events"]]
        if page["nextForwardToken"] == token:  # the same token back: the end
            assert page["events"] == []
            break
        token = page["nextForwardToken"]
    assert seen == ["line 2", "line 3", "line 4"]

    newest = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=2)
    assert [e["message"] for e in newest["events"]] == ["line 3", "line 4"]
    back = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=2,
                               nextToken=newest["nextBackwardToken"])  # fmt: skip
    assert [e["message"] for e in back["events"]] == ["line 1", "line 2"]
    timed = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True,
                                startTime=now - 9_999, endTime=now - 9_997)  # fmt: skip
    assert [e["message"] for e in timed["events"]] == ["line 1", "line 2"]  # end exclusive
    empty = logs.get_log_events(logGroupName=group, logStreamName=stream, startTime=now)
    assert empty["events"] == []


def test_filter_interleaves_streams_and_pages(server: ServerProcess, logs: Any) -> None:
    group = f"/custom/{unique('f')}"
    logs.create_log_group(logGroupName=group)
    now = int(time.time() * 1000)
    for stream in ("a-1", "a-2", "b-1"):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    _put(logs, group, "a-1", ["ERROR one", "fine"], now - 5000)
    _put(logs, group, "a-2", ["ERROR two"], now - 4000)
    _put(logs, group, "b-1", ["ERROR three", '{"status": 503, "path": "/x"}'], now - 3000)

    both = logs.filter_log_events(logGroupName=group, filterPattern="ERROR")["events"]
    assert [(e["logStreamName"], e["message"]) for e in both] == [
        ("a-1", "ERROR one"), ("a-2", "ERROR two"), ("b-1", "ERROR three")]  # fmt: skip
    assert all(set(e) == {"logStreamName", "timestamp", "message", "ingestionTime", "eventId"}
               for e in both)  # fmt: skip
    prefixed = logs.filter_log_events(logGroupName=group, logStreamNamePrefix="a-")
    assert [e["message"] for e in prefixed["events"]] == ["ERROR one", "fine", "ERROR two"]
    named = logs.filter_log_events(logGroupName=group, logStreamNames=["b-1"],
                                   filterPattern="{ $.status >= 500 }")  # fmt: skip
    assert [e["message"] for e in named["events"]] == ['{"status": 503, "path": "/x"}']
    timed = logs.filter_log_events(logGroupName=group, startTime=now - 4000, endTime=now - 3000)
    assert [e["message"] for e in timed["events"]] == ["ERROR two", "ERROR three"]

    page = logs.filter_log_events(logGroupName=group, filterPattern="ERROR", limit=2)
    assert len(page["events"]) == 2 and "nextToken" in page
    rest = logs.filter_log_events(logGroupName=group, filterPattern="ERROR",
                                  nextToken=page["nextToken"])  # fmt: skip
    assert [e["message"] for e in rest["events"]] == ["ERROR three"]
    assert "nextToken" not in rest

    out = aws(server.url, "logs", "filter-log-events", "--log-group-name", group,
              "--log-stream-names", "a-1", "b-1", "--filter-pattern", "?three ?fine")  # fmt: skip
    assert [e["message"] for e in out["events"]] == ["fine", "ERROR three"]
    got = aws(server.url, "logs", "get-log-events", "--log-group-name", group,
              "--log-stream-name", "a-1", "--start-from-head")  # fmt: skip
    assert [e["message"] for e in got["events"]] == ["ERROR one", "fine"]


def test_groups_streams_paging_retention_and_tags(logs: Any) -> None:
    base = f"/paged/{unique('p')}"
    for i in range(3):
        logs.create_log_group(logGroupName=f"{base}/{i}", tags={"team": f"t{i}"})
    page = logs.describe_log_groups(logGroupNamePrefix=base, limit=2)
    assert [g["logGroupName"] for g in page["logGroups"]] == [f"{base}/0", f"{base}/1"]
    rest = logs.describe_log_groups(logGroupNamePrefix=base, nextToken=page["nextToken"])
    assert [g["logGroupName"] for g in rest["logGroups"]] == [f"{base}/2"]
    pattern = base.split("/")[-1]
    by_pattern = logs.describe_log_groups(logGroupNamePattern=pattern)["logGroups"]
    assert len(by_pattern) == 3

    group = f"{base}/0"
    logs.put_retention_policy(logGroupName=group, retentionInDays=3)
    described = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    assert described["retentionInDays"] == 3
    logs.delete_retention_policy(logGroupName=group)
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix=group)[
        "logGroups"][0]  # fmt: skip
    with pytest.raises(ClientError) as bad_days:
        logs.put_retention_policy(logGroupName=group, retentionInDays=2)
    assert _code(bad_days.value)[0] == "InvalidParameterException"

    assert logs.list_tags_log_group(logGroupName=group)["tags"] == {"team": "t0"}
    logs.tag_log_group(logGroupName=group, tags={"env": "dev"})
    arn = described["logGroupArn"]
    logs.tag_resource(resourceArn=arn, tags={"cost": "1"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {
        "team": "t0", "env": "dev", "cost": "1"}  # fmt: skip
    logs.untag_resource(resourceArn=arn, tagKeys=["team"])
    logs.untag_log_group(logGroupName=group, tags=["env"])
    assert logs.list_tags_log_group(logGroupName=group)["tags"] == {"cost": "1"}

    for name in ("z", "a", "m"):
        logs.create_log_stream(logGroupName=group, logStreamName=name)
    now = int(time.time() * 1000)
    _put(logs, group, "z", ["old"], now - 3000)
    _put(logs, group, "a", ["newer"], now - 2000)
    by_name = logs.describe_log_streams(logGroupName=group, limit=2)
    assert [s["logStreamName"] for s in by_name["logStreams"]] == ["a", "m"]
    more = logs.describe_log_streams(logGroupName=group, nextToken=by_name["nextToken"])
    assert [s["logStreamName"] for s in more["logStreams"]] == ["z"]
    latest = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime",
                                       descending=True)["logStreams"]  # fmt: skip
    assert [s["logStreamName"] for s in latest] == ["a", "z", "m"]

    logs.delete_log_group(logGroupName=group)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
    logs.create_log_group(logGroupName=group)  # a new, empty group of the same name
    assert logs.describe_log_streams(logGroupName=group)["logStreams"] == []


FRESH = 'fresh "é" \\ \t ✓ \u2028 </script>'  # what the answer's JSON must escape


def test_put_log_events_rejects_like_aws(logs: Any) -> None:
    group = f"/custom/{unique('r')}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000)
    ancient = now - 15 * 86_400_000  # a batch spans at most 24 hours: all too old
    old = logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": ancient, "message": "ancient"},
        {"timestamp": ancient + 1, "message": "ancient too"},
    ])  # fmt: skip
    assert old["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 2}
    logs.put_log_events(logGroupName=group, logStreamName="s",
                        logEvents=[{"timestamp": now, "message": FRESH}])  # fmt: skip
    new = logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": now + 1, "message": "soon"},
        {"timestamp": now + 3 * 3_600_000, "message": "future"},
    ])  # fmt: skip
    assert new["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
    kept = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True)
    assert [e["message"] for e in kept["events"]] == [FRESH, "soon"]
    found = logs.filter_log_events(logGroupName=group, filterPattern='"\\"é\\""')["events"]
    assert [e["message"] for e in found] == [FRESH]
    with pytest.raises(ClientError) as order:
        backwards = [{"timestamp": now, "message": "b"}, {"timestamp": now - 1, "message": "a"}]
        logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=backwards)
    assert _code(order.value) == (
        "InvalidParameterException",
        "Log events in a single PutLogEvents request must be in chronological order.",
    )


def test_errors_in_aws_words(logs: Any) -> None:
    group = f"/custom/{unique('e')}"
    cases: list[tuple[Any, tuple[str, str]]] = [
        (lambda: logs.describe_log_streams(logGroupName=group),
         ("ResourceNotFoundException", "The specified log group does not exist.")),
        (lambda: logs.filter_log_events(logGroupName=group),
         ("ResourceNotFoundException", "The specified log group does not exist.")),
        (lambda: logs.delete_log_group(logGroupName=group),
         ("ResourceNotFoundException", "The specified log group does not exist.")),
    ]  # fmt: skip
    for call, expected in cases:
        with pytest.raises(ClientError) as caught:
            call()
        assert _code(caught.value) == expected
    logs.create_log_group(logGroupName=group)
    more: list[tuple[Any, tuple[str, str]]] = [
        (lambda: logs.create_log_group(logGroupName=group),
         ("ResourceAlreadyExistsException", "The specified log group already exists")),
        (lambda: logs.get_log_events(logGroupName=group, logStreamName="nope"),
         ("ResourceNotFoundException", "The specified log stream does not exist.")),
        (lambda: logs.filter_log_events(logGroupName=group, nextToken="garbage"),
         ("InvalidParameterException", "The specified nextToken is invalid.")),
        (lambda: logs.filter_log_events(logGroupName=group, limit=10001),
         ("InvalidParameterException",
          "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint:"
          " Member must have value less than or equal to 10000")),
        (lambda: logs.filter_log_events(logGroupName=group, filterPattern='{ $.a = }'),
         ("InvalidParameterException", None)),
        (lambda: logs.describe_log_groups(logGroupNamePrefix="/a", logGroupNamePattern="a"),
         ("InvalidParameterException",
          "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")),
        (lambda: logs.create_log_group(logGroupName="x" * 513),
         ("InvalidParameterException",
          "Invalid LogGroup or LogStream, both must have length less than or equal to 512.")),
    ]  # fmt: skip
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    forged = base64.urlsafe_b64encode(b'{"k": "streams", "offset": "x"}').decode()
    more.append((lambda: logs.describe_log_streams(logGroupName=group, nextToken=forged),
                 ("InvalidParameterException", "The specified nextToken is invalid.")))  # fmt: skip
    taken = ("ResourceAlreadyExistsException", "The specified log stream already exists")
    more.append((lambda: logs.create_log_stream(logGroupName=group, logStreamName="s"), taken))
    for call, (code, message) in more:
        with pytest.raises(ClientError) as caught:
            call()
        assert _code(caught.value)[0] == code
        if message is not None:
            assert _code(caught.value)[1] == message


def test_groups_are_per_region(server: ServerProcess, logs: Any) -> None:
    group = f"/custom/{unique('region')}"
    logs.create_log_group(logGroupName=group)
    west = client_for(server.url, "logs", "eu-west-1")
    assert west.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
    west.create_log_group(logGroupName=group)  # the same name, another region: another group
    arn = west.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["logGroupArn"]
    assert arn.startswith("arn:aws:logs:eu-west-1:")
    with pytest.raises(ClientError):  # an ARN of another region names nothing here
        logs.list_tags_for_resource(resourceArn=arn)


# ---- accounts, under --auth sigv4 ----

ACCOUNT_A, ACCOUNT_B = "111111111111", "222222222222"


def _key(data_dir: Path, account: str, name: str) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "sendoff.cli.main", "credentials", "create", "--data-dir",
         str(data_dir), "--account-id", account, "--name", name, "--output", "json"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    key: dict[str, str] = json.loads(done.stdout)
    return key


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data_dir = tmp_path_factory.mktemp("logs-sigv4")
    keys = {"a": _key(data_dir, ACCOUNT_A, "alice"), "b": _key(data_dir, ACCOUNT_B, "bob")}
    proc = start_server(data_dir, "--auth", "sigv4", "--time-scale", "0.01")
    yield {"server": proc, "keys": keys}
    assert proc.stop() == 0, proc.log()[-4000:]


def _signed_client(signed: dict[str, Any], who: str, service: str) -> Any:
    key = signed["keys"][who]
    make: Any = boto3.client
    return make(
        service, endpoint_url=signed["server"].url, region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"total_max_attempts": 1}, read_timeout=60),
    )  # fmt: skip


def test_another_account_cannot_read_a_group(signed: dict[str, Any]) -> None:
    lam_a = _signed_client(signed, "a", "lambda")
    logs_a, logs_b = _signed_client(signed, "a", "logs"), _signed_client(signed, "b", "logs")
    name = unique("acct")
    create_python(lam_a, name, PRINTER, Role=f"arn:aws:iam::{ACCOUNT_A}:role/r")
    lam_a.invoke(FunctionName=name, Payload=b"{}")
    group = f"/aws/lambda/{name}"
    wait_until(lambda: logs_a.filter_log_events(logGroupName=group, filterPattern="END")[
        "events"], message="account A's END line")  # fmt: skip
    arn = logs_a.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["logGroupArn"]
    assert f":{ACCOUNT_A}:" in arn
    assert logs_b.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
    for call in (
        lambda: logs_b.filter_log_events(logGroupName=group),
        lambda: logs_b.filter_log_events(logGroupIdentifier=arn),
        lambda: logs_b.list_tags_for_resource(resourceArn=arn),
        lambda: logs_b.delete_log_group(logGroupName=group),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert _code(caught.value)[0] == "ResourceNotFoundException"
    assert logs_a.filter_log_events(logGroupName=group, filterPattern="START")["events"]


LOGGER = """
import logging

def handler(event, context):
    logging.getLogger().setLevel(logging.DEBUG)
    logging.debug("debug line")
    logging.warning("careful")
    print("plain print")
    return "ok"
"""


def test_logging_config_json_format_and_log_group(
    server: ServerProcess, lambda_client: Any, logs: Any
) -> None:
    name, group = unique("jsonlog"), f"/custom/{unique('shared')}"
    config = {"LogFormat": "JSON", "ApplicationLogLevel": "WARN", "LogGroup": group}
    created = create_python(lambda_client, name, LOGGER, LoggingConfig=config)
    assert created["LoggingConfig"] == {**config, "SystemLogLevel": "INFO"}
    lambda_client.invoke(FunctionName=name, Payload=b"{}")

    def reported() -> list[str] | None:
        try:
            found = logs.filter_log_events(logGroupName=group)["events"]
        except ClientError:
            return None
        messages = [e["message"] for e in found]
        return messages if any('"platform.report"' in m for m in messages) else None

    messages = wait_until(reported, message="the JSON report record")
    records = [json.loads(m) for m in messages if m.startswith("{")]
    types = [r.get("type") for r in records]
    assert types[0] == "platform.start" and types[-2:] == [
        "platform.runtimeDone",
        "platform.report",
    ]
    report = records[-1]["record"]
    assert set(report["metrics"]) >= {"durationMs", "billedDurationMs", "memorySizeMB",
                                      "maxMemoryUsedMB", "initDurationMs"}  # fmt: skip
    application = [r for r in records if "level" in r]
    assert [(r["level"], r["message"]) for r in application] == [("WARN", "careful")]
    assert "plain print" in messages  # what the function prints stays text, as on AWS
    assert logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"] == []
    shown = sendoff(server.url, "logs", name)  # sendoff logs follows the override
    assert shown.returncode == 0 and '"platform.report"' in shown.stdout, shown.stderr
    # the filter pattern reads the JSON records
    found = logs.filter_log_events(
        logGroupName=group, filterPattern='{ $.type = "platform.report" }'
    )
    assert len(found["events"]) == 1

    updated = lambda_client.update_function_configuration(
        FunctionName=name, LoggingConfig={"LogFormat": "Text"}
    )
    assert updated["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": group}
    with pytest.raises(ClientError) as bad:
        lambda_client.update_function_configuration(
            FunctionName=name, LoggingConfig={"LogFormat": "XML"}
        )
    assert bad.value.response["Error"]["Code"] == "InvalidParameterValueException"


def _sam() -> str:
    """The SAM CLI, found as tests/tools finds it (.ci/run makes ``.venv-tools``)."""
    return sam_or_skip()


def test_sam_logs_reads_a_functions_group(server: ServerProcess, invoked: dict[str, Any]) -> None:
    """``sam logs`` (FilterLogEvents, with only AWS_ENDPOINT_URL set); ``-n Fn
    --stack-name s`` also needs the CloudFormation API (tests/tools)."""
    env = {
        **os.environ, "AWS_ENDPOINT_URL": server.url, "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
        "SAM_CLI_TELEMETRY": "0",
    }  # fmt: skip
    command = [_sam(), "logs", "--cw-log-group", invoked["group"], "--filter", "REPORT"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 3 and all("REPORT RequestId:" in line for line in lines)
    assert all(STREAM_NAME.match(line.split(" ", 1)[0]) for line in lines)


RECORDER = """
import json

def handler(event, context):
    print(json.dumps(event))
"""
FAILING = """
def handler(event, context):
    if not event.get("Success"):
        raise Exception("Failure from event, Success = false, I am failing!")
    return "ok"
"""


def test_announcement_failure_record_found_with_aws_logs(
    server: ServerProcess, lambda_client: Any
) -> None:
    """The announcement's walkthrough: an async invoke with ``{"Success": false}`` fails
    three times; the OnFailure function's group holds the record, found with
    ``aws logs filter-log-events --filter-pattern RetriesExhausted``."""
    failing, recorder = unique("failing"), unique("onfailure")
    create_python(lambda_client, failing, FAILING)
    target = create_python(lambda_client, recorder, RECORDER)["FunctionArn"]
    lambda_client.put_function_event_invoke_config(
        FunctionName=failing,
        DestinationConfig={"OnFailure": {"Destination": target}},
    )
    lambda_client.invoke(FunctionName=failing, InvocationType="Event",
                         Payload=json.dumps({"Success": False}))  # fmt: skip
    group = f"/aws/lambda/{recorder}"

    def found() -> list[dict[str, Any]] | None:
        done = aws(server.url, "logs", "filter-log-events", "--log-group-name", group,
                   "--filter-pattern", "RetriesExhausted", check=False)  # fmt: skip
        if done.returncode != 0:
            return None  # the group is made by the recorder's first line
        events: list[dict[str, Any]] = json.loads(done.stdout)["events"]
        return events or None

    events = wait_until(found, timeout=60, message="the failure record in the logs")
    record = json.loads(events[0]["message"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestPayload"] == {"Success": False}


def test_answers_hold_at_most_a_megabyte(logs: Any) -> None:
    group = f"/custom/{unique('big')}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000)
    big = [f"{i} " + "x" * 400_000 for i in range(3)]
    _put(logs, group, "s", big[:2], now - 1000)
    _put(logs, group, "s", big[2:], now - 500)
    first = logs.filter_log_events(logGroupName=group)
    assert [e["message"][:2] for e in first["events"]] == ["0 ", "1 "]
    rest = logs.filter_log_events(logGroupName=group, nextToken=first["nextToken"])
    assert [e["message"][:2] for e in rest["events"]] == ["2 "] and "nextToken" not in rest
    head = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True)
    assert [e["message"][:2] for e in head["events"]] == ["0 ", "1 "]
    tail = logs.get_log_events(logGroupName=group, logStreamName="s")
    assert [e["message"][:2] for e in tail["events"]] == ["1 ", "2 "]
