"""Worker processes that ``sendoff server --worker-processes N`` starts and looks after.

One Python process runs on one core at a time. With worker processes, the server process
answers the APIs while N ``sendoff worker`` children lease and run async events from the
same store (the embedded SQLite file, or PostgreSQL/Redis), each on a core of its own.

* Each child gets the server's settings as SENDOFF_* variables, so it opens the same
  store and its functions reach this server (AWS_ENDPOINT_URL).
* A child that exits while the server runs is started again, after 1 s, then 2 s, 4 s...
  up to 30 s while it keeps dying young.
* Each child holds the read end of a pipe whose write end only the server holds: if the
  server dies, even by SIGKILL, the pipe closes and the child stops (its leases go back).
  The server also writes a byte to it when it stores a job that is due now (at most one a
  millisecond, :meth:`WorkerProcesses.notify`): a child reading it leases at once, as a
  worker in the server process would, instead of at its next look at the store (its
  scheduler polls every 50 ms; on SQLite a watcher every 2 ms while the file is busy).
* Each child tells the server which jobs it started and settled, through a second pipe
  (``JobNotes``: event ids, one line each, a batch at most every 20 ms): the server's
  console re-reads those events, so its pages follow events a child runs as they follow
  the server's own (``Scheduler.changed_elsewhere``).
* On shutdown the server sends SIGTERM and waits for the children (they hand their
  unfinished jobs back), then SIGKILLs any that are still there after ``grace_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from sendoff.config.settings import Settings, settings_env
from sendoff.model.digits import is_digits

log = logging.getLogger("sendoff.workers")

PARENT_FD_ENV = "SENDOFF_PARENT_FD"
NOTES_FD_ENV = "SENDOFF_NOTES_FD"
_NOTES_EVERY_S = 0.02
_NOTE_MAX = 200  # an event id is 36 characters (delivery jobs 38): longer lines are noise
_PIPE_BUF = 4096  # writes up to this size are atomic: two children's lines never mix
_MAX_BACKOFF_S = 30.0
_HEALTHY_AFTER_S = 30.0
_NOTIFY_GAP_S = 0.001


class WorkerProcesses:
    def __init__(self, settings: Settings, count: int, *, grace_s: float = 20.0) -> None:
        self.settings = settings
        self.count = count
        self.grace_s = grace_s
        self.processes: list[asyncio.subprocess.Process | None] = [None] * count
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._pipe_read = self._pipe_write = -1
        self._notified_at = 0.0
        self._notes_read = self._notes_write = -1
        self._notes_rest = b""
        self.on_jobs: Callable[[list[str]], None] | None = None
        """Called with the ids of jobs a child started or settled (``JobNotes``)."""

    def start(self) -> None:
        if self.count == 0:
            return
        self._pipe_read, self._pipe_write = os.pipe()
        os.set_inheritable(self._pipe_read, True)
        os.set_blocking(self._pipe_write, False)  # notify() never waits for a child
        self._notes_read, self._notes_write = os.pipe()
        os.set_inheritable(self._notes_write, True)
        os.set_blocking(self._notes_read, False)
        asyncio.get_running_loop().add_reader(self._notes_read, self._read_notes)
        for index in range(self.count):
            task = asyncio.create_task(self._keep(index), name=f"sendoff-worker-{index}")
            self._tasks.append(task)

    def notify(self) -> None:
        """A job is due now: wake a child (one byte down the pipe; at most one a ms)."""
        if self._pipe_write < 0:
            return
        now = time.monotonic()
        if now - self._notified_at < _NOTIFY_GAP_S:
            return
        self._notified_at = now
        with contextlib.suppress(BlockingIOError):  # no child has read for a while
            os.write(self._pipe_write, b"!")

    def _read_notes(self) -> None:
        try:
            data = os.read(self._notes_read, 65536)
        except BlockingIOError:
            return
        lines = (self._notes_rest + data).split(b"\n")
        self._notes_rest = lines.pop()[-_NOTE_MAX:]
        ids = [line.decode(errors="replace") for line in lines if 0 < len(line) <= _NOTE_MAX]
        if ids and self.on_jobs is not None:
            try:
                self.on_jobs(ids)
            except Exception:
                log.exception("could not pass on the jobs a worker process noted")

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p is not None and p.returncode is None]

    async def _spawn(self) -> asyncio.subprocess.Process:
        env = {
            **os.environ, **settings_env(self.settings),
            PARENT_FD_ENV: str(self._pipe_read), NOTES_FD_ENV: str(self._notes_write),
        }  # fmt: skip
        env.pop("AWS_ENDPOINT_URL", None)
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sendoff.cli.main", "worker",
            env=env, pass_fds=(self._pipe_read, self._notes_write),
        )  # fmt: skip

    async def _keep(self, index: int) -> None:
        backoff = 1.0
        loop = asyncio.get_running_loop()
        while not self._stopping:
            started = loop.time()
            process = await self._spawn()
            self.processes[index] = process
            log.info("worker process %d started (pid %d)", index, process.pid)
            code = await process.wait()
            forget_metrics_of(process.pid)
            if self._stopping:
                return
            lived = loop.time() - started
            backoff = 1.0 if lived >= _HEALTHY_AFTER_S else min(backoff * 2, _MAX_BACKOFF_S)
            log.warning(
                "worker process %d (pid %d) exited with %s; starting it again in %.0f s",
                index, process.pid, code, backoff,
            )  # fmt: skip
            await asyncio.sleep(backoff)

    async def stop(self) -> None:
        self._stopping = True
        running = [p for p in self.processes if p is not None and p.returncode is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        if running:
            waits = [asyncio.create_task(p.wait()) for p in running]
            _, late = await asyncio.wait(waits, timeout=self.grace_s)
            for process in running:
                if process.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
            if late:
                await asyncio.gather(*late, return_exceptions=True)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._notes_read >= 0:
            asyncio.get_running_loop().remove_reader(self._notes_read)
        for fd in (self._pipe_read, self._pipe_write, self._notes_read, self._notes_write):
            if fd >= 0:
                os.close(fd)
        self._pipe_read = self._pipe_write = self._notes_read = self._notes_write = -1


def clear_metrics(directory: Path) -> None:
    """Remove the Prometheus files of an earlier run: its processes are gone, and their
    values must neither be added to this run's nor pile up on disk run after run."""
    shutil.rmtree(directory, ignore_errors=True)


