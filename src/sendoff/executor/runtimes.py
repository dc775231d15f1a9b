"""Supported runtimes, handler validation, and the command line that starts each runtime.

* `python3.x`: `<python_executable> -u [-S] bootstrap/python_runtime.py [site-packages...]`
  (memory: RLIMIT_AS backstop + RSS watch)
* `nodejs18.x/20.x/22.x`: `<node_executable> --max-old-space-size=N bootstrap/node_runtime.mjs`
  (memory: V8 heap limit + RSS watch)
* `provided*`: `<code dir>/bootstrap` with the code dir as cwd (memory: RSS watch)

Every Python runtime version runs on the one interpreter sendoff is configured with, and
every Node.js version on the one `node`: sendoff does not ship language runtimes.
"""

from __future__ import annotations

import functools
import os
import re
import site
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

PYTHON_RUNTIMES = frozenset(f"python3.{minor}" for minor in range(9, 15))
NODE_RUNTIMES = frozenset({"nodejs18.x", "nodejs20.x", "nodejs22.x"})
PROVIDED_RUNTIMES = frozenset({"provided", "provided.al2", "provided.al2023"})
SUPPORTED_RUNTIMES: frozenset[str] = PYTHON_RUNTIMES | NODE_RUNTIMES | PROVIDED_RUNTIMES

RUNTIME_DIR = Path(__file__).resolve().parent / "bootstrap"
"""Becomes `LAMBDA_RUNTIME_DIR`; holds sendoff's own runtime bootstraps."""
PYTHON_BOOTSTRAP = RUNTIME_DIR / "python_runtime.py"
NODE_BOOTSTRAP = RUNTIME_DIR / "node_runtime.mjs"

MIB = 1024 * 1024
PYTHON_ADDRESS_SPACE_HEADROOM_MB = 1024
"""RLIMIT_AS = MemorySize + this: virtual memory is far larger than resident memory
(thread stacks, malloc arenas, mapped libraries), so the hard limit only stops runaway
allocations; the RSS watch enforces MemorySize itself."""

_HANDLER_PATTERN = re.compile(r"[^\s]+")
_MAX_HANDLER_LENGTH = 128


@dataclass(frozen=True, kw_only=True)
class LaunchPlan:
    """How to start one execution environment's process."""

    argv: tuple[str, ...]
    cwd: Path
    address_space_limit_bytes: int | None
    execution_env: str | None
    """`AWS_EXECUTION_ENV`, unset on `provided*`."""
    extra_path: tuple[str, ...]
    """Directories put in front of the inherited `PATH`."""


def validate_handler(runtime: str, handler: str) -> str | None:
    """Return why `(runtime, handler)` cannot run, or None when it can.

    AWS itself only checks the handler against `[^\\s]+` (at most 128 characters) at
    CreateFunction and fails later, at invoke time, on a handler its runtime cannot
    split; sendoff reports that earlier so the API layer can reject it up front.
    """
    if runtime not in SUPPORTED_RUNTIMES:
        supported = ", ".join(sorted(SUPPORTED_RUNTIMES))
        return f"Runtime {runtime!r} is not supported. Supported runtimes: {supported}."
    if len(handler) > _MAX_HANDLER_LENGTH or not _HANDLER_PATTERN.fullmatch(handler):
        return (
            f"Value {handler!r} at 'handler' failed to satisfy constraint: Member must "
            f"satisfy regular expression pattern: [^\\s]+ and have length less than or "
            f"equal to {_MAX_HANDLER_LENGTH}"
        )
    if runtime in PROVIDED_RUNTIMES:
        return None
    module, dot, function = handler.rpartition("/")[2].partition(".")
    if not dot or not module or not function:
        return f"Handler {handler!r} must be in the form 'file.function' for runtime {runtime}."
    return None


def launch_plan(
    *,
    runtime: str,
    code_dir: Path,
    memory_mb: int,
    python_executable: str,
    node_executable: str,
) -> LaunchPlan:
    """Build the command line for one environment of `runtime`."""
    if runtime in PYTHON_RUNTIMES:
        same_interpreter = os.path.realpath(python_executable) == os.path.realpath(sys.executable)
        # -S skips `site` (and every .pth file), which is most of a cold start; the
        # server's site-packages are then appended explicitly by the bootstrap. A
        # different interpreter keeps its own `site` so its own packages still work.
        flags = ("-u", "-S") if same_interpreter else ("-u",)
        return LaunchPlan(
            argv=(python_executable, *flags, str(PYTHON_BOOTSTRAP), *server_site_packages()),
            cwd=code_dir,
            address_space_limit_bytes=(memory_mb + PYTHON_ADDRESS_SPACE_HEADROOM_MB) * MIB,
            execution_env=f"AWS_Lambda_{runtime}",
            extra_path=(os.path.dirname(os.path.abspath(python_executable)),),
        )
    if runtime in NODE_RUNTIMES:
        old_space_mb = max(16, memory_mb * 85 // 100)
        return LaunchPlan(
            argv=(node_executable, f"--max-old-space-size={old_space_mb}", str(NODE_BOOTSTRAP)),
            cwd=code_dir,
            address_space_limit_bytes=None,
            execution_env=f"AWS_Lambda_{runtime}",
            extra_path=_executable_dirs(node_executable),
        )
    if runtime in PROVIDED_RUNTIMES:
        return LaunchPlan(
            argv=(str(code_dir / "bootstrap"),),
            cwd=code_dir,
            address_space_limit_bytes=None,
            execution_env=None,
            extra_path=(os.path.dirname(os.path.abspath(python_executable)),),
        )
    raise ValueError(f"unsupported runtime {runtime!r}")


@functools.cache
def server_site_packages() -> tuple[str, ...]:
    """The site-packages directories of the interpreter running sendoff."""
    candidates = [
        *site.getsitepackages(),
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
    ]
    seen: list[str] = []
    for path in candidates:
        if path not in seen and os.path.isdir(path):
            seen.append(path)
    return tuple(seen)


def _executable_dirs(executable: str) -> tuple[str, ...]:
    if os.sep in executable:
        return (os.path.dirname(os.path.abspath(executable)),)
    return ()
