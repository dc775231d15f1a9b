"""One execution environment: a function process, its Runtime API, one invocation at a time.

Life cycle::

    start() ──> [starting] ──first invoke──> [busy] ──result──> [idle] ──invoke──> [busy] ...
                                              │
                  init error, timeout, exit, OOM, abort ──> [dead]  (process group killed)

An invocation ends with exactly one outcome, whichever comes first: the runtime's reply,
the timeout timer, the process exiting, or the memory watch.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sendoff.executor import reports
from sendoff.executor.environ import build_environment, new_identity
from sendoff.executor.isolation import Confinement, Isolation
from sendoff.executor.output import BoundedLog, OutputCapture
from sendoff.executor.process import FunctionProcess
from sendoff.executor.runtime_api import Delivery, ReplyKind, RuntimeApi, RuntimeReply
from sendoff.executor.runtimes import MIB, PROVIDED_RUNTIMES, launch_plan
from sendoff.executor.values import (
    ExecutorSettings,
    FunctionSpec,
    InvokeRequest,
    InvokeResult,
)

INIT_TIMEOUT_S = 10.0
"""Lambda's limit on the init phase of an on-demand environment."""
MEMORY_POLL_S = 0.05
"""How often a running invocation's resident memory is checked against MemorySize."""

EnvironmentKey = tuple[str, str, str]
"""(function_arn, version, revision): environments are reused only within one key."""


@dataclass(frozen=True, kw_only=True)
class _Stopped:
    """The platform ended the invocation."""

    error_type: str
    message: str
    log_lines: str


_Outcome = RuntimeReply | _Stopped


