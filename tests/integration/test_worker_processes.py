"""``sendoff server --worker-processes N``: child workers on the same embedded store.

Real processes throughout: the server starts its children, boto3 drives it, and the
tests kill processes with SIGKILL to check the supervision promises in
src/sendoff/workers.py.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from sendoff.config.settings import usable_cpus
from tests.support.functions import queue_with_arn, wait_updated, with_sqs_destination
from tests.support.server import ServerProcess, start_server, wait_until
from tests.support.zips import make_zip

STAMP = (
    "import os\ndef handler(event, context):\n    return {'n': event['n'], 'pid': os.getppid()}\n"
)

# STAMP reports the worker's pid as the function's parent pid: the function must not run
# in a pid namespace of its own (as --sandbox bwrap puts it).
NO_PID_NS = ("--sandbox", "none")

# `--worker-processes auto`: one child on a machine with a second core, which then runs
# the async events (the server process none)
AUTO = ("--worker-processes", "auto")


def worker_pids(server: ServerProcess) -> list[int]:
    return list(httpx.get(f"{server.url}/_sendoff/health", timeout=5).json()["worker_processes"])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def with_destination(server: ServerProcess, source: str) -> tuple[Any, Any, str, str]:
    return with_sqs_destination(server.url, source, prefix="wp")


def fire(lam: Any, name: str, count: int) -> set[str]:
    """Event-invoke ``name`` with ``{"n": 0..count-1}``; return the accepted request ids."""
    return {
        lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"n": n}))[
            "ResponseMetadata"
        ]["RequestId"]
        for n in range(count)
    }


def receive_all(sqs: Any, queue_url: str, count: int) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []

    def more() -> bool:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in got.get("Messages", []):
            records.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(records) >= count

    wait_until(more, timeout=60, interval=0, message=f"{count} records")
    return records


# a handler that says when it started, warmed up by one event: for dispatch latencies
STARTED = "import time\ndef handler(event, context):\n    return {'start': time.time()}\n"


def warm_timer(server: ServerProcess) -> tuple[Any, Any, str, str]:
    lam, sqs, queue_url, name = with_destination(server, STARTED)
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    receive_all(sqs, queue_url, 1)
    return lam, sqs, queue_url, name


def test_children_run_the_async_events_the_server_accepts(tmp_path: Path) -> None:
    server = start_server(
        tmp_path / "data", "--workers", "0", "--worker-processes", "2", *NO_PID_NS
    )
    try:
        wait_until(lambda: len(worker_pids(server)) == 2, timeout=30, message="two workers")
        children = set(worker_pids(server))
        lam, sqs, queue_url, name = with_destination(server, STAMP)
        accepted = fire(lam, name, 40)
        records = receive_all(sqs, queue_url, 40)
        assert {r["requestContext"]["requestId"] for r in records} == accepted
        assert all(r["requestContext"]["condition"] == "Success" for r in records)
        # the server runs no worker itself: every function ran under one of its children
        ran_under = {r["responsePayload"]["pid"] for r in records}
        assert ran_under <= children
    finally:
        assert server.stop() == 0
    assert not any(alive(pid) for pid in children)


def test_a_change_made_through_the_server_holds_for_the_next_event_a_child_runs(
    tmp_path: Path,
) -> None:
    """The child's document cache is not a second stale: code, environment and
    destination changed just before an event are what that event runs with (the cache
    epoch the child reads after each lease, store/cache.py)."""
    server = start_server(tmp_path / "data", "--workers", "0", "--worker-processes", "1")
    try:
        wait_until(lambda: worker_pids(server), timeout=30, message="a worker")
        source = (
            "import os\ndef handler(event, context):\n"
            "    return {{'v': {v}, 'env': os.environ.get('MARK')}}\n"
        )
        lam, sqs, first_url, name = with_destination(server, source.format(v=0))
        second_url, second_arn = queue_with_arn(sqs, "second")
        for v in range(1, 6):
            fire(lam, name, 1)  # the child runs an event, and caches the function
            (record,) = receive_all(sqs, first_url, 1)
            assert record["responsePayload"]["v"] == v - 1
            lam.update_function_code(
                FunctionName=name, ZipFile=make_zip({"app.py": source.format(v=v)})
            )
            wait_updated(lam, name)
            fire(lam, name, 1)  # at once: well within the cache's second
            (record,) = receive_all(sqs, first_url, 1)
            assert record["responsePayload"] == {"v": v, "env": None}, f"round {v}"
            lam.update_function_configuration(
                FunctionName=name, Environment={"Variables": {"MARK": str(v)}}
            )
            wait_updated(lam, name)
            fire(lam, name, 1)
            (record,) = receive_all(sqs, first_url, 1)
            assert record["responsePayload"] == {"v": v, "env": str(v)}, f"round {v}"
            lam.update_function_configuration(FunctionName=name, Environment={"Variables": {}})
            wait_updated(lam, name)
        lam.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": second_arn}}
        )
        fire(lam, name, 1)
        (record,) = receive_all(sqs, second_url, 1)
        assert record["responsePayload"]["v"] == 5
    finally:
        server.stop()


def test_a_killed_child_is_started_again_and_its_events_still_finish(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", "--workers", "0", "--worker-processes", "1")
    try:
        (first,) = wait_until(lambda: worker_pids(server), timeout=30, message="a worker")
        lam, sqs, queue_url, name = with_destination(server, STAMP)
        os.kill(first, signal.SIGKILL)
        (second,) = wait_until(
            lambda: [p for p in worker_pids(server) if p != first], timeout=30, message="restart"
        )
        assert second != first
        accepted = fire(lam, name, 10)
        records = receive_all(sqs, queue_url, 10)
        assert {r["requestContext"]["requestId"] for r in records} == accepted
    finally:
        server.stop()


def test_children_stop_when_the_server_is_killed(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", "--workers", "0", "--worker-processes", "1")
    (child,) = wait_until(lambda: worker_pids(server), timeout=30, message="a worker")
    server.stop(signal.SIGKILL)
    wait_until(lambda: not alive(child), timeout=30, message="the orphaned worker to stop")


def test_a_child_worker_starts_an_event_within_milliseconds(tmp_path: Path) -> None:
    """Across processes, SQLite's data_version watcher wakes the child: no 50 ms poll."""
    server = start_server(tmp_path / "data", "--workers", "0", "--worker-processes", "1")
    try:
        wait_until(lambda: worker_pids(server), timeout=30, message="a worker")
        lam, sqs, queue_url, name = warm_timer(server)
        delays = []
        for _ in range(20):
            lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
            accepted_at = time.time()
            (record,) = receive_all(sqs, queue_url, 1)
            delays.append(record["responsePayload"]["start"] - accepted_at)
        delays.sort()
        # the fallback poll alone (every 50 ms) would make the median about 25 ms
        assert delays[len(delays) // 2] < 0.01, delays
    finally:
        server.stop()


def test_metrics_count_the_events_the_children_ran(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", "--workers", "0", "--worker-processes", "2")
    try:
        wait_until(lambda: len(worker_pids(server)) == 2, timeout=30, message="two workers")
        lam, sqs, queue_url, name = with_destination(server, STAMP)
        fire(lam, name, 12)
        receive_all(sqs, queue_url, 12)
        lines = httpx.get(f"{server.url}/metrics", timeout=5).text.splitlines()
        labels = f'{{function_name="{name}",resource="{name}"}}'
        assert f"Invocations_total{labels} 12.0" in lines
        assert f"AsyncEventsReceived_total{labels} 12.0" in lines  # counted by the server
        assert any(line.startswith("ConcurrentExecutions ") for line in lines)
    finally:
        server.stop()


@pytest.mark.skipif(usable_cpus() < 2, reason="auto starts a child only with a second core")
def test_auto_starts_one_child_that_runs_the_async_events(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", *AUTO, *NO_PID_NS)
    try:
        (child,) = wait_until(lambda: worker_pids(server), timeout=30, message="the worker")
        assert "0 in this process, 1 worker process (auto: a second core)" in server.log()
        lam, sqs, queue_url, name = with_destination(server, STAMP)
        accepted = fire(lam, name, 20)
        records = receive_all(sqs, queue_url, 20)
        assert {r["requestContext"]["requestId"] for r in records} == accepted
        assert {r["responsePayload"]["pid"] for r in records} == {child}
        # a synchronous invoke still runs in the server process
        out = lam.invoke(FunctionName=name, Payload=json.dumps({"n": -1}))
        assert json.loads(out["Payload"].read())["pid"] == server.process.pid
    finally:
        assert server.stop() == 0
    assert not alive(child)


@pytest.mark.skipif(usable_cpus() < 2, reason="auto starts a child only with a second core")
def test_workers_1_runs_events_in_the_server_beside_the_automatic_child(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", *AUTO, "--workers", "1", *NO_PID_NS)
    try:
        (child,) = wait_until(lambda: worker_pids(server), timeout=30, message="the worker")
        lam, sqs, queue_url, name = with_destination(server, STAMP)
        # events accepted faster than one process runs them: both processes lease
        ran_under: set[int] = set()
        deadline = time.monotonic() + 60
        while ran_under != {server.process.pid, child} and time.monotonic() < deadline:
            fire(lam, name, 30)
            ran_under |= {r["responsePayload"]["pid"] for r in receive_all(sqs, queue_url, 30)}
        assert ran_under == {server.process.pid, child}
    finally:
        assert server.stop() == 0


def test_auto_with_no_workers_or_a_memory_store_starts_no_child(tmp_path: Path) -> None:
    for args in (("--no-workers",), ("--store", "memory://")):
        server = start_server(tmp_path / args[-1].strip("-:/"), *AUTO, *args)
        try:
            # the banner says what the server starts (children come up after health)
            workers = [line for line in server.log().splitlines() if "  workers " in line]
            assert workers, server.log()
            assert "worker process" not in workers[0]
            assert worker_pids(server) == []
        finally:
            assert server.stop() == 0


@pytest.mark.skipif(usable_cpus() < 2, reason="auto starts a child only with a second core")
def test_a_quiet_child_is_told_of_an_event_at_once(tmp_path: Path) -> None:
    """After a second without commits the child looks at the store only every 50 ms (its
    scheduler's poll; the SQLite watcher every 100 ms): the server's byte down the pipe
    wakes it at once."""
    server = start_server(tmp_path / "data", *AUTO)
    try:
        wait_until(lambda: worker_pids(server), timeout=30, message="the worker")
        lam, sqs, queue_url, name = warm_timer(server)
        delays = []
        for _ in range(5):
            # not a wait for a result: the quiet second the watcher needs to slow down
            time.sleep(1.3)
            sent_at = time.time()
            lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
            (record,) = receive_all(sqs, queue_url, 1)
            delays.append(record["responsePayload"]["start"] - sent_at)
        delays.sort()
        # the child's own polling (its scheduler looks every 50 ms) makes the median about
        # 10 to 25 ms; told through the pipe it is about 5 ms
        assert delays[len(delays) // 2] < 0.01, delays
    finally:
        server.stop()
