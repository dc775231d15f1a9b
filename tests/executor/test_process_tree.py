"""FunctionProcess measures the memory of its whole process tree, keeping a few
descendants' /proc files open between measurements and none of those that are gone."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from sendoff.executor.process import _KEPT_OPEN, FunctionProcess

# A parent that forks `n` children; the first child holds 64 MiB; each waits for `stop`.
TREE = """
import os, signal, sys, time
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children that exit are reaped at once
n, stop = int(sys.argv[1]), sys.argv[2]
for i in range(n):
    if os.fork() == 0:
        ballast = bytearray(64 << 20) if i == 0 else b""
        for page in range(0, len(ballast), 4096):
            ballast[page] = 1
        open(stop + f".ready{i}", "w").close()
        while not os.path.exists(stop + f".exit{i}"):
            time.sleep(0.01)
        os._exit(0)
while not os.path.exists(stop):
    time.sleep(0.01)
"""


def _wait(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _spawn(tmp_path: Path, children: int) -> FunctionProcess:
    argv = (sys.executable, "-c", TREE, str(children), str(tmp_path / "stop"))
    return FunctionProcess.spawn(
        argv, cwd=tmp_path, env=dict(os.environ), address_space_limit_bytes=None
    )


def _ready(tmp_path: Path, children: int) -> bool:
    return all((tmp_path / f"stop.ready{i}").exists() for i in range(children))


def test_memory_counts_descendants_and_forgets_the_gone(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, int, int, int]:
        process = _spawn(tmp_path, 2)
        try:
            await asyncio.to_thread(_wait, lambda: _ready(tmp_path, 2))
            with_ballast = process.rss_bytes()
            kept = len(process._descendants)
            (tmp_path / "stop.exit0").touch()  # the child holding 64 MiB exits
            # its memory is freed a moment before it leaves its parent's children
            await asyncio.to_thread(
                _wait,
                lambda: (
                    process.rss_bytes() < with_ballast - (32 << 20)
                    and len(process._descendants) == 1
                ),
            )
            return with_ballast, kept, process.rss_bytes(), len(process._descendants)
        finally:
            (tmp_path / "stop").touch()
            (tmp_path / "stop.exit1").touch()
            await process.stop()
            os.close(process.output_fd)

    with_ballast, kept, without, kept_after = asyncio.run(scenario())
    assert with_ballast >= 64 << 20
    assert kept == 2 and kept_after == 1
    assert without < with_ballast


def test_many_descendants_are_counted_without_keeping_descriptors(tmp_path: Path) -> None:
    children = _KEPT_OPEN + 4

    async def scenario() -> tuple[int, int, int]:
        process = _spawn(tmp_path, children)
        try:
            await asyncio.to_thread(_wait, lambda: _ready(tmp_path, children))
            rss = process.rss_bytes()
            open_before = len(os.listdir("/proc/self/fd"))
            rss_again = process.rss_bytes()
            assert len(os.listdir("/proc/self/fd")) == open_before
            return rss, rss_again, len(process._descendants)
        finally:
            (tmp_path / "stop").touch()
            for i in range(children):
                (tmp_path / f"stop.exit{i}").touch()
            await process.stop()
            os.close(process.output_fd)

    rss, rss_again, kept = asyncio.run(scenario())
    assert kept == _KEPT_OPEN
    assert rss >= 64 << 20 and rss_again >= 64 << 20


def test_descriptors_are_closed_when_the_process_is_reaped(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, int]:
        before = len(os.listdir("/proc/self/fd"))
        process = _spawn(tmp_path, 3)
        await asyncio.to_thread(_wait, lambda: _ready(tmp_path, 3))
        process.rss_bytes()
        (tmp_path / "stop").touch()
        for i in range(3):
            (tmp_path / f"stop.exit{i}").touch()
        await process.stop()
        os.close(process.output_fd)  # the pipe's reader belongs to the environment
        return before, len(os.listdir("/proc/self/fd"))

    before, after = asyncio.run(scenario())
    assert after == before


# Under bwrap: the function's process forks a child that renames itself "bwrap" and forks
# in turn; it still counts, as a function process, with its 64 MiB.
IMPOSTOR = """
import os, sys, time
stop = sys.argv[1]
if os.fork() == 0:
    with open("/proc/self/comm", "w") as comm:
        comm.write("bwrap")
    ballast = bytearray(64 << 20)
    for page in range(0, len(ballast), 4096):
        ballast[page] = 1
    if os.fork() == 0:
        while not os.path.exists(stop):
            time.sleep(0.01)
        os._exit(0)
    open(stop + ".ready0", "w").close()
    os.wait()
    os._exit(0)
while not os.path.exists(stop):
    time.sleep(0.01)
"""


def test_bwraps_own_processes_are_not_counted_and_cannot_be_imitated(tmp_path: Path) -> None:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        if os.environ.get("CI") == "true":
            pytest.fail("bwrap is missing under CI")
        pytest.skip("bwrap is not installed")
    stop = str(tmp_path / "stop")
    argv = (bwrap, "--unshare-pid", "--die-with-parent", "--dev-bind", "/", "/",
            sys.executable, "-c", IMPOSTOR, stop)  # fmt: skip

    async def scenario() -> tuple[int, set[int], bool]:
        process = FunctionProcess.spawn(
            argv, cwd=tmp_path, env=dict(os.environ), address_space_limit_bytes=None,
            signal_codes=True,
        )  # fmt: skip
        try:
            await asyncio.to_thread(_wait, lambda: _ready(tmp_path, 1))
            rss = process.rss_bytes()
            children = f"/proc/{process.pid}/task/{process.pid}/children"
            inner = int(await asyncio.to_thread(Path(children).read_text))
            wrappers = set(process._wrappers)
            return rss, wrappers - {process.pid, inner}, wrappers >= {process.pid, inner}
        finally:
            (tmp_path / "stop").touch()
            await process.stop()
            os.close(process.output_fd)

    rss, others, both_skipped = asyncio.run(scenario())
    assert both_skipped  # the outer bwrap and the namespace's pid 1
    assert others == set()  # the impostor is no wrapper
    assert rss >= 64 << 20
