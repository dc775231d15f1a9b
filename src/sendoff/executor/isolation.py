"""Per-environment isolation: uid, cgroup, private /tmp and the sandboxed command line.

`Isolation` is built once per executor from the resolved sandbox mode; `confine()` gives
each new environment a `Confinement` (what to run, as whom, in which cgroup) and
`Confinement.release()` undoes it when the environment stops: kill every process
(cgroup, else every process of the environment's uid), delete the cgroup and the private
`TMPDIR`, and give the uid back to the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sendoff.executor import sandbox
from sendoff.executor.cgroups import CgroupTree, EnvCgroup
from sendoff.executor.peers import processes_hold_socket
from sendoff.executor.process import FunctionProcess
from sendoff.executor.runtimes import RUNTIME_DIR, LaunchPlan, server_site_packages
from sendoff.model.digits import is_digits

TASK_ROOT = "/var/task"
"""Where the code is mounted under bwrap, as on Lambda."""


@dataclass(kw_only=True)
class Confinement:
    """How one environment's process is started and what to clean up after it."""

    mode: str
    task_root: Path
    """The code directory as the function sees it (`LAMBDA_TASK_ROOT`)."""
    uid: int | None = None
    cgroup: EnvCgroup | None = None
    tmp_dir: Path | None = None
    nproc_limit: int | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    _pool: sandbox.UidPool | None = None
    _pid: int | None = None

    def wrap(
        self,
        argv: tuple[str, ...],
        code_dir: Path,
        tmp_mb: int,
        address_space_bytes: int | None,
        iso: Isolation,
    ) -> list[str]:
        """The command line to spawn:
        [join the cgroup] [prlimit] [bwrap …] [setpriv (drop the uid)] argv."""
        command = list(argv)
        if self.mode == "bwrap":
            command = sandbox.bwrap_argv(
                argv=argv,
                code_dir=code_dir,
                task_root=TASK_ROOT,
                hidden=iso.hidden,
                exposed=iso.exposed,
                tmp_mb=tmp_mb,
                uid=self.uid,
            )
        elif self.uid is not None and self.cgroup is not None:
            command = [*sandbox.setpriv_argv(self.uid), *command]  # join as root first
        if self.limits_in_argv:
            command = [*sandbox.prlimit_argv(self.nproc_limit, address_space_bytes), *command]
        if self.cgroup is not None:
            command = [*self.cgroup.join_argv(), *command]
        return command

    @property
    def limits_in_argv(self) -> bool:
        """Sandboxed environments get their rlimits from `prlimit` on the command line:
        set after the spawn they could miss what bwrap forked already."""
        return self.nproc_limit is not None

    @property
    def spawn_user(self) -> int | None:
        """The uid Popen itself drops to (uid mode without a cgroup to join first)."""
        return self.uid if self.mode == "uid" and self.cgroup is None else None

    @property
    def wrapped(self) -> bool:
        """True when argv[0] is exec'd by a wrapper (an exec error is then an exit
        status, not an OSError: check the entry point first)."""
        return self.cgroup is not None or self.mode == "bwrap" or self.limits_in_argv

    def spawn(
        self,
        plan: LaunchPlan,
        *,
        code_dir: Path,
        env: dict[str, str],
        tmp_mb: int,
        provided: bool,
        isolation: Isolation,
    ) -> FunctionProcess:
        """Start the environment's process confined; raises OSError as exec would."""
        env = {**env, **self.extra_env}
        address_space = plan.address_space_limit_bytes
        argv = self.wrap(plan.argv, code_dir, tmp_mb, address_space, isolation)
        if self.wrapped and provided:
            _check_executable(code_dir / "bootstrap", plan.argv[0])
        process = FunctionProcess.spawn(
            tuple(argv),
            cwd=code_dir,
            env=env,
            # limits already on the command line (prlimit) are not set again
            address_space_limit_bytes=None if self.limits_in_argv else address_space,
            user=self.spawn_user,
            signal_codes=self.mode == "bwrap",
        )
        process.kill_tree = self.kill
        self._pid = process.pid
        return process

    def owns_socket(self, uid: int, inode: int) -> bool:
        """Whether a socket (owner uid, inode) is this environment's."""
        if self.uid is not None:
            return uid == self.uid  # a uid of its own: the kernel's word is enough
        return processes_hold_socket(self._pids(), inode)

    def kill(self) -> None:
        """SIGKILL everything the environment started; the caller also kills the
        process group. Called on the event loop, so it never blocks:

        * a cgroup: `cgroup.kill` takes every descendant;
        * bwrap: killing bwrap kills its pid namespace's init, and the kernel then
          kills every process in the namespace (nothing can leave one);
        * otherwise the process tree as it is now; under `uid`, `release()` then kills
          every process of the uid as well. Without a cgroup or a uid of its own, a
          process whose parent already exited (a double-forked daemon) escapes.
        """
        if self.cgroup is not None:
            self.cgroup.kill()
        elif self.mode != "bwrap":
            for pid in self._pids()[1:]:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)

    async def release(self) -> None:
        """After the process is reaped: kill stragglers, remove cgroup and /tmp, free uid."""
        if self.cgroup is not None:
            await self.cgroup.remove()
        elif self.uid is not None:
            # Under bwrap too: the namespace dies with its init, but the kernel does
            # that asynchronously; the uid is handed out again only once it runs nothing.
            await asyncio.to_thread(_kill_uid, self.uid)
        if self.tmp_dir is not None:
            await asyncio.to_thread(shutil.rmtree, self.tmp_dir, True)
        if self.uid is not None and self._pool is not None:
            self._pool.release(self.uid)
            self._pool = None

    def _pids(self) -> list[int]:
        if self.cgroup is not None:
            return self.cgroup.pids()
        pids = [self._pid] if self._pid is not None else []
        index = 0
        while index < len(pids) and len(pids) < 256:
            try:
                with open(f"/proc/{pids[index]}/task/{pids[index]}/children") as children:
                    pids.extend(int(child) for child in children.read().split())
            except (OSError, ValueError):
                pass
            index += 1
        return pids


