"""What one async event costs the server, this tree against an earlier commit (A/B).

    python bench/event_cost.py [--base 31b3705] [--events 5000] [--rounds 3]
                               [--no-calls] [--no-syscalls]

On a machine shared with other work, events per second (and even CPU time) move with the
load; this measures the same pipeline as ``bench/async_pipeline.py`` (Event invokes, a
trivial Python handler, the record to an SQS OnSuccess destination, embedded SQLite) and
reports per event, for the base commit's ``src`` (extracted with ``git archive``) and this
tree's, alternated:

* CPU time of sendoff's processes and of the function processes (``/proc``), and the
  store's write transactions and rows written (median of ``--rounds`` runs);
* Python function calls per event, counted by cProfile: the difference between a run of
  ``--events`` and one of a fifth as many, so start-up is left out. Counts, unlike
  times, do not depend on what else the machine runs;
* system calls per event (``strace -c`` attached during the end-to-end phase, when
  strace is installed), with the most frequent ones.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from async_pipeline import HANDLER, ROLE, raw_blast, store_writes, tree_cpu_seconds, wait_for_count  # noqa: E402
from tests.conftest import client_for  # noqa: E402
from tests.support.functions import wait_active  # noqa: E402
from tests.support.server import free_port, wait_until  # noqa: E402
from tests.support.zips import make_zip  # noqa: E402

PATH = "/2015-03-31/functions/f/invocations"


def start(src: Path, data: Path, profile_to: Path | None) -> tuple[subprocess.Popen[bytes], str]:
    """``sendoff server`` from ``src`` (under cProfile when ``profile_to`` is set)."""
    port = free_port()
    data.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(src)}
    env.pop("AWS_ENDPOINT_URL", None)
    profiler = ["-m", "cProfile", "-o", str(profile_to)] if profile_to else []
    argv = [sys.executable, *profiler, "-m", "sendoff.cli.main", "server", "--port", str(port),
            "--data-dir", str(data), "--time-scale", "0.001"]  # fmt: skip
    log = (data / "server.log").open("wb")
    process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        import httpx

        assert process.poll() is None, (data / "server.log").read_text()
        try:
            return httpx.get(f"{url}/_sendoff/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(healthy, timeout=60)
    return process, url


def one_run(
    src: Path, events: int, *, profile: bool = False, trace: bool = False
) -> dict[str, Any]:
    """Warm up, then ``events`` Event invokes end to end; the costs per event."""
    data = Path(tempfile.mkdtemp(prefix="sendoff-cost-"))
    profile_to = data / "profile.out" if profile else None
    process, url = start(src, data, profile_to)
    out: dict[str, Any] = {}
    try:
        lam, sqs = client_for(url, "lambda"), client_for(url, "sqs")
        queue = sqs.create_queue(QueueName="records")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        code = {"ZipFile": make_zip({"app.py": HANDLER})}
        lam.create_function(FunctionName="f", Runtime="python3.12", Role=ROLE,
                            Handler="app.handler", Code=code)  # fmt: skip
        wait_active(lam, "f")
        lam.put_function_event_invoke_config(
            FunctionName="f",
            DestinationConfig={"OnSuccess": {"Destination": arn["Attributes"]["QueueArn"]}},
        )

        def delivered() -> int:
            attrs = sqs.get_queue_attributes(
                QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"]
            )
            return int(attrs["Attributes"]["ApproximateNumberOfMessages"])

        port = int(url.rsplit(":", 1)[1])
        asyncio.run(raw_blast("127.0.0.1", port, PATH, 64))
        wait_until(lambda: delivered() >= 64, timeout=120, interval=0.05)
        sqs.purge_queue(QueueUrl=queue)
        wait_until(lambda: delivered() == 0, timeout=60, interval=0.05)
        strace = None
        if trace:
            strace = subprocess.Popen(
                ["strace", "-c", "-f", "-p", str(process.pid), "-o", str(data / "strace")],
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1)  # attached
        cpu0, writes0 = tree_cpu_seconds(process.pid), store_writes(url)
        t0 = time.perf_counter()
        asyncio.run(raw_blast("127.0.0.1", port, PATH, events))
        wait_for_count(delivered, events, t0, timeout=1200)
        out["end_to_end_per_s"] = events / (time.perf_counter() - t0)
        if strace is not None:
            strace.send_signal(2)
            strace.wait(30)
            out["syscalls"] = _strace_counts(data / "strace", events)
        cpu1, writes1 = tree_cpu_seconds(process.pid), store_writes(url)
        for part in ("sendoff", "functions"):
            out[f"{part}_cpu_us"] = (cpu1[part] - cpu0[part]) / events * 1e6
        for name, value in writes1.items():
            out[f"store_{name}"] = (value - writes0.get(name, 0)) / events
    finally:
        process.terminate()
        process.wait(60)
    if profile_to is not None:
        stats: Any = pstats.Stats(str(profile_to)).stats  # type: ignore[attr-defined]
        out["calls"] = {key: value[1] for key, value in stats.items()}
    shutil.rmtree(data, ignore_errors=True)
    return out


def _strace_counts(path: Path, events: int) -> dict[str, float]:
    counts: dict[str, float] = {}
    for line in path.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[-1] not in ("syscall", "total") and fields[3].isdigit():
            counts[fields[-1]] = int(fields[3]) / events
    return counts


def calls_per_event(src: Path, events: int) -> tuple[float, list[tuple[float, str]]]:
    """Python calls per event: a run of ``events`` less one of ``events // 5``."""
    small, large = events // 5, events
    few = one_run(src, small, profile=True)["calls"]
    many = one_run(src, large, profile=True)["calls"]
    per = {k: (many[k] - few.get(k, 0)) / (large - small) for k in many}
    top = sorted(((v, f"{k[2]} ({Path(k[0]).name}:{k[1]})") for k, v in per.items()), reverse=True)
    return sum(per.values()), top[:12]


