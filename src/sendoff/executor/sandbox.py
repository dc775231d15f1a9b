"""How function processes are isolated from the host and from each other.

Modes (`--sandbox`, see docs/executor.md for what each protects and what it does not):

* `bwrap`: each environment in bubblewrap's mount, pid, ipc and uts namespaces with a
  read-only root, the data directory hidden, the code read-only at `/var/task`, a
  private tmpfs `/tmp`, and (as root) an unprivileged uid of its own.
* `uid`: (root only) each environment under an unprivileged uid of its own, with a
  private `TMPDIR`, `RLIMIT_NPROC`, and the data directory's files made unreadable.
* `none`: the function runs as sendoff's own user and can read what that user can.
* `auto`: `bwrap` when it works, else `uid` when root, else `none`.

The modes are resolved once, when the executor starts (`resolve_mode`).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from sendoff.errors import ExecutorError

MODES = ("auto", "none", "uid", "bwrap")
UID_BASE = 120000
"""Environments run as uid/gid UID_BASE, UID_BASE+1, ... (one per live environment,
reused after it stops). Pick a range no real account on the host uses."""
NPROC_LIMIT = 1024
"""RLIMIT_NPROC for an environment's own uid: its processes and threads together."""


def is_root() -> bool:
    return os.geteuid() == 0


@functools.cache
def bwrap_path() -> str | None:
    return shutil.which("bwrap")


@functools.cache
def bwrap_works() -> str | None:
    """None when bubblewrap can build the sandbox here, else why not (probed once, with
    the command line functions get, so an option this bwrap lacks shows up now)."""
    global _TMPFS_SIZE
    if bwrap_path() is None:
        return "bwrap is not installed"
    if is_root() and (shutil.which("setpriv") is None or shutil.which("prlimit") is None):
        return "setpriv and prlimit (util-linux) are needed to drop root inside the sandbox"
    problem = _probe_bwrap()
    if problem is not None and "--size" in problem:
        _TMPFS_SIZE = False  # bwrap < 0.7: /tmp is a tmpfs without a size limit
        problem = _probe_bwrap()
    return problem


def _probe_bwrap() -> str | None:
    with tempfile.TemporaryDirectory() as code_dir:
        argv = bwrap_argv(
            argv=("/bin/true",),
            code_dir=Path(code_dir),
            task_root="/var/task",
            hidden=(),
            exposed=(),
            tmp_mb=1,
            uid=UID_BASE if is_root() else None,
        )
        try:
            probe = subprocess.run(argv, capture_output=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"bwrap failed to start: {error}"
    if probe.returncode != 0:
        return "bwrap cannot build the sandbox here: " + probe.stderr.decode(errors="replace")
    return None


_TMPFS_SIZE = True
"""Whether this bwrap knows `--size` (0.7.0 and later)."""


def uid_works() -> str | None:
    """None when `--sandbox uid` can run here, else why not."""
    if not is_root():
        return "it needs root (it runs functions as other uids)"
    if shutil.which("setpriv") is None or shutil.which("prlimit") is None:
        return "setpriv and prlimit (util-linux) are needed to drop root"
    return None


def resolve_mode(requested: str) -> str:
    """The mode to use for `requested`; raises ExecutorError when it is unavailable."""
    if requested not in MODES:
        raise ExecutorError(f"unknown sandbox mode {requested!r}")
    if requested == "bwrap":
        problem = bwrap_works()
        if problem is not None:
            raise ExecutorError(f"--sandbox bwrap is not available: {problem}")
        return "bwrap"
    if requested == "uid":
        problem = uid_works()
        if problem is not None:
            raise ExecutorError(f"--sandbox uid is not available: {problem}")
        return "uid"
    if requested == "none":
        return "none"
    if bwrap_works() is None:
        return "bwrap"
    return "uid" if uid_works() is None else "none"


def drops_uid(mode: str) -> bool:
    """Whether environments get a uid of their own in `mode`."""
    return is_root() and mode in ("uid", "bwrap")


class UidPool:
    """Hands out the lowest free uid from UID_BASE; one per live environment.

    The server and its worker processes each run environments, so a uid is taken by
    holding an exclusive `flock` on `<lock dir>/<uid>` for as long as it is in use: the
    kernel drops the lock when the holder exits, however it exits.
    """

    def __init__(self, base: int = UID_BASE, lock_dir: Path | None = None) -> None:
        self._base = base
        self._held: dict[int, int] = {}
        self._lock_dir = lock_dir or _uid_lock_dir()

    def acquire(self) -> int:
        uid = self._base
        while True:
            if uid not in self._held:
                fd = os.open(
                    self._lock_dir / str(uid), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
                )
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                else:
                    self._held[uid] = fd
                    return uid
            uid += 1

    def release(self, uid: int) -> None:
        fd = self._held.pop(uid, None)
        if fd is not None:
            os.close(fd)


def _uid_lock_dir() -> Path:
    """A root-only directory for the uid locks (`/run/sendoff-uids` when possible)."""
    for parent in ("/run", tempfile.gettempdir()):
        directory = Path(parent) / "sendoff-uids"
        with contextlib.suppress(OSError):
            directory.mkdir(mode=0o700, exist_ok=True)
            info = directory.lstat()
            if stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid():
                os.chmod(directory, 0o700)
                return directory
    raise ExecutorError("no private directory for the uid locks (/run or the temp dir)")


def unreachable_for_others(path: str) -> str | None:
    """The first directory on the way to `path` that other users cannot search."""
    current = Path(path).resolve()
    for directory in reversed(current.parents):
        try:
            mode = directory.stat().st_mode
        except OSError:
            return str(directory)
        if not mode & stat.S_IXOTH:
            return str(directory)
    return None


def protect_private_paths(paths: Iterable[Path]) -> None:
    """Make `paths` useless to another uid: a directory becomes 0700 and its files lose
    every group/other permission (in case it is opened up again later); a file loses
    them too. SQLite creates `-wal`/`-shm` files with the database file's mode, so they
    follow. (Functions never need the code cache inside: under `uid` their code is
    published elsewhere, under `bwrap` it is bind-mounted.)"""
    for path in paths:
        try:
            info = path.lstat()
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode):
            with contextlib.suppress(OSError):
                os.chmod(path, 0o700)
            with contextlib.suppress(OSError):
                for entry in os.scandir(path):
                    if entry.is_file(follow_symlinks=False):
                        _drop_others(Path(entry.path))
        elif stat.S_ISREG(info.st_mode):
            for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                _drop_others(candidate)


