"""Console render time with 10,000 asynchronous events in the history.

    python bench/console_render.py [--events 10000] [--rounds 30] [--limit-ms 100]

Starts a real ``sendoff server`` on the embedded default (SQLite, time scale 0.01), creates
a Python function with an SQS destination on success and an SNS destination on failure,
and seeds the history with real asynchronous invokes (one in ten fails, retries once and
goes to the failure destination). When every event has finished, it requests each console
page ``--rounds`` times and reads the server's own render time from the ``Server-Timing``
header (``app;dur=<ms>``: from the request reaching the console to the response head).

Prints p50 / p95 / max per page and exits non-zero if any page's p95 is at or above
``--limit-ms``. Results are saved under bench/results/.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import client_for  # noqa: E402
from tests.support.functions import PY_ECHO, create_python  # noqa: E402
from tests.support.server import start_server  # noqa: E402

FUNCTION = "console-bench"
ACCOUNT_REGION = "us-east-1:000000000000"
TIMING = re.compile(r"app;dur=([0-9.]+)")


def seed(url: str, count: int) -> float:
    """Send ``count`` Event invokes from 16 threads; returns the seconds it took."""

    def send(chunk: range) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            for i in chunk:
                payload = {"order": i, "customer": f"customer-{i % 97}", "note": "bench"}
                if i % 10 == 0:
                    payload.update(fail=True, message=f"card declined for order {i}")
                response = client.post(
                    f"/2015-03-31/functions/{FUNCTION}/invocations",
                    headers={"X-Amz-Invocation-Type": "Event"},
                    content=json.dumps(payload),
                )
                response.raise_for_status()

    started = time.perf_counter()
    step = (count + 15) // 16
    chunks = [range(i, min(i + step, count)) for i in range(0, count, step)]
    with concurrent.futures.ThreadPoolExecutor(len(chunks)) as pool:
        list(pool.map(send, chunks))
    return time.perf_counter() - started


def wait_finished(url: str, timeout_s: float = 600) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        states = httpx.get(f"{url}/_sendoff/events/stats").json()["states"]
        if not (states["queued"] or states["running"] or states["retrying"]):
            return time.perf_counter() - started
        time.sleep(0.5)
    raise SystemExit(f"events did not finish within {timeout_s} s: {states}")


def measure(client: httpx.Client, path: str, rounds: int, fragment: bool) -> list[float]:
    headers = {"X-Console-Fragment": "1"} if fragment else {}
    out = []
    for _ in range(rounds):
        response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}\n{response.text[:500]}")
        match = TIMING.search(response.headers.get("server-timing", ""))
        if match is None:
            raise SystemExit(f"{path}: no Server-Timing header")
        out.append(float(match.group(1)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--limit-ms", type=float, default=100.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "data", "--time-scale", "0.01", "--log-level",
                              "warning")  # fmt: skip
        try:
            lam = client_for(server.url, "lambda")
            sqs = client_for(server.url, "sqs")
            sns = client_for(server.url, "sns")
            sqs.create_queue(QueueName="bench-records")
            topic = sns.create_topic(Name="bench-failures")["TopicArn"]
            create_python(lam, FUNCTION, PY_ECHO)
            lam.put_function_event_invoke_config(
                FunctionName=FUNCTION,
                MaximumRetryAttempts=1,
                DestinationConfig={
                    "OnSuccess": {"Destination": f"arn:aws:sqs:{ACCOUNT_REGION}:bench-records"},
                    "OnFailure": {"Destination": topic},
                },
            )
            sent_s = seed(server.url, args.events)
            done_s = wait_finished(server.url)
            stats = httpx.get(f"{server.url}/_sendoff/events/stats").json()
            print(f"seeded {args.events} events in {sent_s:.1f} s; all finished"
                  f" {done_s:.1f} s later; store: {stats}")  # fmt: skip
            failed = httpx.get(
                f"{server.url}/_sendoff/events",
                params={"function": FUNCTION, "state": "failed", "limit": 1},
            ).json()["events"][0]["id"]
            base = f"/console/functions/{FUNCTION}"
            pages = [
                ("functions list", "/console/functions", False),
                ("function overview (Designer)", base, False),
                ("code", f"{base}/code", False),
                ("test", f"{base}/test", False),
                ("monitor, 1 h", f"{base}/monitor", False),
                ("monitor, 24 h", f"{base}/monitor?window=24h", False),
                ("monitor live fragment", f"{base}/monitor", True),
                ("invocations", f"{base}/invocations", False),
                ("invocations, state=failed", f"{base}/invocations?state=failed", False),
                ("invocations, text search", f"{base}/invocations?q=declined+for+order+99", False),
                ("invocations live fragment", f"{base}/invocations", True),
                ("event timeline", f"/console/events/{failed}", False),
                ("logs", f"{base}/logs", False),
                ("async settings form", f"{base}/async-config", False),
                ("add destination form", f"{base}/destinations/new", False),
                ("queues", "/console/queues", False),
                ("queue", "/console/queues/bench-records", False),
                ("topics", "/console/topics", False),
                ("topic", "/console/topics/bench-failures", False),
                ("event buses", "/console/buses", False),
                ("event bus", "/console/buses/default", False),
            ]
            rows = []
            with httpx.Client(base_url=server.url, timeout=30) as client:
                client.get("/console/functions")  # starts the console's read models
                while "Still reading the event history" in client.get("/console/functions").text:
                    time.sleep(0.2)
                for label, path, fragment in pages:
                    measure(client, path, 3, fragment)  # warm up
                    samples = sorted(measure(client, path, args.rounds, fragment))
                    p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
                    rows.append((label, statistics.median(samples), p95, samples[-1]))
        finally:
            server.stop()

    lines = [
        f"console render time (Server-Timing app;dur), {args.events} events, SQLite,"
        f" {args.rounds} requests per page",
        f"{'page':<32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}",
    ]
    lines += [f"{label:<32} {p50:8.2f} {p95:8.2f} {high:8.2f}" for label, p50, p95, high in rows]
    worst = max(rows, key=lambda r: r[2])
    lines.append(f"slowest p95: {worst[0]} {worst[2]:.2f} ms (limit {args.limit_ms:.0f} ms)")
    report = "\n".join(lines)
    print(report)
    results = ROOT / "bench" / "results" / f"console_render-{datetime.date.today()}.txt"
    results.write_text(report + "\n")
    assert worst[2] < args.limit_ms, f"{worst[0]} renders in {worst[2]:.1f} ms at p95"


if __name__ == "__main__":
    main()
