"""Every accepted event ends in one visible outcome, even when processes are SIGKILLed.

Real processes: the server (and a separate worker) are killed with SIGKILL under a load of
events sent over raw HTTP, then restarted on the same data directory.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import client_for
from tests.support.functions import create_python, unique
from tests.support.server import ServerProcess, start_server, wait_until

FAST = "def handler(event, context):\n    return event['n']\n"


def fire(url: str, name: str, count: int, accepted: list[str], stop: threading.Event) -> None:
    """Send Event invokes until ``count`` or the server goes away; record accepted ids."""
    with httpx.Client(base_url=url, timeout=5) as http:
        for n in range(count):
            if stop.is_set():
                return
            try:
                resp = http.post(
                    f"/2015-03-31/functions/{name}/invocations",
                    content=b'{"n": %d}' % n,
                    headers={"X-Amz-Invocation-Type": "Event"},
                )
            except httpx.HTTPError:
                return
            if resp.status_code == 202:
                accepted.append(resp.headers["x-amzn-requestid"])


def all_invoke_events(url: str) -> dict[str, str]:
    states: dict[str, str] = {}
    after = None
    while True:
        params: dict[str, Any] = {"limit": 1000, "kind": "invoke"}
        if after:
            params["after"] = after
        page = httpx.get(f"{url}/_sendoff/events", params=params, timeout=30).json()
        for e in page["events"]:
            states[e["id"]] = e["state"]
        if not page["events"]:
            return states
        after = page["next"]


def wait_all_terminal(url: str, accepted: list[str], timeout: float = 120) -> dict[str, str]:
    def check() -> dict[str, str] | None:
        states = all_invoke_events(url)
        missing = [i for i in accepted if i not in states]
        assert not missing, f"{len(missing)} accepted events were lost, e.g. {missing[:3]}"
        pending = [i for i in accepted if states[i] not in ("succeeded", "failed")]
        return states if not pending else None

    return wait_until(check, timeout=timeout, interval=0.5, message="all events terminal")  # type: ignore[no-any-return]


def load_then_kill(
    server: ServerProcess, victim: subprocess.Popen[bytes], name: str, total: int, kill_after: int
) -> list[str]:
    accepted: list[str] = []
    stop = threading.Event()
    sender = threading.Thread(target=fire, args=(server.url, name, total, accepted, stop))
    sender.start()
    wait_until(lambda: len(accepted) >= kill_after, timeout=60, message="load accepted")
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    stop.set()
    sender.join(30)
    return accepted


def test_server_sigkill_under_load_loses_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data, "--time-scale", "0.01")
    name = unique("crash")
    create_python(client_for(server.url, "lambda"), name, source=FAST)
    accepted = load_then_kill(server, server.process, name, total=3000, kill_after=1500)
    assert len(accepted) >= 1500
    restarted = start_server(data, "--time-scale", "0.01")
    try:
        states = wait_all_terminal(restarted.url, accepted)
        assert all(states[i] == "succeeded" for i in accepted)
    finally:
        restarted.stop()


def test_worker_sigkill_mid_run_loses_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data, "--time-scale", "0.01", "--workers", "0")

    def worker() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
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

    first = worker()
    second = None
    try:
        name = unique("wcrash")
        create_python(client_for(server.url, "lambda"), name, source=FAST)
        accepted: list[str] = []
        fire(server.url, name, 1000, accepted, threading.Event())
        assert len(accepted) == 1000

        def some_done() -> bool:
            stats = httpx.get(f"{server.url}/_sendoff/events/stats").json()["states"]
            return stats["succeeded"] >= 50

        wait_until(some_done, timeout=60, message="worker progress")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        second = worker()
        states = wait_all_terminal(server.url, accepted)
        assert all(states[i] == "succeeded" for i in accepted)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(20)
        server.stop()


def test_sigterm_hands_running_jobs_back(tmp_path: Path) -> None:
    import sqlite3
    import time

    data = tmp_path / "data"
    server = start_server(data, "--time-scale", "0.01")
    name = unique("slow")
    slow = "import time\ndef handler(event, context):\n    time.sleep(30)\n    return 'late'\n"
    client = client_for(server.url, "lambda")
    create_python(client, name, source=slow, Timeout=60)
    resp = client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    request_id = resp["ResponseMetadata"]["RequestId"]

    def running() -> bool:
        event = httpx.get(f"{server.url}/_sendoff/events/{request_id}").json()
        return bool(event["state"] == "running")

    wait_until(running, timeout=30, message="the slow event to start")
    assert server.stop() == 0  # SIGTERM: graceful, within the grace period
    with sqlite3.connect(data / "sendoff.db") as db:
        state, owner, expires = db.execute(
            "SELECT state, lease_owner, lease_expires_at FROM events WHERE id = ?",
            (request_id,),
        ).fetchone()
    assert state == "running" and expires <= time.time()  # released, not left to expire
    assert owner is not None