class Isolation:
    """The executor-wide part: mode, uid pool, cgroup tree, scratch directory."""

    def __init__(
        self,
        mode: str,
        *,
        private_paths: Iterable[Path],
        executables: Iterable[str],
        use_cgroups: bool = True,
    ) -> None:
        self.mode = mode
        self.drops_uid = sandbox.drops_uid(mode)
        self._uids = sandbox.UidPool() if self.drops_uid else None
        self._cgroups = CgroupTree.create() if use_cgroups else None
        self._private = tuple(private_paths)
        self._scratch: Path | None = None
        self._numbers = 0
        self._published: dict[Path, Path] = {}
        # Homes, and the per-user runtime directories (ssh-agent, keyring and D-Bus
        # sockets): a function has no business there, even when it runs as that user.
        homes = [Path(p) for p in ("/root", "/home", "/run/user") if os.path.isdir(p)]
        self.hidden = (*self._private, *homes)
        self.exposed = tuple(_runtime_paths(executables))
        if mode in ("uid", "bwrap"):
            self.protect()

    @property
    def uses_cgroups(self) -> bool:
        return self._cgroups is not None

    def protect(self) -> None:
        """Make the private paths unreadable to other uids (again: the store creates its
        files after the executor starts)."""
        if self.mode in ("uid", "bwrap"):
            sandbox.protect_private_paths(self._private)

    def confine(self, *, memory_mb: int, code_dir: Path) -> Confinement:
        task_root = Path(TASK_ROOT) if self.mode == "bwrap" else code_dir
        confinement = Confinement(mode=self.mode, task_root=task_root)
        if self._cgroups is not None and (self.mode == "none" or self._cgroups.controllers):
            # Joining a cgroup waits for an RCU grace period (10-40 ms of cold start).
            # bwrap's pid namespace and uid mode's own uid already let a stop kill
            # every descendant, so there a cgroup is only worth it for its limits.
            confinement.cgroup = self._cgroups.new(
                memory_bytes=memory_mb * 1024 * 1024, pids_max=sandbox.NPROC_LIMIT
            )
        if self._uids is not None:
            confinement.uid = self._uids.acquire()
            confinement._pool = self._uids
            confinement.nproc_limit = sandbox.NPROC_LIMIT
            if self.mode == "uid":
                confinement.tmp_dir = self._private_tmp(confinement.uid)
                confinement.extra_env["TMPDIR"] = str(confinement.tmp_dir)
        return confinement

    async def code_for(self, code_dir: Path) -> Path:
        """The code directory the function runs from.

        Under `uid` the cache is not readable by functions (it sits in the private data
        directory, often under a home directory), so each code package is published
        once, hard-linked (copied across file systems), under an unguessable name in
        the 0711 scratch directory: a function can reach only code whose name it has.
        """
        if self.mode != "uid":
            return code_dir
        published = self._published.get(code_dir)
        if published is None:
            target = self._scratch_dir() / f"code-{secrets.token_hex(16)}"
            await asyncio.to_thread(_publish, code_dir, target)
            published = self._published.setdefault(code_dir, target)
        return published

    def close(self) -> None:
        if self._cgroups is not None:
            self._cgroups.remove()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def _scratch_dir(self) -> Path:
        if self._scratch is None:
            _remove_stale_scratch()
            scratch = Path(tempfile.gettempdir()) / f"sendoff-{os.getpid()}"
            scratch.mkdir(mode=0o711, exist_ok=True)
            os.chmod(scratch, 0o711)
            self._scratch = scratch
        return self._scratch

    def _private_tmp(self, uid: int) -> Path:
        self._numbers += 1
        directory = self._scratch_dir() / f"env-{self._numbers}"
        directory.mkdir(mode=0o700)
        os.chown(directory, uid, uid)
        return directory


