"""The executor's value types: what to run, what to run it with, and what came back.

These are the only types the rest of sendoff passes in or gets back; everything else in
`sendoff.executor` is internal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, kw_only=True)
class FunctionSpec:
    """One function version as the executor needs it.

    Environments are reused only for the same `(function_arn, version, revision)`; bump
    `revision` whenever anything that affects the running process changes (code,
    handler, environment, memory, runtime).
    """

    account_id: str
    region: str
    function_name: str
    function_arn: str
    """Unqualified: `arn:aws:lambda:REGION:ACCT:function:NAME`."""
    version: str
    """`$LATEST` or a published version number such as `"1"`."""
    runtime: str
    handler: str
    code_sha256: str
    """Base64 SHA-256 of the deployment zip, as AWS shows `CodeSha256`."""
    timeout_s: int
    memory_mb: int
    environment: Mapping[str, str]
    revision: str
    reserved_concurrency: int | None = None
    ephemeral_storage_mb: int = 512
    """`EphemeralStorage.Size`: the size of `/tmp` where it can be enforced (bwrap)."""
    log_group: str = ""
    """`LoggingConfig.LogGroup` (`AWS_LAMBDA_LOG_GROUP_NAME`); "" for `/aws/lambda/NAME`."""


@dataclass(frozen=True, kw_only=True)
class InvokeRequest:
    """One invocation to run."""

    request_id: str
    payload: bytes
    invoked_function_arn: str
    """The ARN as invoked; it may carry `:alias` or `:version`."""
    trace_id: str | None = None
    """X-Ray trace header, passed to the runtime as `Lambda-Runtime-Trace-Id`."""
    client_context: str | None = None
    """Passed to the runtime as `Lambda-Runtime-Client-Context` (sync invokes only)."""


@dataclass(frozen=True, kw_only=True)
class InvokeResult:
    """What one invocation produced, in the shapes the Lambda API returns."""

    payload: bytes
    """The response body, or the error JSON (`errorMessage`, `errorType`, ...)."""
    function_error: str | None
    """None on success, `"Unhandled"` on any error."""
    error_type: str | None
    """`Sandbox.Timedout`, `Runtime.ExitError`, ... or the function's own `errorType`."""
    log: str
    """This invocation's log text, including the START/END/REPORT lines."""
    duration_ms: float
    billed_duration_ms: int
    max_memory_used_mb: int
    init_duration_ms: float | None
    """Set on a cold start."""
    cold_start: bool
    log_stream: str | None = None
    """The environment's log stream name (`YYYY/MM/DD/[VERSION]<hex>`)."""


class CodeSource(Protocol):
    """Where the executor fetches a deployment package it has not unpacked yet."""

    async def get_code_zip(self, code_sha256: str) -> bytes: ...


@dataclass(frozen=True, kw_only=True)
class ExecutorSettings:
    """How the executor runs functions on this host."""

    cache_dir: Path
    """Deployment packages are unpacked under `cache_dir/code/<sha256 hex>`."""
    endpoint_url: str
    """Becomes `AWS_ENDPOINT_URL` inside functions, so SDK calls reach sendoff."""
    idle_timeout_s: float = 300.0
    max_environments: int = 64
    """Cap on live environments; beyond it invokes are throttled."""
    python_executable: str = sys.executable
    node_executable: str = "node"
    session_credentials: Callable[[str, str], Mapping[str, str]] | None = None
    """(account id, function name) -> AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
    AWS_SESSION_TOKEN for a new environment (sendoff.auth.session); None: dummy values."""
    sandbox: str = "none"
    """`auto`, `none`, `uid` or `bwrap` (see sandbox.py); resolved when the executor
    starts, which fails with ExecutorError when the mode asked for is unavailable."""
    private_paths: tuple[Path, ...] = ()
    """Files and directories functions must not read (the data directory, a SQLite
    store elsewhere): hidden under bwrap, made unreadable to other uids under uid."""
    use_cgroups: bool = True
    """Give each environment a cgroup v2 when the host allows it (tests turn it off to
    exercise the fallbacks)."""
