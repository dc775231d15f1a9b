"""A cgroup v2 per execution environment, when the host lets sendoff create one.

Killing a process group misses descendants that called `setsid()` (or were started
with `start_new_session`): they leave the group and, once their parent exits, are
reparented to PID 1. A cgroup holds every descendant whatever it does, and
`cgroup.kill` SIGKILLs all of them at once. Layout::

    <cgroup2 mount>/<sendoff's own cgroup>/sendoff-<server pid>/env-<n>

`memory.max` and `pids.max` are set when those controllers can be enabled; on a host
whose cgroup2 tree has none (cgroup v1 hybrid, as on many CI runners) the cgroup is
still used for killing, and memory stays enforced by RLIMIT_AS and the RSS watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
from pathlib import Path

from sendoff.model.digits import is_digits


def _cgroup2_base() -> Path | None:
    """The directory of this process's own cgroup in the cgroup2 hierarchy."""
    mount: str | None = None
    try:
        with open("/proc/mounts") as mounts:
            for line in mounts:
                fields = line.split()
                if len(fields) > 2 and fields[2] == "cgroup2":
                    mount = fields[1]
                    break
        with open("/proc/self/cgroup") as own:
            relative = next((line.strip()[3:] for line in own if line.startswith("0::")), "/")
    except OSError:
        return None
    if mount is None:
        return None
    return Path(mount) / relative.lstrip("/")


class CgroupTree:
    """`sendoff-<pid>`: the parent of this process's environment cgroups."""

    def __init__(self, root: Path, controllers: frozenset[str]) -> None:
        self.root = root
        self.controllers = controllers
        self._numbers = itertools.count(1)

    @classmethod
    def create(cls) -> CgroupTree | None:
        """Create the tree, or None when no writable cgroup2 hierarchy exists."""
        base = _cgroup2_base()
        if base is None or not os.access(base, os.W_OK):
            return None
        _remove_stale(base)
        root = base / f"sendoff-{os.getpid()}"
        try:
            root.mkdir(exist_ok=True)
        except OSError:
            return None
        if not (root / "cgroup.procs").exists():
            return None
        wanted = {"memory", "pids"} & set(_read(base / "cgroup.controllers").split())
        for name in sorted(wanted):
            # Fails (EBUSY) when sendoff's own cgroup holds processes and is not the
            # root: the "no internal processes" rule. Then there are simply no limits.
            _write(base / "cgroup.subtree_control", f"+{name}")
            _write(root / "cgroup.subtree_control", f"+{name}")
        enabled = frozenset(_read(root / "cgroup.subtree_control").split())
        return cls(root, enabled)

    def new(self, *, memory_bytes: int | None, pids_max: int | None) -> EnvCgroup | None:
        path = self.root / f"env-{next(self._numbers)}"
        try:
            path.mkdir()
        except OSError:
            return None
        if memory_bytes is not None and "memory" in self.controllers:
            _write(path / "memory.max", str(memory_bytes))
            _write(path / "memory.swap.max", "0")
        if pids_max is not None and "pids" in self.controllers:
            _write(path / "pids.max", str(pids_max))
        return EnvCgroup(path)

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            self.root.rmdir()


class EnvCgroup:
    """One environment's cgroup. The process joins it itself, before it execs the
    runtime (`join_argv`), so nothing it runs can start outside it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def join_argv(self) -> list[str]:
        """A prefix for a command line that moves the process into this cgroup, then
        execs the rest (as the same user: run it as root when dropping the uid later).

        Why a shell and not a `preexec_fn`: moving a process between cgroups waits for
        an RCU grace period (often 10-20 ms). In a `preexec_fn` that wait would happen
        while `Popen` blocks the event loop; in the child's own shell only that cold
        start waits, and `Popen` keeps its fast vfork path.
        """
        procs = str(self.path / "cgroup.procs").replace("'", "'\\''")
        # `unset PWD`: the shell would otherwise export it to the function.
        return ["/bin/sh", "-c", f"echo 0 > '{procs}' && unset PWD && exec \"$@\"", "sh"]

    def pids(self) -> list[int]:
        return [int(pid) for pid in _read(self.path / "cgroup.procs").split()]

    def kill(self) -> None:
        """SIGKILL every process in the cgroup (descendants included)."""
        if not _write(self.path / "cgroup.kill", "1"):
            for pid in self.pids():  # kernels before 5.14 have no cgroup.kill
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)

    def oom_killed(self) -> bool:
        for line in _read(self.path / "memory.events").splitlines():
            name, _, count = line.partition(" ")
            if name == "oom_kill":
                return count.strip() not in ("", "0")
        return False

    async def remove(self, timeout_s: float = 5.0) -> None:
        """Kill what is left, wait until the cgroup is empty, and delete it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        delay = 0.001
        while True:
            self.kill()
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                if loop.time() >= deadline:
                    return
            await asyncio.sleep(delay)  # processes take a moment to exit after SIGKILL
            delay = min(delay * 2, 0.05)


def _remove_stale(base: Path) -> None:
    """Delete `sendoff-<pid>` trees of sendoff processes that no longer exist."""
    for stale in base.glob("sendoff-*"):
        pid = stale.name.removeprefix("sendoff-")
        if not is_digits(pid) or Path(f"/proc/{pid}").exists():
            continue
        for env in stale.glob("env-*"):
            _write(env / "cgroup.kill", "1")
            with contextlib.suppress(OSError):
                env.rmdir()
        with contextlib.suppress(OSError):
            stale.rmdir()


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _write(path: Path, value: str) -> bool:
    try:
        with open(path, "w") as handle:
            handle.write(value)
        return True
    except OSError:
        return False