def share_metrics(directory: Path) -> None:
    """Make this process and the workers it starts keep Prometheus values in files under
    ``directory`` (emptied first), so /metrics counts every process's events. Must run
    before ``prometheus_client`` is imported."""
    if "prometheus_client" in sys.modules:
        raise RuntimeError("share_metrics() must run before prometheus_client is imported")
    clear_metrics(directory)
    directory.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def forget_metrics_of(pid: int) -> None:
    """A worker process ended: its live gauges (ConcurrentExecutions) stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def watch_parent(
    loop: asyncio.AbstractEventLoop, stop: asyncio.Event, wake: Callable[[], None]
) -> None:
    """In a worker started by a server: ``wake`` when the server writes to its pipe (a job
    is due), stop when the pipe closes (the server died)."""
    raw = os.environ.pop(PARENT_FD_ENV, "")
    if not is_digits(raw):
        return
    fd = int(raw)
    os.set_blocking(fd, False)  # children share the pipe: the one that reads last finds none

    def on_readable() -> None:
        try:
            data = os.read(fd, 4096)  # every byte written since: one wake
        except BlockingIOError:  # another child read them first
            return
        except OSError:
            data = b""
        if data:
            wake()
            return
        log.warning("the server that started this worker is gone; stopping")
        loop.remove_reader(fd)
        stop.set()

    loop.add_reader(fd, on_readable)


class _Job(Protocol):  # a store.EventRecord (this module sits below the store)
    @property
    def id(self) -> str: ...


class JobNotes:
    """In a worker started by a server: a scheduler observer that writes the id of each
    job this process starts or settles down the server's notes pipe, a batch at most every
    ``_NOTES_EVERY_S``. Best effort: when the pipe is full (the server is not reading) a
    batch is dropped, and the server's console finds those events at its next sweep."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._ids: list[str] = []
        self._flush: asyncio.TimerHandle | None = None

    @classmethod
    def from_env(cls) -> JobNotes | None:
        raw = os.environ.pop(NOTES_FD_ENV, "")
        if not is_digits(raw):
            return None
        os.set_blocking(int(raw), False)
        return cls(int(raw))

    def job_started(self, job: _Job) -> None:
        self._note(job.id)

    def job_finished(self, job: _Job) -> None:
        self._note(job.id)

    def jobs_changed_elsewhere(self, ids: list[str]) -> None:
        return None  # a worker's own scheduler is told nothing from elsewhere

    def _note(self, job_id: str) -> None:
        self._ids.append(job_id)
        if self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(_NOTES_EVERY_S, self.flush)

    def flush(self) -> None:
        self._flush = None
        ids, self._ids = dict.fromkeys(self._ids), []  # each id once, in order
        chunk = b""
        for job_id in ids:
            line = job_id.encode() + b"\n"
            if len(chunk) + len(line) > _PIPE_BUF:
                self._write(chunk)
                chunk = b""
            chunk += line
        if chunk:
            self._write(chunk)

    def _write(self, chunk: bytes) -> None:
        with contextlib.suppress(BlockingIOError, BrokenPipeError):
            os.write(self.fd, chunk)
