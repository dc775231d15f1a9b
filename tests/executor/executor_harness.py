"""Harness for the executor tests: zips built in the test, a dict code source, and an
executor run inside a fresh event loop that is always closed (and checked) afterwards."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
import time
import uuid
import zipfile
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from sendoff.executor import (
    Executor,
    ExecutorSettings,
    FunctionSpec,
    InvokeRequest,
)

T = TypeVar("T")
ACCOUNT = "123456789012"
REGION = "us-east-1"
ENDPOINT = "http://127.0.0.1:4566"

FileContent = str | bytes | tuple[str | bytes, int]


def build_zip(files: Mapping[str, FileContent]) -> bytes:
    """A zip with Unix modes (0644 unless given as `(content, mode)`)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            mode = 0o644
            if isinstance(content, tuple):
                content, mode = content
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


class Harness:
    """Builds functions and runs scenarios against a real Executor."""

    def __init__(self, tmp_path: Path) -> None:
        self.cache_dir = tmp_path / "cache"
        self.zips: dict[str, bytes] = {}
        self.fetches = 0

    async def get_code_zip(self, code_sha256: str) -> bytes:
        self.fetches += 1
        return self.zips[code_sha256]

    def code(self, files: Mapping[str, FileContent]) -> str:
        data = build_zip(files)
        sha = sha256_b64(data)
        self.zips[sha] = data
        return sha

    def function(
        self,
        files: Mapping[str, FileContent],
        *,
        runtime: str = "python3.12",
        handler: str = "app.handler",
        name: str | None = None,
        **overrides: Any,
    ) -> FunctionSpec:
        name = name or f"fn-{uuid.uuid4().hex[:8]}"
        values: dict[str, Any] = {
            "account_id": ACCOUNT,
            "region": REGION,
            "function_name": name,
            "function_arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
            "version": "$LATEST",
            "runtime": runtime,
            "handler": handler,
            "code_sha256": self.code(files),
            "timeout_s": 5,
            "memory_mb": 256,
            "environment": {},
            "revision": "1",
        }
        values.update(overrides)
        return FunctionSpec(**values)

    @staticmethod
    def request(spec: FunctionSpec, payload: bytes = b"{}", **overrides: Any) -> InvokeRequest:
        values: dict[str, Any] = {
            "request_id": str(uuid.uuid4()),
            "payload": payload,
            "invoked_function_arn": spec.function_arn,
        }
        values.update(overrides)
        return InvokeRequest(**values)

    def settings(self, **overrides: Any) -> ExecutorSettings:
        values: dict[str, Any] = {"cache_dir": self.cache_dir, "endpoint_url": ENDPOINT}
        values.update(overrides)
        return ExecutorSettings(**values)

    def run(self, scenario: Callable[[Executor], Awaitable[T]], **settings: Any) -> T:
        """Run `scenario(executor)` in a fresh loop; the executor is always closed."""

        async def main() -> T:
            executor = Executor(self.settings(**settings), self)
            try:
                return await asyncio.wait_for(scenario(executor), timeout=30)
            finally:
                pids = executor.pids()
                await executor.aclose()
                assert executor.stats()["environments"] == 0
                for pid in pids:
                    assert not pid_alive(pid), f"process {pid} survived aclose()"

        return asyncio.run(main())


def pid_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rsplit(b")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in (b"Z", b"X")


async def eventually(predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Poll `predicate` until it holds, failing after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached before the deadline")
        await asyncio.sleep(0.01)


def child_pids() -> set[int]:
    found: set[int] = set()
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as children:
                found.update(int(pid) for pid in children.read().split())
        except FileNotFoundError:
            continue
    return {pid for pid in found if pid_alive(pid)}
