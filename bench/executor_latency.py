"""Executor latency: warm invoke round trip and cold start, for python and node.

    python bench/executor_latency.py [--warm 2000] [--cold 20] [--loop uvloop|asyncio]

Warm: sequential `Executor.invoke` calls on one warm environment of a trivial handler
(event in, event out), timed around the `await`. Cold: each invoke uses a new revision,
so it spawns a fresh process; "cold" is the whole `invoke` (spawn -> response), "init"
is spawn -> first `/next`. Code is unpacked before timing starts.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import io
import shutil
import statistics
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any

from sendoff.executor import Executor, ExecutorSettings, FunctionSpec, InvokeRequest

FUNCTIONS = {
    "python3.12": ("app.handler", "app.py", "def handler(event, context):\n    return event\n"),
    "nodejs20.x": ("index.handler", "index.js", "exports.handler = async (event) => event;\n"),
}


class _Zips:
    def __init__(self) -> None:
        self.zips: dict[str, bytes] = {}

    def add(self, name: str, source: str) -> str:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(name, source)
        data = buffer.getvalue()
        sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
        self.zips[sha] = data
        return sha

    async def get_code_zip(self, code_sha256: str) -> bytes:
        return self.zips[code_sha256]


def _spec(runtime: str, sha: str, handler: str) -> FunctionSpec:
    name = f"bench-{runtime.replace('.', '-')}"
    return FunctionSpec(
        account_id="000000000000",
        region="us-east-1",
        function_name=name,
        function_arn=f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
        version="$LATEST",
        runtime=runtime,
        handler=handler,
        code_sha256=sha,
        timeout_s=30,
        memory_mb=256,
        environment={},
        revision="0",
    )


def _request(spec: FunctionSpec) -> InvokeRequest:
    return InvokeRequest(
        request_id=str(uuid.uuid4()),
        payload=b'{"hello": "world"}',
        invoked_function_arn=spec.function_arn,
    )


def _summary(samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return (
        f"p50 {pick(0.50):7.3f} ms  p90 {pick(0.90):7.3f} ms  p99 {pick(0.99):7.3f} ms  "
        f"mean {statistics.fmean(ordered):7.3f} ms  (n={len(ordered)})"
    )


async def _bench(warm: int, cold: int, cache_dir: Path) -> None:
    zips = _Zips()
    executor = Executor(
        ExecutorSettings(cache_dir=cache_dir, endpoint_url="http://127.0.0.1:4566"), zips
    )
    try:
        for runtime, (handler, filename, source) in FUNCTIONS.items():
            spec = _spec(runtime, zips.add(filename, source), handler)
            for _ in range(50):  # first invoke unpacks code and starts the process; JIT warm-up
                result = await executor.invoke(spec, _request(spec))
                assert result.function_error is None, result.payload
            samples = []
            for _ in range(warm):
                request = _request(spec)
                started = time.perf_counter()
                await executor.invoke(spec, request)
                samples.append((time.perf_counter() - started) * 1000)
            print(f"{runtime:11s} warm invoke  {_summary(samples)}")

            cold_ms, init_ms = [], []
            for revision in range(1, cold + 1):
                fresh = replace(spec, revision=str(revision))
                request = _request(fresh)
                started = time.perf_counter()
                result = await executor.invoke(fresh, request)
                cold_ms.append((time.perf_counter() - started) * 1000)
                assert result.cold_start and result.init_duration_ms is not None
                init_ms.append(result.init_duration_ms)
            print(f"{runtime:11s} cold invoke  {_summary(cold_ms)}")
            print(f"{runtime:11s} init (REPORT) {_summary(init_ms)}")
            await executor.stop_function(spec.function_arn)
    finally:
        await executor.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=2000)
    parser.add_argument("--cold", type=int, default=20)
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    args = parser.parse_args()
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if args.loop == "uvloop":
        import uvloop

        loop_factory = uvloop.new_event_loop
    print(f"python {sys.version.split()[0]}, loop {args.loop}")
    cache_dir = Path(tempfile.mkdtemp(prefix="sendoff-bench-"))
    try:
        coroutine: Coroutine[Any, Any, None] = _bench(args.warm, args.cold, cache_dir)
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(coroutine)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
