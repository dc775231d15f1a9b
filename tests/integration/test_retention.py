"""Retention on a real server: finished events and old log lines go after the window (wall
clock, whatever --time-scale says), health and /metrics say what is kept, the CLI says that
history was pruned, and redriving a pruned event answers a clear error."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import client_for
from tests.support.cli import sendoff
from tests.support.events import function_logs, get_event, wait_terminal
from tests.support.functions import create_python, unique
from tests.support.server import start_server, wait_until


def invoke_event(client: Any, name: str, payload: dict[str, Any]) -> str:
    resp = client.invoke(FunctionName=name, InvocationType="Event",
                         Payload=json.dumps(payload).encode())  # fmt: skip
    return str(resp["ResponseMetadata"]["RequestId"])


def health(url: str) -> dict[str, Any]:
    retention: dict[str, Any] = httpx.get(f"{url}/_sendoff/health", timeout=5).json()["retention"]
    return retention


def test_finished_events_and_logs_are_pruned_after_the_wall_clock_window(tmp_path: Path) -> None:
    # a time scale of 0.01 would make 3 s into 30 ms if it applied to retention
    server = start_server(tmp_path / "srv", "--time-scale", "0.01", "--event-retention", "3s",
                          "--log-retention", "3s")  # fmt: skip
    try:
        lam = client_for(server.url, "lambda")
        name = unique()
        create_python(lam, name)
        lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
        failed_id = invoke_event(lam, name, {"fail": True})
        ok_id = invoke_event(lam, name, {"print": "kept-for-a-while"})
        assert wait_terminal(server.url, failed_id)["state"] == "failed"
        assert wait_terminal(server.url, ok_id)["state"] == "succeeded"
        done_at = time.time()
        assert "kept-for-a-while" in function_logs(server.url, name)
        assert health(server.url)["event_retention"] == "3s"
        page = httpx.get(f"{server.url}/console/functions/{name}/invocations", timeout=10)
        assert page.status_code == 200
        assert re.search(r'id="retention">Finished events are kept for 3s', page.text)

        wait_until(lambda: get_event(server.url, ok_id) is None, timeout=30,
                   message="the succeeded event to be pruned")  # fmt: skip
        assert time.time() - done_at >= 1.5, "pruned before its wall-clock window"
        wait_until(lambda: get_event(server.url, failed_id) is None, timeout=10)
        wait_until(lambda: "kept-for-a-while" not in function_logs(server.url, name), timeout=30)

        seen = wait_until(lambda: (h := health(server.url)).get("pruned_before") and h,
                          timeout=10)  # fmt: skip
        assert seen["stored_events"] >= 0 and seen["log_bytes"] >= 0
        assert seen["pruned_before"] >= done_at - 3 - 5
        metrics = httpx.get(f"{server.url}/metrics", timeout=5).text
        assert re.search(r"^StoredEvents \d", metrics, re.M)
        assert re.search(r"^StoredLogBytes \d", metrics, re.M)
        assert re.search(r"^OldestKeptEventTimestamp \d", metrics, re.M)
        pruned = re.search(r"^EventsPruned_total (\S+)", metrics, re.M)
        assert pruned is not None and float(pruned.group(1)) >= 2

        listing = sendoff(server.url, "events", "list")
        assert listing.returncode == 0, listing.stderr
        assert re.search(r"history before \d{4}-\d\d-\d\d .* was pruned \(retention 3s\)",
                         listing.stdout), listing.stdout  # fmt: skip

        resp = httpx.post(f"{server.url}/_sendoff/events/redrive", json={"ids": [failed_id]})
        assert resp.status_code == 404
        error = resp.json()
        assert error["__type"] == "EventNotFound" and error["missing"] == [failed_id]
        assert "kept for 3s" in error["message"] and "pruned" in error["message"]
        again = sendoff(server.url, "events", "redrive", failed_id)
        assert again.returncode == 1 and "EventNotFound" in again.stderr
    finally:
        assert server.stop() == 0, server.log()[-3000:]
