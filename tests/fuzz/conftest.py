"""One real server for the whole fuzz run, the resources the requests aim at, and the run's
tally (printed in pytest's terminal summary)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import client_for
from tests.fuzz.oracle import TALLY
from tests.fuzz.runner import Resources
from tests.support.functions import ROLE, wait_active
from tests.support.server import ServerProcess, start_server
from tests.support.zips import make_zip

FUZZ_HANDLER = """
def handler(event, context):
    if isinstance(event, dict) and event.get("fail"):
        raise ValueError("asked to fail")
    return {"ok": True}
"""
TINY_ZIP = make_zip({"app.py": FUZZ_HANDLER})


@pytest.fixture(scope="session")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path_factory.mktemp("fuzz"), "--time-scale", "0.01")
    yield proc
    code = proc.stop()
    assert code == 0, f"server did not shut down cleanly ({code}):\n{proc.log()[-4000:]}"


@pytest.fixture(scope="session")
def http(fuzz_server: ServerProcess) -> Iterator[httpx.Client]:
    # 20 s: no request the fuzzer sends should take a tenth of that; a stall shows as a
    # ReadTimeout problem instead of holding the run
    with httpx.Client(base_url=fuzz_server.url, timeout=20) as client:
        yield client


@pytest.fixture(scope="session")
def resources(fuzz_server: ServerProcess) -> Iterator[Resources]:
    url = fuzz_server.url
    lam, sqs = client_for(url, "lambda"), client_for(url, "sqs")
    sns, events = client_for(url, "sns"), client_for(url, "events")
    code = {"ZipFile": TINY_ZIP}
    common = {"Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler", "Timeout": 3}
    for name in ("fuzz-ok", "fuzz-fail", "fuzz-scratch"):
        lam.create_function(FunctionName=name, Code=code, Publish=True, **common)
    for name in ("fuzz-ok", "fuzz-fail", "fuzz-scratch"):
        wait_active(lam, name)
    lam.create_alias(FunctionName="fuzz-ok", Name="live", FunctionVersion="1")
    queue = sqs.create_queue(QueueName="fuzz-q")["QueueUrl"]
    fifo = sqs.create_queue(QueueName="fuzz-q.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    scratch_queue = sqs.create_queue(QueueName="fuzz-scratch")["QueueUrl"]
    topic = sns.create_topic(Name="fuzz-topic")["TopicArn"]
    scratch_topic = sns.create_topic(Name="fuzz-scratch")["TopicArn"]
    sub = sns.subscribe(TopicArn=scratch_topic, Protocol="sqs",
                        Endpoint="arn:aws:sqs:us-east-1:000000000000:fuzz-scratch")  # fmt: skip
    events.create_event_bus(Name="fuzz-bus")
    events.put_rule(Name="fuzz-rule", EventPattern='{"source": ["fuzz.never"]}')
    events.put_rule(Name="fuzz-scratch", EventPattern='{"source": ["fuzz.never"]}')
    logs = client_for(url, "logs")
    for group in ("/aws/lambda/fuzz-ok", "/fuzz/scratch"):
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_group(logGroupName=group)  # fuzz-ok's may exist already
        logs.create_log_stream(logGroupName=group, logStreamName="fuzz-stream")
    found = Resources(
        queue_url=queue, fifo_url=fifo, scratch_queue_url=scratch_queue,
        topic_arn=topic, scratch_topic_arn=scratch_topic,
        subscription_arn=sub["SubscriptionArn"], zip_bytes=TINY_ZIP,
    )  # fmt: skip
    yield found
    for name in found.created_functions:  # functions the fuzzer created: leave nothing behind
        with contextlib.suppress(Exception):
            lam.delete_function(FunctionName=name)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # hypothesis warns that a 300 kB drawn value has a large repr; that value is the point
    for item in items:
        if "tests/fuzz/" in str(item.fspath):
            item.add_marker(
                pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
            )
            # a failure is shrunk against the live server (hypothesis stops after 5 min)
            item.add_marker(pytest.mark.timeout(900))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TALLY.requests:
        terminalreporter.write_line(TALLY.summary())
