"""Soak: a steady load of Event invokes for a long time; memory and files stay flat, and
every accepted event ends.

    python bench/soak.py [--minutes 30] [--rate 300] [--fail 0.05] [--malformed 0.01]

Runs a real ``sendoff server`` (embedded SQLite, ``--time-scale 0.01`` so failing events'
retries happen within seconds) on a free loopback port, with one Python function whose
handler raises for a ``--fail`` share of events and an OnFailure SQS destination (purged
every few minutes, as a consumer would). A paced client sends ``--rate`` requests a second
over keep-alive connections; a ``--malformed`` share of them are bad on purpose (invalid
JSON, an unknown function, a bad invocation type), each of which must get a 4xx.

Every 30 s it samples the server's RSS (process and children) and open file descriptors.
At the end it stops sending, waits (bounded) until no event is queued, running or retrying,
and checks that the store holds at least one terminal event per 202 it got. Loopback only;
bounded in time (``--minutes``) and count (rate x time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import client_for  # noqa: E402
from tests.support.functions import wait_active  # noqa: E402
from tests.support.server import start_server, wait_until  # noqa: E402
from tests.support.zips import make_zip  # noqa: E402

HANDLER = (
    "def handler(event, context):\n"
    "    if event.get('fail'):\n"
    "        raise RuntimeError('planned failure')\n"
    "    return event.get('n')\n"
)
ROLE = "arn:aws:iam::000000000000:role/soak"
CONNECTIONS = 8


def _request(port: int, path: str, body: bytes, invocation_type: str = "Event") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"X-Amz-Invocation-Type: {invocation_type}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def _malformed(port: int, n: int) -> bytes:
    kind = n % 3
    if kind == 0:
        return _request(port, "/2015-03-31/functions/soak/invocations", b'{"n": ')
    if kind == 1:
        return _request(port, "/2015-03-31/functions/no-such-fn/invocations", b"{}")
    return _request(port, "/2015-03-31/functions/soak/invocations", b"{}", "Sometimes")


def sample(pid: int) -> tuple[int, int]:
    """RSS in KiB of the server and its children, and the server's open descriptors."""
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    except OSError:
        pass
    rss = 0
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1])
        except OSError:
            continue
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


class Load:
    def __init__(self, port: int, rate: float, fail: float, malformed: float) -> None:
        self.port, self.rate, self.fail, self.malformed = port, rate, fail, malformed
        self.accepted = self.refused = self.unexpected = self.sent = 0
        self.queue: asyncio.Queue[tuple[bytes, bool]] = asyncio.Queue(maxsize=10_000)

    async def connection(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        while True:
            request, bad = await self.queue.get()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if length:
                await reader.readexactly(length)
            status = int(head[9:12])
            if status == 202 and not bad:
                self.accepted += 1
            elif 400 <= status < 500 and bad:
                self.refused += 1
            else:
                self.unexpected += 1
            self.queue.task_done()

    async def run(self, seconds: float, on_tick: Any) -> None:
        workers = [asyncio.create_task(self.connection()) for _ in range(CONNECTIONS)]
        path = "/2015-03-31/functions/soak/invocations"
        start = time.monotonic()
        next_sample = start
        n = 0
        while (now := time.monotonic()) - start < seconds:
            due = int((now - start) * self.rate) - n
            for _ in range(due):
                n += 1
                if random.random() < self.malformed:
                    await self.queue.put((_malformed(self.port, n), True))
                else:
                    body = json.dumps({"n": n, "fail": random.random() < self.fail}).encode()
                    await self.queue.put((_request(self.port, path, body), False))
            self.sent = n
            if now >= next_sample:
                on_tick(now - start)
                next_sample += 30
            await asyncio.sleep(0.01)
        await self.queue.join()
        for worker in workers:
            worker.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--fail", type=float, default=0.05)
    parser.add_argument("--malformed", type=float, default=0.01)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="sendoff-soak-"))
    server = start_server(data, "--time-scale", "0.01")
    samples: list[tuple[float, int, int, int]] = []
    try:
        lam, sqs = client_for(server.url, "lambda"), client_for(server.url, "sqs")
        queue_url = sqs.create_queue(QueueName="failures")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        lam.create_function(
            FunctionName="soak", Runtime="python3.12", Role=ROLE, Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": HANDLER})},
        )  # fmt: skip
        wait_active(lam, "soak")
        lam.put_function_event_invoke_config(
            FunctionName="soak", DestinationConfig={"OnFailure": {"Destination": arn}}
        )
        load = Load(server.port, args.rate, args.fail, args.malformed)
        last_purge = [time.monotonic()]

        def tick(elapsed: float) -> None:
            rss, fds = sample(server.process.pid)
            samples.append((elapsed, rss, fds, load.accepted))
            print(f"{elapsed:7.0f} s  rss {rss / 1024:7.1f} MiB  fds {fds:4d}  "
                  f"accepted {load.accepted:8d}  refused {load.refused:6d}  "
                  f"unexpected {load.unexpected}", flush=True)  # fmt: skip
            if time.monotonic() - last_purge[0] > 300:
                sqs.purge_queue(QueueUrl=queue_url)
                last_purge[0] = time.monotonic()

        started = time.monotonic()
        asyncio.run(load.run(args.minutes * 60, tick))
        sending_s = time.monotonic() - started

        def settled() -> dict[str, Any] | None:
            stats = json.loads(__import__("httpx").get(f"{server.url}/_sendoff/events/stats").text)
            states = stats["states"]
            live = sum(states.get(s, 0) for s in ("queued", "running", "retrying"))
            return stats if live == 0 else None

        stats = wait_until(settled, timeout=600, interval=1.0, message="every event terminal")
        end_rss, end_fds = sample(server.process.pid)
    finally:
        server.stop()
    first = samples[1] if len(samples) > 1 else samples[0]  # after warm-up
    states = stats["states"]
    terminal = states.get("succeeded", 0) + states.get("failed", 0)
    print(
        f"\nsent {load.sent} in {sending_s:.0f} s ({load.sent / sending_s:.0f}/s): "
        f"{load.accepted} accepted, {load.refused} malformed refused with 4xx, "
        f"{load.unexpected} unexpected answers"
    )
    print(f"store: {states} (terminal {terminal}, incl. delivery jobs)")
    print(
        f"RSS {first[1] / 1024:.1f} MiB at {first[0]:.0f} s -> {end_rss / 1024:.1f} MiB at end "
        f"(x{end_rss / first[1]:.2f}); fds {first[2]} -> {end_fds}"
    )
    ok = load.unexpected == 0 and terminal >= load.accepted
    print("every accepted event terminal:", "yes" if terminal >= load.accepted else "NO")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