def _runtime_paths(executables: Iterable[str]) -> list[str]:
    """What a function needs from the host even when homes are hidden: the
    interpreter's installation, sendoff's site-packages and bootstraps, executables."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(RUNTIME_DIR)}
    paths.update(server_site_packages())
    for executable in executables:
        found = shutil.which(executable)
        if found is not None:
            paths.add(os.path.dirname(os.path.realpath(found)))
    return sorted(paths)


def _check_executable(path: Path, shown: str) -> None:
    """Raise what exec would for a missing or non-executable bootstrap (behind a wrapper
    the exec happens later, where its error is only an exit status)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, "no such file or directory", shown) from None
    if not mode & 0o111 or not stat.S_ISREG(mode):
        raise PermissionError(errno.EACCES, "permission denied", shown)


def _remove_stale_scratch() -> None:
    """Delete `/tmp/sendoff-<pid>` directories of sendoff processes that are gone."""
    for stale in Path(tempfile.gettempdir()).glob("sendoff-*"):
        pid = stale.name.removeprefix("sendoff-")
        if is_digits(pid) and not Path(f"/proc/{pid}").exists() and stale.owner() == "root":
            shutil.rmtree(stale, ignore_errors=True)


def _publish(source: Path, target: Path) -> None:
    """Hard-link (else copy) the tree `source` to `target`; directories 0755."""
    staging = target.with_name(target.name + ".part")

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, staging, symlinks=True, copy_function=link)
    for directory, _, _ in os.walk(staging):
        os.chmod(directory, 0o755)
    staging.rename(target)


def _kill_uid(uid: int) -> None:
    """SIGKILL every process of `uid`: `kill -9 -1` run as that uid signals all of them
    (but the shell itself) in one system call, so a fork loop cannot outrun it."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            ["/bin/sh", "-c", "kill -9 -1"],
            user=uid,
            group=uid,
            extra_groups=[],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=5,
            check=False,
        )
