"""``sendoff server --port 0``: the kernel picks the port, and everything that names the
endpoint names that port: the banner, and AWS_ENDPOINT_URL in functions run by the server
(synchronous invokes) and by its worker process (async events)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.functions import with_sqs_destination
from tests.support.server import wait_until

ENDPOINT = "import os\ndef handler(event, context):\n    return os.environ['AWS_ENDPOINT_URL']\n"


def test_port_0_is_the_port_the_kernel_picked_everywhere(tmp_path: Path) -> None:
    log_path = tmp_path / "server.log"
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "sendoff.cli.main", "server", "--port", "0",
             "--data-dir", str(tmp_path / "data")],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    try:

        def endpoint() -> str | None:
            assert process.poll() is None, log_path.read_text()
            found = re.search(
                r"^  endpoint    (http://127\.0\.0\.1:(\d+))  ", log_path.read_text(), re.M
            )
            return found[1] if found else None

        url = wait_until(endpoint, timeout=30, message="the banner")
        assert not url.endswith(":0")
        assert httpx.get(f"{url}/_sendoff/health", timeout=5).status_code == 200
        lam, sqs, queue_url, name = with_sqs_destination(url, ENDPOINT, prefix="port")
        out = lam.invoke(FunctionName=name, Payload=b"{}")
        assert json.loads(out["Payload"].read()) == url
        lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")

        def record() -> dict[str, object] | None:
            got = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)
            messages = got.get("Messages", [])
            return json.loads(messages[0]["Body"]) if messages else None

        assert (
            wait_until(record, timeout=60, interval=0, message="the record")["responsePayload"]
            == url
        )
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0, log_path.read_text()
