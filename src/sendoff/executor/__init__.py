"""Execution environments: function processes, their Runtime API, and a warm pool.

    Executor.invoke(spec, request)
      └─ pool.Executor            caps, warm reuse, idle reaper
           └─ environment.Environment   one process, one invocation at a time
                ├─ process.FunctionProcess    spawn, pidfd exit watch, kill, /proc memory
                ├─ runtime_api.RuntimeApi     the Runtime API on 127.0.0.1:<port> (httptools)
                │    └─ peers                 whose socket connected (sock_diag, /proc)
                ├─ isolation.Confinement      uid, cgroup, private /tmp, sandbox argv
                │    └─ sandbox / cgroups     modes, bwrap command line, cgroup v2
                ├─ output.OutputCapture       the process's stdout+stderr, bounded per invoke
                └─ runtimes / environ         command line and environment variables
           └─ codecache.CodeCache      zips unpacked once per CodeSha256

See docs/executor.md for the design.
"""

from sendoff.executor.codecache import PackageError, remove_unused
from sendoff.executor.environ import RESERVED_ENV_VARS
from sendoff.executor.pool import Executor
from sendoff.executor.runtime_api import MAX_PAYLOAD_BYTES
from sendoff.executor.runtimes import SUPPORTED_RUNTIMES, validate_handler
from sendoff.executor.values import (
    CodeSource,
    ExecutorSettings,
    FunctionSpec,
    InvokeRequest,
    InvokeResult,
)

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "RESERVED_ENV_VARS",
    "SUPPORTED_RUNTIMES",
    "CodeSource",
    "Executor",
    "ExecutorSettings",
    "FunctionSpec",
    "InvokeRequest",
    "InvokeResult",
    "PackageError",
    "remove_unused",
    "validate_handler",
]
