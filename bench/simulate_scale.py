"""A model of many workers sharing one store, fed by measured per-event store costs.

    python bench/simulate_scale.py [--events 2000]

Step 1 measures, for each backend, what one event costs the store: the job-queue path of
one asynchronous invocation with a destination (enqueue; lease; finish; delivery enqueued
leased; delivery finish; a log append) run for ``--events`` events at concurrency 16 from one
process. Step 2 feeds those figures into a simple model of N workers (each worker's own
CPU cost per event measured by bench/async_pipeline.py, about 1 ms here) to show where the
store, not the workers, becomes the limit, and how the wake-up fan-out grows with N.
The reasoning and the conclusions are in docs/scaling.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sendoff.store import EventRecord, LogEvent, Store, open_store  # noqa: E402
from sendoff.store.base import EventState  # noqa: E402

WORKER_MS_PER_EVENT = 1.1  # server CPU per end-to-end event, bench/async_pipeline.py


async def one_event(store: Store, owner: str, n: int) -> None:
    now = time.time()
    event = EventRecord(
        id=f"e-{uuid.uuid4()}",
        function_key="a/r/f",
        state=EventState.QUEUED,
        due_at=now,
        enqueued_at=now,
        body={"kind": "invoke", "n": n},
    )
    await store.enqueue([event])
    leased = await store.lease(owner=owner, now=time.time(), limit=1, lease_s=30)
    for job in leased:
        await store.append_logs("/aws/lambda/f", "s", [LogEvent(timestamp_ms=0, message="x")])
        delivery = EventRecord(
            id=f"d-{uuid.uuid4()}",
            function_key="delivery/a/r",
            state=EventState.RUNNING,
            due_at=now,
            enqueued_at=now,
            body={"kind": "deliver"},
            lease_owner=owner,
            lease_expires_at=now + 30,
            lease_token=1,
        )
        await store.enqueue([delivery])
        await store.finish(job.id, token=job.lease_token, state=EventState.SUCCEEDED, body={})
        await store.finish(delivery.id, token=1, state=EventState.SUCCEEDED, body={})


def server_cpu_s(names: tuple[str, ...]) -> float:
    """CPU seconds used so far by every process whose command name is in ``names``."""
    import os

    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if any(name.startswith(n) for n in names):
            fields = stat[stat.rindex(")") + 2 :].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


SERVER_PROCESSES = {"sqlite": (), "postgres": ("postgres",), "redis": ("redis-server",)}


async def measure(name: str, url: str, events: int) -> tuple[float, float, float]:
    """(wall ms, this process's CPU ms, the store server's CPU ms) per event."""
    store = open_store(url)
    await store.open()
    sem = asyncio.Semaphore(16)

    async def guarded(n: int) -> None:
        async with sem:
            await one_event(store, "bench", n)

    server_before = server_cpu_s(SERVER_PROCESSES[name])
    cpu_before = time.process_time()
    start = time.perf_counter()
    await asyncio.gather(*(guarded(n) for n in range(events)))
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_before
    server = server_cpu_s(SERVER_PROCESSES[name]) - server_before
    await store.close()
    return elapsed * 1000 / events, cpu * 1000 / events, server * 1000 / events


def urls(tmp: Path) -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    return {
        "sqlite": f"sqlite:///{tmp}/sim.db",
        "postgres": f"postgresql://postgres@127.0.0.1:5432/test?schema=sim_{tag}",
        "redis": f"redis://127.0.0.1:6379/12?prefix=sim-{tag}",
    }


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    costs: dict[str, tuple[float, float, float]] = {}
    for name, url in urls(Path(tempfile.mkdtemp())).items():
        try:
            costs[name] = asyncio.run(measure(name, url, args.events))
        except Exception as exc:  # a backend that is not running
            print(f"{name}: skipped ({type(exc).__name__}: {exc})")
    print("\nstore work per event (job path of one invoke + one delivery), one process:")
    print(f"  {'':9}{'wall ms':>9}{'client CPU ms':>15}{'store server CPU ms':>21}")
    for name, (wall, client, server) in costs.items():
        print(f"  {name:9}{wall:9.3f}{client:15.3f}{server:21.3f}")
    # Model: a worker core spends WORKER_MS_PER_EVENT (runtime round trip, records, HTTP...)
    # minus SQLite's in-process store share, plus its own client CPU for this backend.
    sqlite_client = costs.get("sqlite", (0.0, 0.3, 0.0))[1]
    print(
        "\nmodel (events/s): min(workers x per-worker rate, store capacity);"
        " PostgreSQL on 8 dedicated cores, Redis on its one thread"
    )
    cores = {"sqlite": 1, "postgres": 8, "redis": 1}
    header = "".join(f"{n:>12}" for n in costs)
    print(f"  {'workers':>8}{header}")
    for workers in (1, 10, 100, 1000):
        row = []
        for name, (_, client, server) in costs.items():
            per_worker = 1000 / (WORKER_MS_PER_EVENT - sqlite_client + client)
            if name == "sqlite":  # one file, one writer: workers share one machine
                capacity = 1000 / costs[name][1]
            else:
                capacity = cores[name] * 1000 / max(server, 1e-3)
            row.append(min(workers * per_worker, capacity))
        print(f"  {workers:>8}" + "".join(f"{r:12.0f}" for r in row))


if __name__ == "__main__":
    main()
