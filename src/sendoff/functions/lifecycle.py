"""Function states, as AWS reports them, made real by preparing the code in the background.

AWS answers CreateFunction with ``State: Pending`` ("The function is being created.",
``Creating``) and no LastUpdateStatus, and UpdateFunctionCode/UpdateFunctionConfiguration
with ``LastUpdateStatus: InProgress`` (same reason and code); the function then becomes
``Active``/``Successful`` and its RevisionId changes (test_lambda_api
TestLambdaFunction::test_function_lifecycle, TestLambdaRevisions::test_function_revisions_basic).
While Pending, Invoke, the updates and PublishVersion fail; while an update is in progress
the updates and PublishVersion fail (docs.aws.amazon.com/lambda/latest/dg/functions-states.html,
``update-during-in-progress-update-exc`` in test_lambda_concurrent_code_updates).

sendoff's transition is the preparation of the code: the package is fetched from the store
and unpacked into this host's code cache (``executor.codecache``) right after the call
answers; the outcome is written to the function's document in the store, so every API
process sharing the store sees it. If the process that started a transition dies, the next
read of the function that finds it unsettled for ``STALE_S`` starts it again (``nudge``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from sendoff.executor.codecache import PackageError
from sendoff.functions.errors import ResourceConflict
from sendoff.model.function import FunctionConfig

if TYPE_CHECKING:
    from sendoff.functions.registry import FunctionRegistry
    from sendoff.model.scope import Scope

log = logging.getLogger("sendoff.functions.lifecycle")

PENDING = "Pending"
ACTIVE = "Active"
FAILED = "Failed"
IN_PROGRESS = "InProgress"
SUCCESSFUL = "Successful"
CREATING_REASON = "The function is being created."
CREATING_CODE = "Creating"
FAILED_CODE = "InternalError"
STALE_S = 10.0


def settled(config: FunctionConfig) -> bool:
    return config.state != PENDING and config.last_update != IN_PROGRESS


def state_error(state: str) -> ResourceConflict:
    return ResourceConflict(
        "The operation cannot be performed at this time. The function is currently in the"
        f" following state: {state}"
    )


def update_in_progress(arn: str) -> ResourceConflict:
    return ResourceConflict(
        f"The operation cannot be performed at this time. An update is in progress for"
        f" resource: {arn}"
    )


def check_can_change(arn: str, config: FunctionConfig) -> None:
    """UpdateFunctionCode/UpdateFunctionConfiguration/PublishVersion need a settled $LATEST."""
    if config.state == PENDING:
        raise state_error(PENDING)
    if config.last_update == IN_PROGRESS:
        raise update_in_progress(arn)


def check_can_invoke(config: FunctionConfig) -> None:
    """Invoke refuses a Pending function. A Failed one (its package could not be unpacked
    here) is left to the executor, which answers the error that made it fail
    (InvalidZipFileException), as sendoff did before functions had states."""
    if config.state == PENDING:
        raise state_error(PENDING)


def state_fields(config: FunctionConfig) -> dict[str, str]:
    """The State*/LastUpdateStatus* members of a function configuration."""
    fields = {"State": config.state}
    if config.state == PENDING:
        fields.update(StateReason=CREATING_REASON, StateReasonCode=CREATING_CODE)
    elif config.state == FAILED:
        fields.update(
            StateReason=config.state_reason,
            StateReasonCode=config.state_reason_code or FAILED_CODE,
        )
    if config.last_update == IN_PROGRESS:
        fields.update(
            LastUpdateStatus=IN_PROGRESS,
            LastUpdateStatusReason=CREATING_REASON,
            LastUpdateStatusReasonCode=CREATING_CODE,
        )
    elif config.last_update == FAILED:
        fields.update(
            LastUpdateStatus=FAILED,
            LastUpdateStatusReason=config.state_reason,
            LastUpdateStatusReasonCode=config.state_reason_code or FAILED_CODE,
        )
    elif config.last_update:
        fields["LastUpdateStatus"] = config.last_update
    return fields


Failure = tuple[str, str]
"""Why a preparation failed: (reason, reason code)."""


def finished(config: FunctionConfig, failure: Failure | None, revision_id: str) -> FunctionConfig:
    """`config` at the end of the transition it is in (a new RevisionId, as on AWS)."""
    state = config.state
    if state == PENDING:
        state = ACTIVE if failure is None else FAILED
    return replace(
        config,
        state=state,
        last_update=SUCCESSFUL if failure is None else FAILED,
        state_reason=failure[0] if failure else "",
        state_reason_code=failure[1] if failure else "",
        revision_id=revision_id,
    )


class Transitions:
    """Runs each transition's preparation in the background and records its outcome."""

    def __init__(
        self,
        registry: FunctionRegistry,
        prepare: Callable[[str], Awaitable[object]],
        *,
        stale_s: float = STALE_S,
    ) -> None:
        self.registry = registry
        self.prepare = prepare  # async callable(code_sha256): fetch and unpack the code
        self.stale_s = stale_s
        self._running: dict[tuple[str, str, str], asyncio.Task[None]] = {}

    def begin(self, scope: Scope, config: FunctionConfig) -> None:
        key = (scope.key, config.name, config.revision_id)
        if key in self._running:
            return
        task = asyncio.get_running_loop().create_task(
            self._run(scope, config), name=f"sendoff-prepare-{config.name}"
        )
        self._running[key] = task
        task.add_done_callback(lambda _: self._running.pop(key, None))

    def nudge(self, scope: Scope, config: FunctionConfig) -> None:
        """Restart a transition left unsettled for long (its process died)."""
        if settled(config) or config.version != "$LATEST":
            return
        if self.registry.clock() - config.last_modified > self.stale_s:
            self.begin(scope, config)

    async def _run(self, scope: Scope, config: FunctionConfig) -> None:
        failure: Failure | None = None
        try:
            await self.prepare(config.code_sha256)
        except Exception as exc:
            log.warning("preparing %s failed: %s", scope.function_arn(config.name), exc)
            # a package's own fault is the caller's to see; anything else (a full disk, the
            # store) may name server paths, so it stays in the server's log
            if isinstance(exc, PackageError):
                failure = (str(exc), "InvalidZipFileException")
            else:
                failure = ("The function could not be prepared (see the server log).", FAILED_CODE)
        try:
            await self.registry.settle(scope, config.name, config.revision_id, failure=failure)
        except Exception:
            log.exception("recording the state of %s failed", scope.function_arn(config.name))

    async def close(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
