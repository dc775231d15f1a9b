"""Benchmark FilterLogEvents over 100,000 log lines (target: p95 under 200 ms).

    python bench/logs_query.py [--lines 100000] [--runs 30]

Starts a real ``sendoff server`` (default settings: the SQLite store), loads one log group
with ``--lines`` lines through PutLogEvents (four streams; text lines, 1 in 100 an
``ERROR``, and JSON lines with a level and a latency), then times complete
FilterLogEvents answers (every page, over HTTP on one kept-alive connection, the JSON
body parsed with ``json.loads``) for several patterns, ``--runs`` times each, and reports
p50 and p95 in milliseconds. ``boto3 p50`` is the same query through boto3, whose
response parsing costs the client far more than the server's answer when thousands of
events match.

The baseline, in the same script on the same database: a plain ``read_logs`` scan of the
whole group (1,000 lines a page, as ``sendoff logs`` reads) with the substring test done
in Python. The last column is each pattern's p50 over the baseline's p50.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import client_for  # noqa: E402
from tests.support.server import start_server  # noqa: E402

from sendoff.store import open_store  # noqa: E402

GROUP = "/bench/filter"
PATTERNS = [
    ("term, 1% match", "ERROR"),
    ("phrase", '"request 4242 "'),
    ("?a ?b", "?ERROR ?WARN"),
    ("JSON string =", '{ $.level = "ERROR" }'),
    ("JSON number >", "{ $.latency > 990 }"),
    ("JSON && / ||", '{ ($.level = "WARN" || $.level = "ERROR") && $.latency >= 500 }'),
    ("no match", "nothing-matches-this"),
]


def lines(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        if i % 2:
            level = "ERROR" if i % 100 == 1 else ("WARN" if i % 10 == 3 else "INFO")
            out.append(json.dumps({"level": level, "latency": rng.randint(0, 1000), "i": i}))
        else:
            level = "ERROR" if i % 100 == 0 else "INFO"
            out.append(f"{level} request {i} handled in {rng.randint(1, 999)} ms by worker")
    return out


def load(logs: Any, messages: list[str]) -> None:
    logs.create_log_group(logGroupName=GROUP)
    streams = [f"2026/12/04/[$LATEST]{i:032x}" for i in range(4)]
    for stream in streams:
        logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    now = int(time.time() * 1000) - len(messages)
    batch = 5000
    for start in range(0, len(messages), batch):
        stream = streams[(start // batch) % len(streams)]
        events = [
            {"timestamp": now + start + i, "message": m}
            for i, m in enumerate(messages[start : start + batch])
        ]
        logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=events)


class RawClient:
    """FilterLogEvents over one kept-alive HTTP connection, unsigned (``--auth none``)."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)

    def filter_all(self, pattern: str) -> int:
        found, token = 0, None
        while True:
            body: dict[str, Any] = {"logGroupName": GROUP, "filterPattern": pattern}
            if token:
                body["nextToken"] = token
            self.conn.request("POST", "/", json.dumps(body), {
                "X-Amz-Target": "Logs_20140328.FilterLogEvents",
                "Content-Type": "application/x-amz-json-1.1",
            })  # fmt: skip
            response = self.conn.getresponse()
            page = json.loads(response.read())
            assert response.status == 200, page
            found += len(page["events"])
            token = page.get("nextToken")
            if not token:
                return found


def filter_all(logs: Any, pattern: str) -> int:
    found, token = 0, None
    while True:
        kwargs: dict[str, Any] = {"logGroupName": GROUP, "filterPattern": pattern}
        if token:
            kwargs["nextToken"] = token
        page = logs.filter_log_events(**kwargs)
        found += len(page["events"])
        token = page.get("nextToken")
        if not token:
            return found


def timed(fn: Any, runs: int) -> tuple[list[float], Any]:
    samples, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples, result


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def read_logs_scan(db: Path, key: str, needle: str) -> int:
    store = open_store(f"sqlite:///{db}")
    await store.open()
    try:
        found, after = 0, 0
        while True:
            rows = await store.read_logs(key, after_seq=after, limit=1000)
            found += sum(needle in e.message for _, e in rows)
            if len(rows) < 1000:
                return found
            after = rows[-1][1].seq
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="sendoff-logs-bench-"))
    server = start_server(data)
    try:
        logs = client_for(server.url, "logs")
        messages = lines(args.lines)
        t0 = time.perf_counter()
        load(logs, messages)
        print(f"loaded {args.lines} lines in {time.perf_counter() - t0:.1f} s "
              f"(PutLogEvents, 5,000 a batch)")  # fmt: skip
        key = f"000000000000:us-east-1:{GROUP}"
        base, base_found = timed(
            lambda: asyncio.run(read_logs_scan(data / "sendoff.db", key, "ERROR")), args.runs
        )
        base50 = statistics.median(base)
        raw = RawClient(server.url)
        print(f"{'query':<18} {'matches':>8} {'p50 ms':>8} {'p95 ms':>8} {'p50/base':>9}"
              f" {'boto3 p50':>10}")  # fmt: skip
        print(f"{'read_logs scan':<18} {base_found:>8} {base50:>8.1f} {pct(base, 0.95):>8.1f}"
              f" {1.0:>9.2f}")  # fmt: skip
        worst = 0.0
        for label, pattern in PATTERNS:
            samples, found = timed(lambda p=pattern: raw.filter_all(p), args.runs)  # type: ignore[misc]
            boto, _ = timed(lambda p=pattern: filter_all(logs, p), max(3, args.runs // 5))  # type: ignore[misc]
            p95 = pct(samples, 0.95)
            worst = max(worst, p95)
            p50 = statistics.median(samples)
            print(f"{label:<18} {found:>8} {p50:>8.1f} {p95:>8.1f} {p50 / base50:>9.2f}"
                  f" {statistics.median(boto):>10.1f}")  # fmt: skip
        print(f"worst p95: {worst:.1f} ms (target < 200 ms)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
