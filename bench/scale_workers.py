"""End-to-end async throughput against a shared store with 1, 2 and 4 worker processes.

    python bench/scale_workers.py [--store postgres|redis|sqlite ...] [--events 3000]

For each store and worker count: one ``sendoff server --no-workers`` (API only) and N
``sendoff worker`` processes share a fresh database (PostgreSQL schema / Redis key prefix /
SQLite file); a trivial Python function with an SQS OnSuccess destination receives
``--events`` Event invokes over raw HTTP; the figure is events per second from the first
request to the last record delivered in the queue. Prints throughput and the ratio to one
worker. PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) must be running.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from async_pipeline import HANDLER, ROLE, raw_blast  # noqa: E402
from tests.conftest import client_for  # noqa: E402
from tests.support.functions import wait_active  # noqa: E402
from tests.support.server import start_server, wait_until  # noqa: E402
from tests.support.zips import make_zip  # noqa: E402


def store_url(kind: str, data: Path) -> str:
    tag = uuid.uuid4().hex[:8]
    if kind == "postgres":
        base = os.environ.get("SENDOFF_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
        import psycopg

        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA bench_{tag}")
        sep = "&" if "?" in base else "?"
        return f"{base}{sep}options=-csearch_path%3Dbench_{tag}"
    if kind == "redis":
        return f"redis://127.0.0.1:6379/12?prefix=bench-{tag}"
    return f"sqlite:///{data}/sendoff.db"


def run(kind: str, workers: int, events: int) -> float:
    data = Path(tempfile.mkdtemp(prefix=f"sendoff-scale-{kind}-"))
    url = store_url(kind, data)
    env = {"SENDOFF_STORE": url}
    server = start_server(data / "api", "--no-workers", env=env)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sendoff.cli.main",
                "worker",
                "--port",
                str(server.port),
                "--data-dir",
                str(data / f"w{i}"),
            ],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(workers)
    ]
    try:
        lam = client_for(server.url, "lambda")
        sqs = client_for(server.url, "sqs")
        queue = sqs.create_queue(QueueName="records")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        lam.create_function(
            FunctionName="f",
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": HANDLER})},
        )
        wait_active(lam, "f")
        lam.put_function_event_invoke_config(
            FunctionName="f", DestinationConfig={"OnSuccess": {"Destination": arn}}
        )

        def delivered() -> int:
            return int(
                sqs.get_queue_attributes(
                    QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"]
                )["Attributes"]["ApproximateNumberOfMessages"]
            )

        lam.invoke(FunctionName="f", InvocationType="Event", Payload=b"{}")  # warm up
        wait_until(lambda: delivered() >= 1, timeout=120)
        events = -(-events // 16) * 16
        start = time.perf_counter()
        asyncio.run(
            raw_blast("127.0.0.1", server.port, "/2015-03-31/functions/f/invocations", events)
        )
        wait_until(lambda: delivered() >= events + 1, timeout=900, interval=0.1)
        return events / (time.perf_counter() - start)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", action="append", choices=["postgres", "redis", "sqlite"])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    for kind in args.store or ["postgres", "redis"]:
        base = None
        for workers in args.workers:
            rate = run(kind, workers, args.events)
            base = base or rate
            print(
                f"{kind:9} workers={workers}  {rate:7.0f} events/s  x{rate / base:.2f}", flush=True
            )


if __name__ == "__main__":
    main()
