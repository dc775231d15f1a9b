"""Starting, watching, measuring and killing one function process (Linux).

* The process starts in its own session, so it leads a new process group and a kill
  of the group takes everything it forked that stayed in the group. Descendants that
  call `setsid()` leave it: the cgroup (or uid) of `isolation.Confinement` takes those.
* Its exit is watched through a pidfd on the event loop (no thread, no polling).
* The group is SIGKILLed *before* the leader is reaped, so the group id cannot have
  been reused by an unrelated process when the signal is sent.
* Memory is read from `/proc/<pid>/status` (VmRSS now, VmHWM peak) for the process and
  its descendants, less bubblewrap's own two processes (the outer one and the namespace's
  pid 1): they are sendoff's, not the function's (about 3.6 MB of a Python environment's
  15 MB), and skipping their status pages saves two of the three reads per invocation.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

_KIB = 1024
_KEPT_OPEN = 8
"""Descendants whose /proc files stay open between measurements (a sandbox's wrappers and
the runtime fit; a function's own forks beyond that are opened at each measurement)."""


class FunctionProcess:
    """A running function process whose stdout and stderr go to one pipe."""

    def __init__(
        self, popen: subprocess.Popen[bytes], output_fd: int, *, signal_codes: bool = False
    ) -> None:
        self._popen = popen
        self._signal_codes = signal_codes
        self._killed = False
        self.kill_tree: Callable[[], None] | None = None
        """Kills what escaped the process group (the environment's cgroup or uid)."""
        self.pid = popen.pid
        self.output_fd = output_fd
        self.exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._loop = asyncio.get_running_loop()
        self._pidfd = os.pidfd_open(self.pid)
        self._loop.add_reader(self._pidfd, self._on_exit)
        # Read after every invocation (REPORT's Max Memory Used): kept open and re-read
        # with pread, which costs one system call instead of open, read and close.
        self._status_fd = _open_proc(f"/proc/{self.pid}/status")
        self._children_fd = _open_proc(f"/proc/{self.pid}/task/{self.pid}/children")
        # The same for each descendant seen (a sandbox's wrappers, the runtime, what the
        # function forked): kept open while the descendant lives, so measuring after each
        # invocation reads without opening; a descriptor of /proc/<pid> keeps naming that
        # process (reads fail once it is gone), never a later one with the same pid.
        self._descendants: dict[int, tuple[int, int]] = {}
        # bwrap's processes (pids), once seen to be bwrap with a child: not measured
        self._bwrap = signal_codes
        self._wrappers: set[int] = set()

    @classmethod
    def spawn(
        cls,
        argv: tuple[str, ...],
        *,
        cwd: Path,
        env: Mapping[str, str],
        address_space_limit_bytes: int | None,
        user: int | None = None,
        signal_codes: bool = False,
    ) -> FunctionProcess:
        """Start `argv`; raises OSError when it cannot be executed.

        `user` runs it as that uid and gid with no supplementary groups. The address
        space limit is set with prlimit right after the fork (no `preexec_fn`: it would
        cost the vfork path), while the interpreter is still starting; sandboxed
        environments put their limits on the command line instead (`isolation`), so
        they hold before anything runs. `signal_codes`: the command is a wrapper
        (bwrap) that reports a child killed by signal N as exit status 128+N.
        """
        read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
        limits: list[tuple[int, int]] = []
        if address_space_limit_bytes is not None:
            limits.append((resource.RLIMIT_AS, address_space_limit_bytes))
        try:
            popen = subprocess.Popen(
                argv,
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=write_fd,
                stderr=write_fd,
                start_new_session=True,
                close_fds=True,
                user=user,
                group=user,
                extra_groups=[] if user is not None else None,
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        for which, value in limits:
            with contextlib.suppress(OSError):
                resource.prlimit(popen.pid, which, (value, value))
        return cls(popen, read_fd, signal_codes=signal_codes)

    @property
    def running(self) -> bool:
        return not self.exited.done()

    def kill(self) -> None:
        """SIGKILL the whole process tree and group (idempotent)."""
        self._killed = True
        if self.kill_tree is not None:
            self.kill_tree()  # first: without a cgroup it walks the tree, still intact
        if self._popen.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Kill the group and wait until the leader is reaped."""
        self.kill()
        if not self.exited.done():
            try:
                async with asyncio.timeout(timeout_s):
                    await asyncio.shield(self.exited)
            except TimeoutError:
                self._reap(block=True)

    def exit_description(self) -> str:
        """How the process ended, worded like the Go runtime AWS uses."""
        code = self._popen.returncode
        if code is None:
            return "Runtime exited without providing a reason"
        if code == 0 and self._killed:
            # Status 0 after our SIGKILL means the status was lost (Popen reads ECHILD as
            # 0 when something else reaped the child): the kill is what ended it.
            return self._describe(-signal.SIGKILL)
        return self._describe(code)

    def _describe(self, code: int) -> str:
        if code < 0:
            try:
                name = signal.strsignal(-code) or f"signal {-code}"
            except ValueError:
                name = f"signal {-code}"
            return f"Runtime exited with error: signal: {name.lower()}"
        if code == 0:
            return "Runtime exited without providing a reason"
        if self._signal_codes and 128 < code < 128 + 65:
            return self._describe(-(code - 128))
        return f"Runtime exited with error: exit status {code}"

    def rss_bytes(self) -> int:
        """Resident memory of the process and its descendants now."""
        return self._tree_kib(b"VmRSS:") * _KIB

    def peak_rss_bytes(self) -> int:
        """Peak resident memory (VmHWM) of the process and its descendants."""
        return self._tree_kib(b"VmHWM:") * _KIB

    def _tree_kib(self, field: bytes) -> int:
        if not self.running:
            return 0
        pids = _pids(_pread(self._children_fd))
        total = 0
        if not self._is_wrapper(self.pid, bool(pids)):
            total = _field_kib(_pread(self._status_fd), field)
        top_children = set(pids)
        seen: set[int] = set()
        index = 0
        while index < len(pids) and len(pids) < 256:
            pid = pids[index]
            index += 1
            if pid in seen:
                continue
            seen.add(pid)
            known = self._descendants.get(pid)
            if known is not None and pid in self._wrappers and pid in top_children:
                pids.extend(_pids(_pread(known[1])))  # bwrap's own: its children only
                continue
            status = _pread(known[0]) if known is not None else b""
            fds = known
            if fds is None or not status:  # new, or gone and its pid taken by a newer one
                if fds is not None:
                    _close_all(self._descendants.pop(pid))
                    self._wrappers.discard(pid)
                fds = (
                    _open_proc(f"/proc/{pid}/status"),
                    _open_proc(f"/proc/{pid}/task/{pid}/children"),
                )
                status = _pread(fds[0])
                if len(self._descendants) < _KEPT_OPEN:
                    self._descendants[pid] = fds
                else:  # a function that forks many: read them, keep no descriptors
                    children = _pread(fds[1])
                    _close_all(fds)
                    total += _field_kib(status, field)
                    pids.extend(_pids(children))
                    continue
            found = _pids(_pread(fds[1]))
            if not (pid in top_children and self._is_wrapper(pid, bool(found))):
                total += _field_kib(status, field)
            pids.extend(found)
        for gone in self._descendants.keys() - seen:
            _close_all(self._descendants.pop(gone))
            self._wrappers.discard(gone)
        return total

    def _is_wrapper(self, pid: int, has_children: bool) -> bool:
        """Whether `pid` (the process or one of its children) is one of bwrap's own
        processes. Only those two levels are asked, so a function cannot pass itself off
        as one: what it runs is the namespace's pid 1's child or further down. Decided
        once the process is bwrap and has a child (bwrap forks before it execs)."""
        if pid in self._wrappers:
            return True
        if not (self._bwrap and has_children):
            return False
        try:
            with open(f"/proc/{pid}/comm", "rb") as comm:
                name = comm.read().strip()
        except OSError:
            return False
        if name != b"bwrap":
            return False
        self._wrappers.add(pid)
        return True

    def _on_exit(self) -> None:
        # Kill stragglers first: while the leader is an unreaped zombie its pid, and so
        # the group id, cannot be reused.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        if self.kill_tree is not None:
            self.kill_tree()
        self._reap(block=False)

    def _reap(self, *, block: bool) -> None:
        code = self._popen.wait() if block else self._popen.poll()
        if code is None:
            return
        if self._pidfd >= 0:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = -1
        _close_all((self._status_fd, self._children_fd))
        self._status_fd = self._children_fd = -1
        for fds in self._descendants.values():
            _close_all(fds)
        self._descendants.clear()
        if not self.exited.done():
            self.exited.set_result(code)


def _open_proc(path: str) -> int:
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return -1


def _close_all(fds: tuple[int, ...]) -> None:
    for fd in fds:
        if fd >= 0:
            os.close(fd)


def _pread(fd: int) -> bytes:
    if fd < 0:
        return b""
    try:
        return os.pread(fd, 4096, 0)
    except OSError:
        return b""


def _field_kib(status: bytes, field: bytes) -> int:
    start = status.find(field)
    if start < 0:
        return 0
    end = status.find(b"\n", start)
    try:
        return int(status[start + len(field) : end if end >= 0 else None].split()[0])
    except (ValueError, IndexError):
        return 0


def _pids(text: bytes) -> list[int]:
    try:
        return [int(child) for child in text.split()]
    except ValueError:
        return []