def extract(base: str) -> Path:
    """The base commit's ``src`` in a temporary directory."""
    target = Path(tempfile.mkdtemp(prefix="sendoff-base-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", base, "src"],
                             capture_output=True, check=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "src"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="31b3705", help="the commit to compare against")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-calls", action="store_true", help="skip the cProfile counts")
    parser.add_argument("--no-syscalls", action="store_true", help="skip the strace counts")
    args = parser.parse_args()
    sources = {"base": extract(args.base), "head": ROOT / "src"}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sources}
    for round_ in range(args.rounds):
        for name, src in sources.items():
            run = one_run(src, args.events)
            runs[name].append(run)
            print(f"round {round_ + 1} {name}: {run['end_to_end_per_s']:.0f} events/s, sendoff"
                  f" CPU {run['sendoff_cpu_us']:.0f} us, functions {run['functions_cpu_us']:.0f}"
                  f" us, transactions {run.get('store_transactions', 0):.2f}, rows written"
                  f" {run.get('store_rows_written', 0):.2f} per event", flush=True)  # fmt: skip
    medians = {
        name: {m: statistics.median(r[m] for r in rs) for m in rs[0] if isinstance(rs[0][m], float)}
        for name, rs in runs.items()
    }
    print(f"\nper event, median of {args.rounds} alternated runs (base {args.base}):")
    for measure in medians["base"]:
        b, h = medians["base"][measure], medians["head"][measure]
        ratio = f"{h / b:.3f}" if b else "-"
        print(f"  {measure:22} base {b:9.2f}  head {h:9.2f}  head/base {ratio}")
    if not args.no_calls:
        print("\nPython calls per event (cProfile):")
        for name, src in sources.items():
            total, top = calls_per_event(src, args.events // 2)
            print(f"  {name}: {total:.0f}; most: " + ", ".join(f"{f} {v:.0f}" for v, f in top[:6]))
    if not args.no_syscalls and shutil.which("strace"):
        print("\nsystem calls per event (strace -c, the server's threads):")
        for name, src in sources.items():
            counts = one_run(src, args.events // 2, trace=True)["syscalls"]
            top = sorted(counts.items(), key=lambda kv: -kv[1])[:6]
            print(f"  {name}: {sum(counts.values()):.1f}; "
                  + ", ".join(f"{k} {v:.1f}" for k, v in top))  # fmt: skip


if __name__ == "__main__":
    main()
