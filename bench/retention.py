"""Benchmark retention on the embedded default: the disk stops growing, the rates hold.

    python bench/retention.py [--events 200000] [--window 60s] [--max-seconds 1800]

Runs N Event invokes through a real ``sendoff server`` (default settings, SQLite store,
loopback only) twice: with ``--event-retention <window>`` (60 s by default) and without
pruning in practice (``--event-retention 100d``). The function's OnSuccess destination is
an SQS queue that is purged after every tenth of the events (the queue's own growth is not
under test). Every N/10 events it reports the SQLite database size (db + WAL), the events
and log bytes the store keeps, and the accepted rate of that tenth.

Reported per run: the accepted rate (202s per second while the worker is busy, by the
raw asyncio client of bench/async_pipeline.py), the end-to-end rate (first request to the
last execution record delivered), and, for the pruned run, the growth of the database once
a window (and two pruning passes) has passed: its largest size after that against its size
then (target: within 20%). The ratio of the rates with
and without pruning is the last line (target: within 10%). A run stops firing after
``--max-seconds`` and says so.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.async_pipeline import HANDLER, ROLE, raw_blast  # noqa: E402
from tests.conftest import client_for  # noqa: E402
from tests.support.functions import wait_active  # noqa: E402
from tests.support.server import start_server, wait_until  # noqa: E402

from sendoff.config.settings import parse_duration  # noqa: E402

PATH = "/2015-03-31/functions/f/invocations"
CONNS = 16


def db_bytes(data: Path) -> tuple[int, int]:
    db, wal = data / "sendoff.db", data / "sendoff.db-wal"
    return (db.stat().st_size if db.exists() else 0, wal.stat().st_size if wal.exists() else 0)


def store_counts(data: Path) -> tuple[int, int]:
    """(events kept, bytes of log messages kept), read from the database file."""
    conn = sqlite3.connect(f"{(data / 'sendoff.db').as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        events = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        log_bytes = conn.execute("SELECT COALESCE(SUM(bytes), 0) FROM log_groups").fetchone()[0]
    finally:
        conn.close()
    return int(events), int(log_bytes)


def run(events: int, retention: str, max_seconds: float, extra: tuple[str, ...]) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="sendoff-retention-"))
    # --time-scale: the queue is purged more often than AWS's 60 s PurgeQueue window allows
    # (retention windows are wall-clock and do not scale; the handler never fails or retries)
    server = start_server(data, "--time-scale", "0.001", "--event-retention", retention, *extra)
    rows: list[dict[str, Any]] = []
    try:
        lam = client_for(server.url, "lambda")
        sqs = client_for(server.url, "sqs")
        queue_url = sqs.create_queue(QueueName="records")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        lam.create_function(FunctionName="f", Runtime="python3.12", Role=ROLE,
                            Handler="app.handler",
                            Code={"ZipFile": _zip()})  # fmt: skip
        wait_active(lam, "f")
        lam.put_function_event_invoke_config(
            FunctionName="f",
            DestinationConfig={"OnSuccess": {"Destination": arn["Attributes"]["QueueArn"]}},
        )

        def delivered() -> int:
            got = sqs.get_queue_attributes(
                QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
            )
            return int(got["Attributes"]["ApproximateNumberOfMessages"])

        asyncio.run(raw_blast("127.0.0.1", server.port, PATH, 64, CONNS))  # warm up
        wait_until(lambda: delivered() >= 64, timeout=60, interval=0.05)
        sqs.purge_queue(QueueUrl=queue_url)

        chunk = max(-(-events // 10 // CONNS) * CONNS, CONNS)
        done = 0
        accept_s = 0.0
        start = time.perf_counter()
        while done < events and time.perf_counter() - start < max_seconds:
            t0 = time.perf_counter()
            rate = asyncio.run(raw_blast("127.0.0.1", server.port, PATH, chunk, CONNS))
            accept_s += time.perf_counter() - t0
            done += chunk
            wait_until(lambda: delivered() >= chunk, timeout=600, interval=0.05)
            sqs.purge_queue(QueueUrl=queue_url)
            db, wal = db_bytes(data)
            kept, log_bytes = store_counts(data)
            rows.append({"events": done, "at_s": time.perf_counter() - start, "db": db,
                         "wal": wal, "accepted_per_s": rate,
                         "stored": kept, "log_bytes": log_bytes})  # fmt: skip
            print(f"  {done:>8,} events  {rows[-1]['at_s']:7.1f} s  db {db / 1e6:7.1f} MB"
                  f"  wal {wal / 1e6:6.1f} MB  events kept {kept:>7,}"
                  f"  log messages {log_bytes / 1e6:5.1f} MB"
                  f"  accepted {rate:7.0f}/s", flush=True)  # fmt: skip
        elapsed = time.perf_counter() - start
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
    return {
        "retention": retention,
        "events": done,
        "rows": rows,
        "accepted_per_s": done / accept_s if accept_s else 0.0,
        "end_to_end_per_s": done / elapsed,
        "elapsed_s": elapsed,
        "cut_short": done < events,
    }


def _zip() -> bytes:
    from tests.support.zips import make_zip

    return make_zip({"app.py": HANDLER})


def growth_after_warmup(result: dict[str, Any], window_s: float) -> tuple[float, float] | None:
    """(db + WAL at the first row once a window and two pruning passes have passed, the
    largest db + WAL after it), in bytes: "after the first minute it stops growing"."""
    settled = window_s + 2 * min(max(window_s / 10, 1.0), 60.0)
    rows = [r["db"] + r["wal"] for r in result["rows"] if r["at_s"] >= settled]
    if len(rows) < 2:
        return None
    return rows[0], max(rows[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--window", default="60s", help="the retention of the pruned run")
    parser.add_argument("--max-seconds", type=float, default=1800.0, help="per run")
    parser.add_argument("--kept-first", action="store_true", help="run without pruning first")
    parser.add_argument("--log-retention", default=None, help="also pass this to both runs")
    args = parser.parse_args()
    window_s = parse_duration(args.window)
    print(f"sendoff retention bench: {args.events:,} events per run, window {args.window}")
    extra = ("--log-retention", args.log_retention) if args.log_retention else ()
    results = {}
    for retention in ("100d", args.window) if args.kept_first else (args.window, "100d"):
        print(f"--event-retention {retention} {' '.join(extra)}")
        results[retention] = run(args.events, retention, args.max_seconds, extra)
    pruned, kept = results[args.window], results["100d"]
    print()
    for r in (pruned, kept):
        short = " (stopped at --max-seconds)" if r["cut_short"] else ""
        last = r["rows"][-1] if r["rows"] else {"db": 0, "wal": 0}
        print(f"--event-retention {r['retention']:>5}: {r['events']:,} events in"
              f" {r['elapsed_s']:.0f} s{short}; accepted {r['accepted_per_s']:.0f}/s,"
              f" end-to-end {r['end_to_end_per_s']:.0f}/s; final db+wal"
              f" {(last['db'] + last['wal']) / 1e6:.1f} MB")  # fmt: skip
    growth = growth_after_warmup(pruned, window_s)
    if growth is None:
        print("growth once the window is full: not measured (the run was too short)")
    else:
        first, end = growth
        change = (end / first - 1) * 100
        print(f"growth once the window is full (pruned run): {first / 1e6:.1f} MB, then at"
              f" most {end / 1e6:.1f} MB ({change:+.1f}%; target within 20%)")  # fmt: skip
    accepted = pruned["accepted_per_s"] / kept["accepted_per_s"]
    end_to_end = pruned["end_to_end_per_s"] / kept["end_to_end_per_s"]
    print(f"rates with pruning / without: accepted {accepted:.3f},"
          f" end-to-end {end_to_end:.3f} (target >= 0.90)")  # fmt: skip


if __name__ == "__main__":
    main()