def _drop_others(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.chmod(path, stat.S_IMODE(path.lstat().st_mode) & 0o700)


def _namespace_flags() -> list[str]:
    return ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session"]  # fmt: skip


def bwrap_argv(
    *,
    argv: tuple[str, ...],
    code_dir: Path,
    task_root: str,
    hidden: Iterable[Path],
    exposed: Iterable[str],
    tmp_mb: int,
    uid: int | None,
) -> list[str]:
    """The bubblewrap command line that runs `argv` in a fresh sandbox.

    `hidden` paths get an empty tmpfs over them (directories) or `/dev/null` (files);
    `exposed` paths under a hidden one are bound back read-only (e.g. a Python
    installed under /root, which is hidden as a home directory).
    """
    bwrap = bwrap_path()
    assert bwrap is not None
    out = [bwrap, *_namespace_flags(), *_root_binds()]
    # The private /tmp first: what a runtime needs from under it (sendoff checked out or
    # installed below /tmp, as CI clones often are) is bound back like anything hidden.
    size = ["--size", str(tmp_mb * 1024 * 1024)] if _TMPFS_SIZE else []
    out += ["--perms", "1777", *size, "--tmpfs", "/tmp"]
    hidden_dirs: list[str] = ["/tmp"]
    for path in hidden:
        if str(path).startswith("/tmp/"):
            continue  # already out of sight under the private /tmp
        if path.is_dir():
            out += ["--tmpfs", str(path)]
            hidden_dirs.append(str(path))
        elif path.exists():
            out += ["--ro-bind", "/dev/null", str(path)]
    for shown in sorted(set(exposed)):
        inside = [d for d in hidden_dirs if shown.startswith(d.rstrip("/") + "/")]
        if inside and os.path.exists(shown):
            base = max(inside, key=len)  # the innermost hidden directory is on top
            # bwrap would create the missing parents 0700: create them searchable.
            parents = Path(shown).relative_to(base).parents
            for parent in reversed(parents[:-1]):
                out += ["--perms", "0755", "--dir", str(Path(base) / parent)]
            out += ["--ro-bind", shown, shown]
    out += ["--proc", "/proc", "--dev", "/dev"]
    out += ["--ro-bind", str(code_dir), task_root, "--chdir", task_root]
    out += ["--remount-ro", "/", "--hostname", "localhost"]
    out += ["--"]
    if uid is not None:
        out += setpriv_argv(uid)
    return [*out, *argv]


def prlimit_argv(nproc: int | None, address_space_bytes: int | None) -> list[str]:
    """Set RLIMIT_NPROC / RLIMIT_AS (soft = hard) for the rest of a command line."""
    found = shutil.which("prlimit")
    if found is None:
        raise ExecutorError("the uid and bwrap sandboxes need prlimit (util-linux)")
    out = [found]
    if nproc is not None:
        out.append(f"--nproc={nproc}:{nproc}")
    if address_space_bytes is not None:
        out.append(f"--as={address_space_bytes}:{address_space_bytes}")
    return [*out, "--"]


def setpriv_argv(uid: int) -> list[str]:
    """Run the rest of a command line as `uid`/`uid`, no groups, no capabilities."""
    return [_setpriv(), f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]  # fmt: skip


@functools.cache
def _root_binds() -> tuple[str, ...]:
    """The host's root, read-only, entry by entry (and `/var` one level down).

    Not `--ro-bind / /`: on a read-only root bwrap could not create `/var/task`, the
    code's mount point. The sandbox's own root is a tmpfs holding these binds, made
    read-only once everything is mounted (`--remount-ro /`).
    """
    out: list[str] = ["--perms", "0755", "--dir", "/var"]
    for parent in ("/", "/var"):
        try:
            names = sorted(os.listdir(parent))
        except OSError:
            continue
        for name in names:
            path = os.path.join(parent, name)
            if path in ("/proc", "/dev", "/tmp", "/var", "/var/task"):
                continue
            if os.path.islink(path):
                out += ["--symlink", os.readlink(path), path]
            elif os.path.isdir(path):
                out += ["--ro-bind", path, path]
    return tuple(out)


@functools.cache
def _setpriv() -> str:
    found = shutil.which("setpriv")
    if found is None:
        raise ExecutorError("--sandbox bwrap as root needs setpriv (util-linux) to drop the uid")
    return found
