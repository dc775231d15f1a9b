"""A worker lost while the function runs: the event runs again, and the duplicate counts.

Every settle of an event stores the lease token it settled under. Here the worker process
running an event is SIGKILLed mid-attempt; the server starts a new worker, which takes
the event again (the dead worker's lease is released) with a token two above the last
settle, so it knows a lease was lost while the event ran and counts the second run in
``AsyncDuplicateExecutions`` (docs/async.md). An event that runs undisturbed is not counted.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import client_for
from tests.support.functions import create_python, unique
from tests.support.server import ServerProcess, start_server, wait_until

SLOW = "import time\ndef handler(event, context):\n    time.sleep(event['sleep'])\n    return 1\n"


def worker_pids(server: ServerProcess) -> list[int]:
    return list(httpx.get(f"{server.url}/_sendoff/health", timeout=5).json()["worker_processes"])


def event(server: ServerProcess, request_id: str) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/_sendoff/events/{request_id}", timeout=5)
    return dict(response.json()) if response.status_code == 200 else {}


def duplicates(server: ServerProcess, name: str) -> float:
    labels = f'{{function_name="{name}",resource="{name}"}}'
    for line in httpx.get(f"{server.url}/metrics", timeout=5).text.splitlines():
        if line.startswith(f"AsyncDuplicateExecutions_total{labels} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_an_attempt_cut_off_by_a_killed_worker_runs_again_and_is_counted(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", "--workers", "0", "--worker-processes", "1")
    try:
        (first,) = wait_until(lambda: worker_pids(server), timeout=30, message="a worker")
        lam = client_for(server.url, "lambda")
        name = unique("dup")
        create_python(lam, name, source=SLOW)
        sent = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"sleep": 2}')
        request_id = sent["ResponseMetadata"]["RequestId"]

        wait_until(lambda: event(server, request_id).get("state") == "running", timeout=30,
                   message="the event leased and running")  # fmt: skip
        os.kill(first, signal.SIGKILL)  # the worker dies while the function runs

        def settled() -> dict[str, Any] | None:
            shown = event(server, request_id)
            return shown if shown.get("state") in ("succeeded", "failed") else None

        shown = wait_until(settled, timeout=60, message="the event to run again and settle")
        assert shown["state"] == "succeeded"
        # the lost run left no attempt behind and consumed no retry
        assert [a.get("outcome") for a in shown["body"]["attempts"]] == ["success"]
        assert shown["body"]["outcome"]["record"]["requestContext"]["approximateInvokeCount"] == 1
        assert duplicates(server, name) == 1.0

        quiet = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"sleep": 0}')
        quiet_id = quiet["ResponseMetadata"]["RequestId"]
        wait_until(lambda: event(server, quiet_id).get("state") == "succeeded", timeout=60,
                   message="an undisturbed event")  # fmt: skip
        assert [a.get("outcome") for a in event(server, quiet_id)["body"]["attempts"]] == [
            "success"
        ]
        assert duplicates(server, name) == 1.0  # an undisturbed run is not a duplicate
    finally:
        server.stop()