class Environment:
    """A process running one function version, reused while it stays healthy."""

    def __init__(
        self,
        *,
        spec: FunctionSpec,
        settings: ExecutorSettings,
        inherited_path: str,
        on_dead: Callable[[Environment], None],
        isolation: Isolation,
    ) -> None:
        self.spec = spec
        self.key: EnvironmentKey = (spec.function_arn, spec.version, spec.revision)
        self.identity = new_identity(spec)
        self.alive = True
        self.retired = False
        self.invocations = 0
        self.last_used = time.monotonic()
        self._settings = settings
        self._inherited_path = inherited_path
        self._on_dead = on_dead
        self._isolation = isolation
        self._confinement: Confinement | None = None
        self._api = RuntimeApi(self)
        self._process: FunctionProcess | None = None
        self._output: OutputCapture | None = None
        self._spawn_error: OSError | None = None
        self._entrypoint = ""
        self._spawned_at = 0.0
        self._ready_at: float | None = None
        self._delivered_at: float | None = None
        self._replied_at: float | None = None
        self._before_start: BoundedLog | None = None
        self._outcome: asyncio.Future[_Outcome] | None = None
        self._request: InvokeRequest | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._memory_timer: asyncio.TimerHandle | None = None
        self._deadline_from_invoke = False  # a warm invoke times out from its start
        self._peak_rss = 0
        self._peak_read_at = 0.0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def start(self, code_dir: Path) -> None:
        """Open the Runtime API and start the process (a failed exec is reported by
        the first invoke as `Runtime.InvalidEntrypoint`)."""
        port = await self._api.start()
        code_dir = await self._isolation.code_for(code_dir)
        confinement = self._isolation.confine(memory_mb=self.spec.memory_mb, code_dir=code_dir)
        self._confinement = confinement
        plan = launch_plan(
            runtime=self.spec.runtime,
            code_dir=confinement.task_root,
            memory_mb=self.spec.memory_mb,
            python_executable=self._settings.python_executable,
            node_executable=self._settings.node_executable,
        )
        self._entrypoint = plan.argv[0]
        env = build_environment(
            spec=self.spec,
            plan=plan,
            identity=self.identity,
            runtime_api=f"127.0.0.1:{port}",
            endpoint_url=self._settings.endpoint_url,
            inherited_path=self._inherited_path,
            credentials=(self._settings.session_credentials or (lambda *_: {}))(
                self.spec.account_id, self.spec.function_name
            ),
        )
        self._spawned_at = time.perf_counter()
        try:
            process = confinement.spawn(
                plan,
                code_dir=code_dir,
                env=env,
                tmp_mb=self.spec.ephemeral_storage_mb,
                provided=self.spec.runtime in PROVIDED_RUNTIMES,
                isolation=self._isolation,
            )
        except OSError as error:
            self._spawn_error = error
            self.alive = False
            self._api.close()
            return
        self._process = process
        self._output = OutputCapture(process.output_fd)
        self._output.start()
        process.exited.add_done_callback(self._process_exited)

    async def invoke(self, request: InvokeRequest) -> InvokeResult:
        cold = self.invocations == 0
        self.invocations += 1
        if self._spawn_error is not None:
            return self._entrypoint_error(request, self._spawn_error)
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[_Outcome] = loop.create_future()
        self._outcome = outcome
        self._request = request
        self._delivered_at = self._replied_at = None
        self._before_start = None
        if self._ready_at is None:
            self._timer = loop.call_later(INIT_TIMEOUT_S, self._init_timed_out)
        else:  # warm: the timeout runs from now, even if the runtime never takes the event
            self._timer = loop.call_later(self.spec.timeout_s, self._timed_out)
            self._deadline_from_invoke = True
        if not self.alive:
            self._exited_during_invoke()
        self._api.offer(
            Delivery(
                request_id=request.request_id,
                payload=request.payload or b"{}",
                invoked_function_arn=request.invoked_function_arn,
                timeout_ms=self.spec.timeout_s * 1000,
                trace_id=request.trace_id,
                client_context=request.client_context,
            )
        )
        try:
            result = await outcome
        except asyncio.CancelledError:
            self.discard()
            raise
        finally:
            self._cancel_timers()
            self._outcome = None
        return self._finish(request, result, cold)

    def discard(self) -> None:
        """Kill the process now; `stop()` finishes the clean-up."""
        if self.alive:
            self.alive = False
            self._on_dead(self)
        self._api.close()
        if self._process is not None:
            self._process.kill()

    async def stop(self) -> None:
        """Kill the process group, reap it, close the listener and the pipe."""
        self.discard()
        if self._process is not None:
            await self._process.stop()
        self._exited_during_invoke()  # no-op unless an invocation is still waiting
        if self._output is not None:
            self._output.close()
        if self._confinement is not None:
            confinement, self._confinement = self._confinement, None
            await confinement.release()

    # -- RuntimeEvents -----------------------------------------------------------------

    def owns_socket(self, uid: int, inode: int) -> bool:
        confinement = self._confinement
        return confinement is not None and confinement.owns_socket(uid, inode)

    def runtime_waiting(self) -> None:
        if self._ready_at is None:
            self._ready_at = time.perf_counter()

    def invocation_delivered(self, request_id: str) -> None:
        self._delivered_at = time.perf_counter()
        if self._output is not None:
            self._output.drain()
            self._before_start = self._output.take()
        loop = asyncio.get_running_loop()
        if not self._deadline_from_invoke:  # cold: the init timer gives way to the timeout
            if self._timer is not None:
                self._timer.cancel()
            self._timer = loop.call_later(self.spec.timeout_s, self._timed_out)
        self._memory_timer = loop.call_later(MEMORY_POLL_S, self._check_memory)

    def runtime_replied(self, reply: RuntimeReply) -> None:
        self._replied_at = time.perf_counter()
        if self._outcome is not None and not self._outcome.done():
            self._outcome.set_result(reply)
        elif reply.kind is ReplyKind.INIT_ERROR:
            self.discard()

    # -- platform-side endings -----------------------------------------------------------

    def _stop_invocation(self, error_type: str, message: str, log_lines: str) -> None:
        if self._outcome is not None and not self._outcome.done():
            self._outcome.set_result(
                _Stopped(error_type=error_type, message=message, log_lines=log_lines)
            )

    def _timed_out(self) -> None:
        request = self._request
        if request is None:
            return
        timeout = float(self.spec.timeout_s)
        self._stop_invocation(
            "Sandbox.Timedout",
            reports.timeout_message(request.request_id, timeout),
            reports.timeout_log_line(request.request_id, timeout),
        )

    def _init_timed_out(self) -> None:
        request = self._request
        if request is None:
            return
        self._stop_invocation(
            "Sandbox.Timedout",
            reports.timeout_message(request.request_id, INIT_TIMEOUT_S),
            reports.timeout_log_line(request.request_id, INIT_TIMEOUT_S),
        )

    def _check_memory(self) -> None:
        process = self._process
        if process is None or self._outcome is None or self._outcome.done():
            return
        rss = process.rss_bytes()
        self._peak_rss = max(self._peak_rss, rss)
        if rss > self.spec.memory_mb * MIB:
            process.kill()
            message = "Runtime exited with error: signal: killed"
            request_id = self._request.request_id if self._request else ""
            self._stop_invocation(
                "Runtime.OutOfMemory",
                f"RequestId: {request_id} Error: {message}",
                f"RequestId: {request_id} Error: {message}\nRuntime.OutOfMemory\n",
            )
            return
        self._memory_timer = asyncio.get_running_loop().call_later(
            MEMORY_POLL_S, self._check_memory
        )

    def _process_exited(self, _: asyncio.Future[int]) -> None:
        was_alive, self.alive = self.alive, False
        if self._outcome is not None and not self._outcome.done():
            # Read what the runtime sent just before exiting (a response posted right
            # before `exit` still counts) before declaring the exit; the pool cleans up
            # once the invocation has returned.
            self._api.call_when_quiet(self._exited_during_invoke)
            return
        self._api.close()
        if was_alive:
            self._on_dead(self)

    def _exited_during_invoke(self) -> None:
        request = self._request
        if request is None:
            return
        message = f"RequestId: {request.request_id} Error: {self._exit_message()}"
        confinement = self._confinement
        cgroup = confinement.cgroup if confinement is not None else None
        # memory.max (when the host lets sendoff set it) kills in the kernel: say so.
        error_type = (
            "Runtime.OutOfMemory"
            if cgroup is not None and cgroup.oom_killed()
            else "Runtime.ExitError"
        )
        self._stop_invocation(error_type, message, f"{message}\n{error_type}\n")

    def _exit_message(self) -> str:
        if self._process is None:
            return "Runtime exited without providing a reason"
        return self._process.exit_description()

    def _cancel_timers(self) -> None:
        self._deadline_from_invoke = False
        for timer in (self._timer, self._memory_timer):
            if timer is not None:
                timer.cancel()
        self._timer = self._memory_timer = None

    # -- building the result ---------------------------------------------------------------

    def _finish(self, request: InvokeRequest, outcome: _Outcome, cold: bool) -> InvokeResult:
        now = time.perf_counter()
        output = self._output
        if output is not None:
            output.drain()
        during = output.take() if output is not None else BoundedLog()
        before = self._before_start
        if before is None:  # never delivered: everything printed belongs to init
            before, during = during, BoundedLog()
        self._before_start = None
        replied = self._replied_at if isinstance(outcome, RuntimeReply) else None
        delivered = self._delivered_at
        duration_ms = ((replied or now) - delivered) * 1000 if delivered is not None else 0.0
        init_duration_ms: float | None = None
        if cold:
            init_end = self._ready_at or replied or now
            init_duration_ms = (init_end - self._spawned_at) * 1000
        if (
            self._process is not None
            and self._process.running
            and (cold or duration_ms >= 1.0 or now - self._peak_read_at >= 0.1)
        ):
            # VmHWM costs the kernel a whole /proc status page. An invocation shorter than
            # a millisecond cannot have grown the peak by much: read it again only after
            # longer ones, and at least every 100 ms.
            self._peak_read_at = now
            self._peak_rss = max(self._peak_rss, self._process.peak_rss_bytes())
        max_memory_mb = min(self.spec.memory_mb, math.ceil(self._peak_rss / MIB))

        payload, error_type, extra_log, keep = self._interpret(request, outcome)
        if not keep:
            self.discard()
        billed = reports.billed_duration(duration_ms)
        log = "".join(
            (
                _with_newline(before.text()),
                reports.start_line(request.request_id, self.spec.version),
                _with_newline(during.text()),
                extra_log,
                reports.end_line(request.request_id),
                reports.report_line(
                    request_id=request.request_id,
                    duration_ms=duration_ms,
                    billed_duration_ms=billed,
                    memory_mb=self.spec.memory_mb,
                    max_memory_used_mb=max_memory_mb,
                    init_duration_ms=init_duration_ms,
                ),
            )
        )
        self.last_used = time.monotonic()
        self._request = None
        return InvokeResult(
            payload=payload,
            function_error=None if error_type is None else "Unhandled",
            error_type=error_type,
            log=log,
            duration_ms=duration_ms,
            billed_duration_ms=billed,
            max_memory_used_mb=max_memory_mb,
            init_duration_ms=init_duration_ms,
            cold_start=cold,
            log_stream=self.identity.log_stream_name,
        )

    def _interpret(
        self, request: InvokeRequest, outcome: _Outcome
    ) -> tuple[bytes, str | None, str, bool]:
        """(payload, error type, extra log lines, keep the environment)."""
        if isinstance(outcome, _Stopped):
            payload = reports.error_payload(outcome.error_type, outcome.message)
            return payload, outcome.error_type, outcome.log_lines, False
        if outcome.kind is ReplyKind.RESPONSE:
            return outcome.body, None, "", True
        if outcome.kind is ReplyKind.TOO_LARGE:
            error_type = "Function.ResponseSizeTooLarge"
            payload = reports.error_payload(error_type, reports.TOO_LARGE_MESSAGE)
            return payload, error_type, f"{error_type}: {reports.TOO_LARGE_MESSAGE}\n", True
        error_type = reports.error_type_of(outcome.body, outcome.error_type)
        if outcome.kind is ReplyKind.INIT_ERROR:
            return reports.with_request_id(outcome.body, request.request_id), error_type, "", False
        return outcome.body, error_type, "", True

    def _entrypoint_error(self, request: InvokeRequest, error: OSError) -> InvokeResult:
        if isinstance(error, FileNotFoundError) and self.spec.runtime in PROVIDED_RUNTIMES:
            reason = f"Couldn't find valid bootstrap(s): [{self._entrypoint}]"
        else:
            reason = f"fork/exec {self._entrypoint}: {(error.strerror or str(error)).lower()}"
        error_type = "Runtime.InvalidEntrypoint"
        message = f"RequestId: {request.request_id} Error: {reason}"
        log = "".join(
            (
                reports.start_line(request.request_id, self.spec.version),
                f"{message}\n{error_type}\n",
                reports.end_line(request.request_id),
                reports.report_line(
                    request_id=request.request_id,
                    duration_ms=0.0,
                    billed_duration_ms=1,
                    memory_mb=self.spec.memory_mb,
                    max_memory_used_mb=0,
                    init_duration_ms=0.0,
                ),
            )
        )
        return InvokeResult(
            payload=reports.error_payload(error_type, message),
            function_error="Unhandled",
            error_type=error_type,
            log=log,
            duration_ms=0.0,
            billed_duration_ms=1,
            max_memory_used_mb=0,
            init_duration_ms=0.0,
            cold_start=True,
            log_stream=self.identity.log_stream_name,
        )


def _with_newline(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"
