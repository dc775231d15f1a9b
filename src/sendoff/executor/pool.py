"""The executor: a warm pool of execution environments with concurrency caps.

* Environments are keyed by `(function_arn, version, revision)` and reused warm,
  most-recently-used first, so the surplus ones age out.
* A new environment is started when every environment of the key is busy.
* Reserved concurrency counts the in-flight invocations of a function over all its
  versions; `max_environments` caps the live environments of the whole executor (an
  idle environment of another function is evicted to make room before throttling).
* One named task (`sendoff-executor-idle-reaper`) stops environments idle for
  `idle_timeout_s`; it sleeps until the earliest deadline and never polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time

from sendoff.errors import ExecutorError, Throttled
from sendoff.executor.codecache import CodeCache
from sendoff.executor.environment import Environment, EnvironmentKey
from sendoff.executor.isolation import Isolation
from sendoff.executor.runtimes import RUNTIME_DIR
from sendoff.executor.sandbox import resolve_mode, unreachable_for_others
from sendoff.executor.values import (
    CodeSource,
    ExecutorSettings,
    FunctionSpec,
    InvokeRequest,
    InvokeResult,
)

RESERVED_LIMIT = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_LIMIT = "ConcurrentInvocationLimitExceeded"


class Executor:
    """Runs invocations in warm, reused function processes."""

    def __init__(self, settings: ExecutorSettings, code_source: CodeSource) -> None:
        self._settings = settings
        self.sandbox_mode = resolve_mode(settings.sandbox)
        self._isolation = Isolation(
            self.sandbox_mode,
            private_paths=settings.private_paths,
            executables=(settings.python_executable, settings.node_executable),
            use_cgroups=settings.use_cgroups,
        )
        self._code = CodeCache(settings.cache_dir, code_source)
        self._inherited_path = os.environ.get("PATH", os.defpath)
        self._envs: set[Environment] = set()
        self._idle: dict[EnvironmentKey, list[Environment]] = {}
        self._busy_by_function: dict[str, int] = {}
        self._busy = 0
        self._cold_starts = 0
        self._warm_starts = 0
        self._throttles = 0
        self._stopping: set[asyncio.Task[None]] = set()
        self._reaper: asyncio.Task[None] | None = None
        self._reaper_wake: asyncio.Event | None = None
        self._reaper_deadline: float | None = None
        self._closed = False

    async def prepare_code(self, code_sha256: str) -> None:
        """Fetch and unpack a package into the code cache now, before any invoke needs it
        (what moves a new function from Pending to Active: functions.lifecycle)."""
        await self._code.directory(code_sha256)

    async def invoke(self, spec: FunctionSpec, request: InvokeRequest) -> InvokeResult:
        """Run one invocation; raises `Throttled` when no concurrency is available."""
        if self._closed:
            raise ExecutorError("the executor is closed")
        arn = spec.function_arn
        in_flight = self._busy_by_function.get(arn, 0)
        if spec.reserved_concurrency is not None and in_flight >= spec.reserved_concurrency:
            self._throttles += 1
            raise Throttled(reason=RESERVED_LIMIT)
        env = self._take_idle(spec)
        at_capacity = env is None and len(self._envs) >= self._settings.max_environments
        if at_capacity and not self._evict_idle():
            self._throttles += 1
            raise Throttled(reason=ACCOUNT_LIMIT)
        if self._reaper is None:
            self._start_reaper()
        self._busy_by_function[arn] = in_flight + 1
        self._busy += 1
        try:
            if env is None:
                env = self._new_environment(spec)
                await self._start(env)
                self._cold_starts += 1
            else:
                self._warm_starts += 1
            try:
                return await env.invoke(request)
            except (ExecutorError, asyncio.CancelledError):
                raise
            except Exception as error:  # a bug here must not leave a process behind
                env.discard()
                raise ExecutorError(f"invocation {request.request_id} failed: {error}") from error
        finally:
            self._busy -= 1
            remaining = self._busy_by_function[arn] - 1
            if remaining:
                self._busy_by_function[arn] = remaining
            else:
                del self._busy_by_function[arn]
            if env is not None:
                self._release(env)

    async def stop_function(self, function_arn: str) -> None:
        """Stop every environment of a function; busy ones stop after their invocation."""
        for env in list(self._envs):
            if env.spec.function_arn != function_arn:
                continue
            if self._is_idle(env):
                env.discard()
            else:
                env.retired = True
        await self._wait_stopping()

    async def aclose(self) -> None:
        """Stop everything, busy environments included, and reap every process."""
        self._closed = True
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
            self._reaper = None
        for env in list(self._envs):
            env.discard()
        await self._wait_stopping()
        self._isolation.close()

    @property
    def uses_cgroups(self) -> bool:
        """Whether environments get a cgroup of their own (kill takes every descendant)."""
        return self._isolation.uses_cgroups

    def sandbox_warnings(self) -> list[str]:
        """What the operator should know about the sandbox in force."""
        if self.sandbox_mode == "none":
            return [
                "functions run as this server's own user, unconfined: they can read "
                "every file that user can (the data directory and its SQLite store, "
                "other functions' code, your home directory) and /proc of this server "
                "(its command line and environment). Use --sandbox bwrap (install "
                "bubblewrap) or run as root for --sandbox uid."
            ]
        if self.sandbox_mode == "uid":
            for path in (self._settings.python_executable, str(RUNTIME_DIR)):
                blocked = unreachable_for_others(path)
                if blocked is not None:
                    return [
                        f"--sandbox uid: Python functions cannot start: {blocked} is not "
                        "searchable by other users, and functions run as their own uid "
                        "(install Python and sendoff elsewhere, or use --sandbox bwrap)"
                    ]
        return []

    def protect_private_paths(self) -> None:
        """Re-apply the private paths' permissions (after the store created its files)."""
        self._isolation.protect()

    def stats(self) -> dict[str, int]:
        return {
            "environments": len(self._envs),
            "busy": self._busy,
            "idle": sum(len(envs) for envs in self._idle.values()),
            "cold_starts": self._cold_starts,
            "warm_starts": self._warm_starts,
            "throttles": self._throttles,
        }

    def pids(self) -> list[int]:
        """Process ids of the live environments (for diagnostics and tests)."""
        return [env.pid for env in self._envs if env.pid is not None]

    # -- pool bookkeeping ---------------------------------------------------------------

    def _take_idle(self, spec: FunctionSpec) -> Environment | None:
        idle = self._idle.get((spec.function_arn, spec.version, spec.revision))
        while idle:
            env = idle.pop()
            if env.alive:
                return env
        return None

    def _is_idle(self, env: Environment) -> bool:
        return env in self._idle.get(env.key, ())

    def _evict_idle(self) -> bool:
        oldest: Environment | None = None
        for envs in self._idle.values():
            for env in envs:
                if oldest is None or env.last_used < oldest.last_used:
                    oldest = env
        if oldest is None:
            return False
        oldest.discard()
        return True

    def _new_environment(self, spec: FunctionSpec) -> Environment:
        # A newer revision of the same version makes idle environments of older ones useless.
        for key, envs in list(self._idle.items()):
            if key[:2] == (spec.function_arn, spec.version) and key[2] != spec.revision:
                for stale in list(envs):
                    stale.discard()
        env = Environment(
            spec=spec,
            settings=self._settings,
            inherited_path=self._inherited_path,
            on_dead=self._forget,
            isolation=self._isolation,
        )
        self._envs.add(env)  # the slot is taken before the first await
        return env

    async def _start(self, env: Environment) -> None:
        try:
            code_dir = await self._code.directory(env.spec.code_sha256)
            await env.start(code_dir)
        except BaseException:
            env.discard()
            raise

    def _release(self, env: Environment) -> None:
        if env.alive and not env.retired and not self._closed:
            self._idle.setdefault(env.key, []).append(env)
            if self._reaper_deadline is None and self._reaper_wake is not None:
                self._reaper_wake.set()
        else:
            env.discard()
            self._forget(env)

    def _forget(self, env: Environment) -> None:
        """Called once an environment is dead or discarded: free its slot, reap it."""
        idle = self._idle.get(env.key)
        if idle is not None and env in idle:
            idle.remove(env)
            if not idle:
                del self._idle[env.key]
        if env not in self._envs:
            return
        self._envs.discard(env)
        task = asyncio.get_running_loop().create_task(
            env.stop(), name=f"sendoff-executor-stop-{env.spec.function_name}"
        )
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    async def _wait_stopping(self) -> None:
        while self._stopping:
            await asyncio.gather(*list(self._stopping), return_exceptions=True)

    # -- idle reaper ------------------------------------------------------------------------

    def _start_reaper(self) -> None:
        self._reaper_wake = asyncio.Event()
        self._reaper = asyncio.get_running_loop().create_task(
            self._reap_idle(), name="sendoff-executor-idle-reaper"
        )

    async def _reap_idle(self) -> None:
        wake = self._reaper_wake
        assert wake is not None
        timeout = self._settings.idle_timeout_s
        while True:
            now = time.monotonic()
            deadline: float | None = None
            for env in list(self._envs):
                if self._is_idle(env):
                    expires = env.last_used + timeout
                    if expires <= now:
                        env.discard()
                        continue
                else:  # busy: idle no sooner than a full timeout from now
                    expires = now + timeout
                if deadline is None or expires < deadline:
                    deadline = expires
            # Only a reaper with nothing to watch needs waking when an environment idles,
            # so back-to-back invokes never wake it.
            self._reaper_deadline = deadline
            wake.clear()
            delay = None if deadline is None else max(0.0, deadline - now)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await wake.wait()
