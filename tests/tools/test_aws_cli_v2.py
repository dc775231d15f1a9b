"""AWS CLI v2's ``aws logs tail`` (v2 only; Debian's ``awscli`` package, which .ci/run
installs) against a real server: a function's START/END/REPORT lines and its own output,
then ``--follow`` picking up a later invocation. Debian's v2 (2.9) predates
``AWS_ENDPOINT_URL`` (2.13), so it gets ``--endpoint-url``."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.functions import create_python
from tests.support.server import ServerProcess, start_server
from tests.support.unavailable import unavailable
from tests.tools.clients import boto, find_aws_v2, tool_env

SOURCE = """
def handler(event, context):
    print("tail me", event["n"])
    return event
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path_factory.mktemp("awsv2"), "--time-scale", "0.01")
    yield proc
    assert proc.stop() == 0, proc.log()[-3000:]


def test_logs_tail_and_follow(server: ServerProcess, tmp_path: Path) -> None:
    aws2 = find_aws_v2()
    if aws2 is None:
        unavailable("AWS CLI v2 is not installed (apt-get install awscli)", what="tool")
        return
    env = tool_env(server.url, tmp_path)
    lam = boto(env, "lambda")
    name = create_python(lam, source=SOURCE)["FunctionName"]
    lam.invoke(FunctionName=name, Payload=b'{"n": 1}')
    base = [aws2, "--endpoint-url", server.url, "logs", "tail", f"/aws/lambda/{name}"]
    done = subprocess.run([*base, "--since", "1h"], env=env, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "tail me 1" in done.stdout and "REPORT RequestId:" in done.stdout
    follow = subprocess.Popen([*base, "--since", "1h", "--follow"], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(follow.stdout or ()), daemon=True)
    reader.start()
    try:
        lam.invoke(FunctionName=name, Payload=b'{"n": 2}')
        deadline = time.monotonic() + 30  # v2 polls every 5 s
        while time.monotonic() < deadline and not any("tail me 2" in x for x in lines):
            time.sleep(0.2)
        assert any("tail me 2" in x for x in lines), lines
    finally:
        follow.terminate()
        follow.wait(10)
        reader.join(10)
        if follow.stdout is not None:
            follow.stdout.close()
