"""Benchmark the asynchronous pipeline on the embedded default, against Celery and RQ.

    python bench/async_pipeline.py [--events 5000] [--rq-events 2000] [--skip-peers]
                                   [--sigv4] [--accept-only]

Measures, on a real ``sendoff server`` on the embedded SQLite store, twice: the default
(``--worker-processes auto``: on two or more cores the server process answers the APIs
and one ``sendoff worker`` child runs the async events) and ``--worker-processes 0`` (one
process: the APIs and the async worker share it; row ``sendoff-1p``):

* accepted/s: Event invokes answered 202, driven by ``wrk`` when installed
  (``apt-get install wrk``), else by a raw asyncio HTTP/1.1 client;
* end-to-end/s: from the first request to the last execution record delivered in the
  function's OnSuccess SQS queue (trivial Python handler), polled about as often as the
  rate so far says is useful (each poll is a GetQueueAttributes that counts the queue's
  rows: polled every 50 ms it took 7 % of the server's profile samples on a slow run);
* server CPU per event (sendoff's own processes, with the server process's own share,
  and the function processes apart) and
  the store's write transactions and rows written per event (SQLite, the server process),
  over the end-to-end phase, so a regression shows;
* dispatch latency: from sending the Event invoke to the handler starting (p50/p99), one
  event at a time. (Until 2026-12-04 it ran from receiving the 202, which the handler
  could beat: boto3 takes longer to read a response than sendoff to start an event, and
  the p50 came out negative. Celery's and RQ's have always run from before the call.)

With ``--sigv4`` the default configuration runs a second time as ``sendoff server --auth
sigv4`` with a key made by ``sendoff credentials create``: every request is signed (boto3
for the API calls; the load generator precomputes one SigV4-signed Event invoke per
connection, with its own body, and replays it: the server verifies every request in full,
as it would a fresh signature) and the accepted/s ratio sigv4/default is printed.
``--accept-only`` measures accepted/s alone (no end-to-end or latency phases).

Then the same work through Celery and RQ (Redis broker on 127.0.0.1:6379, db 15): accepted/s
is ``apply_async``/``enqueue`` calls per second, end-to-end is the last task's result pushed
to a Redis list, dispatch latency is enqueue to task start. Figures are printed as a table
with ratios against the peers measured in the same run. Redis must be running for the peers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import client_for  # noqa: E402
from tests.support.functions import wait_active  # noqa: E402
from tests.support.server import start_server, wait_until  # noqa: E402
from tests.support.zips import make_zip  # noqa: E402

# the APIs and the async events in the server process (the default is a worker child on
# two or more cores)
ONE_PROCESS_ARGS = ("--worker-processes", "0")
HANDLER = "import time\ndef handler(event, context):\n    return {'start': time.time()}\n"
ROLE = "arn:aws:iam::000000000000:role/bench"


def event_request(
    host: str, port: int, path: str, key: dict[str, str] | None, n: int = 1
) -> tuple[bytes, dict[str, str], bytes]:
    """One Event invoke: its raw HTTP/1.1 bytes, its headers and its body; SigV4-signed
    (botocore) when ``key`` is given."""
    body = b'{"n": %d}' % n
    headers = {
        "Host": f"{host}:{port}",
        "X-Amz-Invocation-Type": "Event",
        "Content-Type": "application/json",
    }
    if key is not None:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        request = AWSRequest(
            method="POST", url=f"http://{host}:{port}{path}", data=body, headers=headers
        )
        creds = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
        SigV4Auth(creds, "lambda", "us-east-1").add_auth(request)
        headers = dict(request.headers.items())
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    raw = f"POST {path} HTTP/1.1\r\n{lines}Content-Length: {len(body)}\r\n\r\n".encode() + body
    return raw, headers, body


async def raw_blast(
    host: str,
    port: int,
    path: str,
    count: int,
    conns: int = 16,
    key: dict[str, str] | None = None,
) -> float:
    """Send ``count`` Event invokes (rounded up to a multiple of ``conns``) over ``conns``
    keep-alive connections; return req/s. With ``key``, each connection replays its own
    signed request (the server verifies every one)."""
    per = -(-count // conns)  # ceil: every connection sends the same number
    requests = [event_request(host, port, path, key, n)[0] for n in range(conns)]

    async def worker(request: bytes) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        for _ in range(per):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 202"), head[:80]
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if length:
                await reader.readexactly(length)
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker(request) for request in requests))
    return per * conns / (time.perf_counter() - start)


def wait_for_count(count: Any, target: int, start: float, *, timeout: float) -> None:
    """Poll ``count()`` until it reaches ``target``, sleeping about half the time the rate
    so far says is left (10 ms to 0.5 s): a few dozen polls instead of one every 50 ms,
    so polling (for sendoff a GetQueueAttributes that counts the queue's rows) adds
    little to the CPU measured, and the end is still seen within about 10 ms."""
    deadline = time.perf_counter() + timeout
    while (done := count()) < target:
        now = time.perf_counter()
        if now > deadline:
            raise AssertionError(f"timed out at {done} of {target}")
        rate = done / max(now - start, 1e-3)
        left = (target - done) / rate if rate > 0 else 0.5
        time.sleep(min(max(left / 2, 0.01), 0.5))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc): on a shared machine, CPU
    per request is a steadier measure of a server's cost than requests per second."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants now."""
    pids, index = [pid], 0
    while index < len(pids):
        try:
            children = Path(f"/proc/{pids[index]}/task/{pids[index]}/children").read_text()
            pids.extend(int(child) for child in children.split())
        except (OSError, ValueError):
            pass
        index += 1
    return pids


def tree_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU so far of the server's processes, split into sendoff's own (the server and its
    worker processes, in the server's session) and the function environments' (each
    starts a session of its own); ``server`` is the server process's own share of
    ``sendoff`` (the rest is its worker processes')."""
    totals = {"sendoff": 0.0, "functions": 0.0, "server": 0.0}
    session = _stat(pid)[3]
    for each in process_tree(pid):
        try:
            fields = _stat(each)
        except OSError:
            continue
        used = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        totals["sendoff" if fields[3] == session else "functions"] += used
        if each == pid:
            totals["server"] += used
    return totals


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def store_writes(url: str) -> dict[str, int]:
    """The server process's store write counters (SQLite: transactions, rows written)."""
    with urllib.request.urlopen(f"{url}/_sendoff/events/stats", timeout=30) as answer:
        counts: dict[str, int] = json.load(answer).get("store_writes", {})
    return counts


def accepted_rate(
    url: str, port: int, path: str, count: int, key: dict[str, str] | None = None
) -> tuple[float, str, int]:
    if shutil.which("wrk"):
        script = Path(tempfile.mkdtemp()) / "event.lua"
        _, headers, body = event_request("127.0.0.1", port, path, key)
        script.write_text(
            f"wrk.method = \"POST\"\nwrk.body = '{body.decode()}'\n"
            + "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in headers.items() if k != "Host")
        )
        out = subprocess.run(
            ["wrk", "-t1", "-c32", "-d5s", "-s", str(script), f"{url}{path}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rate = next(float(line.split()[1]) for line in out.splitlines() if "Requests/sec" in line)
        sent = next(int(line.split()[0]) for line in out.splitlines() if "requests in" in line)
        return rate, "wrk -t1 -c32 -d5s", sent
    rate = asyncio.run(raw_blast("127.0.0.1", port, path, count, key=key))
    return rate, "asyncio raw client, 16 conns", -(-count // 16) * 16


def create_key(data_dir: Path) -> dict[str, str]:
    """``sendoff credentials create`` on a server's data dir (before it starts)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "sendoff.cli.main", "credentials", "create",
         "--data-dir", str(data_dir), "--output", "json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    key: dict[str, str] = json.loads(done.stdout)
    return key


def keyed_client(url: str, service: str, key: dict[str, str] | None) -> Any:
    if key is None:
        return client_for(url, service)
    import boto3
    from botocore.config import Config

    make: Any = boto3.client
    return make(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1}, read_timeout=120),
    )


def sendoff_figures(
    events: int, *server_args: str, sigv4: bool = False, accept_only: bool = False
) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="sendoff-bench-"))
    if sigv4:
        server_args = (*server_args, "--auth", "sigv4")
    results: dict[str, Any] = {"server_args": " ".join(server_args)}
    key = create_key(data / "accept") if sigv4 else None
    server = start_server(data / "accept", *server_args)
    try:
        lam = keyed_client(server.url, "lambda", key)
        lam.create_function(
            FunctionName="f",
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": HANDLER})},
        )
        wait_active(lam, "f")
        path = "/2015-03-31/functions/f/invocations"
        cpu_before = cpu_seconds(server.process.pid)
        rate, client_name, sent = accepted_rate(server.url, server.port, path, events, key)
        cpu = cpu_seconds(server.process.pid) - cpu_before
        results["accepted_per_s"], results["accept_client"] = rate, client_name
        results["server_cpu_us_per_accept"] = cpu / sent * 1e6
    finally:
        server.stop()
    if accept_only:
        return results

    key = create_key(data / "e2e") if sigv4 else None
    # --time-scale: the queue is purged twice within AWS's 60 s PurgeQueue window (the
    # handler never fails, so no retry or age limit is scaled in what is measured)
    server = start_server(data / "e2e", "--time-scale", "0.001", *server_args)
    try:
        lam = keyed_client(server.url, "lambda", key)
        sqs = keyed_client(server.url, "sqs", key)
        queue_url = sqs.create_queue(QueueName="records")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        lam.create_function(
            FunctionName="f",
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": HANDLER})},
        )
        wait_active(lam, "f")
        lam.put_function_event_invoke_config(
            FunctionName="f", DestinationConfig={"OnSuccess": {"Destination": queue_arn}}
        )

        def delivered() -> int:
            attrs = sqs.get_queue_attributes(
                QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            return int(attrs["ApproximateNumberOfMessages"])

        # warm up the environments of whichever process runs async events
        invocations = "/2015-03-31/functions/f/invocations"
        asyncio.run(raw_blast("127.0.0.1", server.port, invocations, 64, key=key))
        wait_until(lambda: delivered() >= 64, timeout=60, interval=0.05)
        sqs.purge_queue(QueueUrl=queue_url)
        wait_until(lambda: delivered() == 0, timeout=60, interval=0.05)

        events = -(-events // 16) * 16
        cpu_before = tree_cpu_seconds(server.process.pid)
        writes_before = store_writes(server.url)
        start = time.perf_counter()
        asyncio.run(raw_blast("127.0.0.1", server.port, invocations, events, key=key))
        wait_for_count(delivered, events, start, timeout=600)
        results["end_to_end_per_s"] = events / (time.perf_counter() - start)
        cpu_after = tree_cpu_seconds(server.process.pid)
        writes_after = store_writes(server.url)
        for part in ("sendoff", "functions", "server"):
            used = cpu_after[part] - cpu_before[part]
            results[f"{part}_cpu_us_per_event"] = used / events * 1e6
        for name, value in writes_after.items():
            results[f"store_{name}_per_event"] = (value - writes_before.get(name, 0)) / events
        sqs.purge_queue(QueueUrl=queue_url)

        latencies = []
        for _ in range(200):
            sent_at = time.time()  # as Celery's and RQ's: before the call
            resp = lam.invoke(FunctionName="f", InvocationType="Event", Payload=b"{}")
            request_id = resp["ResponseMetadata"]["RequestId"]

            def record(request_id: str = request_id) -> dict[str, Any] | None:
                for m in sqs.receive_message(
                    QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                ).get("Messages", []):
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
                    rec: dict[str, Any] = json.loads(m["Body"])
                    if rec["requestContext"]["requestId"] == request_id:
                        return rec
                return None

            rec = wait_until(record, timeout=30)
            latencies.append((rec["responsePayload"]["start"] - sent_at) * 1000)
        latencies.sort()
        results["dispatch_p50_ms"] = statistics.median(latencies)
        results["dispatch_p99_ms"] = latencies[int(len(latencies) * 0.99) - 1]
    finally:
        server.stop()
    return results


PEER_TASKS = """
import time, redis
r = redis.Redis(host="127.0.0.1", port=6379, db=15)
def record(n, sent_at):
    start = time.time()
    r.rpush("bench:done", f"{start - sent_at}")
    return n
"""


def peer_figures(kind: str, events: int) -> dict[str, Any]:
    import redis

    work = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
    (work / "bench_tasks.py").write_text(
        PEER_TASKS
        + (
            "from celery import Celery\napp = Celery('bench', broker='redis://127.0.0.1:6379/15')\n"
            "app.conf.worker_hijack_root_logger = False\nrecord = app.task(record)\n"
            if kind == "celery"
            else ""
        )
    )
    r = redis.Redis(host="127.0.0.1", port=6379, db=15)
    r.flushdb()
    env = {**os.environ, "PYTHONPATH": str(work)}
    if kind == "celery":
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "bench_tasks",
            "worker",
            "--concurrency=2",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
        ]
    else:
        cmd = [
            sys.executable,
            "-m",
            "rq.cli",
            "worker",
            "--url",
            "redis://127.0.0.1:6379/15",
            "--quiet",
            "bench",
        ]
    worker = subprocess.Popen(
        cmd, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    sys.path.insert(0, str(work))
    try:
        import bench_tasks  # type: ignore[import-not-found]

        if kind == "celery":

            def send(n: int) -> None:
                bench_tasks.record.apply_async((n, time.time()), ignore_result=True)
        else:
            from rq import Queue

            queue = Queue("bench", connection=r)

            def send(n: int) -> None:
                queue.enqueue(bench_tasks.record, n, time.time(), result_ttl=0)

        send(-1)  # wait for the worker to be up
        wait_until(lambda: r.llen("bench:done") >= 1, timeout=60)
        r.delete("bench:done")
        start = time.perf_counter()
        for n in range(events):
            send(n)
        accepted = events / (time.perf_counter() - start)
        wait_for_count(lambda: int(r.llen("bench:done")), events, start, timeout=1200)
        e2e = events / (time.perf_counter() - start)
        r.delete("bench:done")
        lat = []
        for n in range(100):
            send(n)
            wait_until(lambda: r.llen("bench:done") >= 1, timeout=30, interval=0.0005)
            lat.append(float(r.lpop("bench:done") or 0) * 1000)
        lat.sort()
        return {
            "accepted_per_s": accepted,
            "end_to_end_per_s": e2e,
            "dispatch_p50_ms": statistics.median(lat),
            "dispatch_p99_ms": lat[98],
        }
    finally:
        worker.terminate()
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:  # an RQ worker busy in a Redis call may not stop
            worker.kill()
            worker.wait(30)
        sys.path.remove(str(work))
        sys.modules.pop("bench_tasks", None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument(
        "--rq-events", "--peer-events", dest="rq_events", type=int, default=2000,
        help="events for RQ (about 70/s end to end here); Celery runs --events",
    )  # fmt: skip
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--sigv4", action="store_true", help="also run with --auth sigv4")
    parser.add_argument("--accept-only", action="store_true", help="measure accepted/s only")
    parser.add_argument("--skip-rq", action="store_true", help="measure Celery only")
    parser.add_argument(
        "--skip-one-process", dest="skip_one_process", action="store_true",
        help="skip the --worker-processes 0 row",
    )  # fmt: skip
    parser.add_argument(
        "--rounds", type=int, default=1,
        help="with --sigv4: alternate default and sigv4 accepted/s runs N times; medians",
    )  # fmt: skip
    args = parser.parse_args()
    only = args.accept_only
    rows = {"sendoff": sendoff_figures(args.events, accept_only=only)}
    if args.sigv4:
        rows["sendoff-sigv4"] = sendoff_figures(args.events, sigv4=True, accept_only=only)
        measures = ("accepted_per_s", "server_cpu_us_per_accept")
        samples = {
            (name, m): [rows[name][m]] for name in ("sendoff", "sendoff-sigv4") for m in measures
        }
        for _ in range(args.rounds - 1):  # a shared machine is noisy: alternate, take medians
            for name, sigv4 in (("sendoff", False), ("sendoff-sigv4", True)):
                figures = sendoff_figures(args.events, sigv4=sigv4, accept_only=True)
                for m in measures:
                    samples[name, m].append(figures[m])
        for (name, m), values in samples.items():
            rows[name][m + "_samples"] = [round(v) for v in values]
            rows[name][m] = statistics.median(values)
    if not args.skip_one_process:
        rows["sendoff-1p"] = sendoff_figures(args.events, *ONE_PROCESS_ARGS, accept_only=only)
    if not args.skip_peers and not only:
        rows["celery"] = peer_figures("celery", args.events)
        if not args.skip_rq:
            rows["rq"] = peer_figures("rq", args.rq_events)
    report(rows)


def report(rows: dict[str, dict[str, Any]]) -> None:
    print(f"\n{'':10}{'accepted/s':>12}{'e2e/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for name, r in rows.items():
        figures = [r.get(k, float("nan")) for k in
                   ("end_to_end_per_s", "dispatch_p50_ms", "dispatch_p99_ms")]  # fmt: skip
        print(f"{name:10}{r['accepted_per_s']:12.0f}{figures[0]:10.0f}"
              f"{figures[1]:10.2f}{figures[2]:10.2f}")  # fmt: skip
    print(f"\nsendoff accept client: {rows['sendoff']['accept_client']}")
    print("sendoff: sendoff server (the default: --worker-processes auto)")
    print(f"sendoff-1p: sendoff server {' '.join(ONE_PROCESS_ARGS)}")
    if "sendoff-sigv4" in rows:
        ratio = rows["sendoff-sigv4"]["accepted_per_s"] / rows["sendoff"]["accepted_per_s"]
        print(f"accepted/s ratio sigv4/default: {ratio:.2f} (cost {1 - ratio:.1%})")
        cpu = [rows[n]["server_cpu_us_per_accept"] for n in ("sendoff", "sendoff-sigv4")]
        print(f"server CPU per accepted invoke: {cpu[0]:.0f} us default, {cpu[1]:.0f} us sigv4"
              f" (+{cpu[1] / cpu[0] - 1:.1%})")  # fmt: skip
    for ours in ("sendoff", "sendoff-1p"):
        if ours not in rows:
            continue
        r = rows[ours]
        if "sendoff_cpu_us_per_event" in r:
            writes = ", ".join(
                f"{k.removeprefix('store_').removesuffix('_per_event')} {v:.2f}"
                for k, v in r.items() if k.startswith("store_")
            )  # fmt: skip
            writes = writes or "not counted by this backend"
            print(f"{ours} per event end to end: sendoff CPU {r['sendoff_cpu_us_per_event']:.0f}"
                  f" us (server process {r['server_cpu_us_per_event']:.0f} us), function"
                  f" processes {r['functions_cpu_us_per_event']:.0f} us;"
                  f" store writes (API process): {writes}")  # fmt: skip
        for peer in ("celery", "rq"):
            if peer in rows:
                print(
                    f"end-to-end ratio {ours}/{peer}: "
                    f"{rows[ours]['end_to_end_per_s'] / rows[peer]['end_to_end_per_s']:.2f}x"
                )
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
