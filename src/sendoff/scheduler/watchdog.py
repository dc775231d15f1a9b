"""The stuck-job watchdog: a job whose handler keeps failing inside sendoff ends, visibly.

A handler that raises (a sendoff bug, or an input sendoff cannot process, such as a
payload nested too deep to encode) used to leave its job leased: the lease expired, the
job ran again, failed again, for ever, with no outcome a user could see. That breaks the
promise that every accepted event ends in exactly one outcome.

Now each such failure is counted in the job's body (``handler_failures``,
``handler_error``) and the job is retried shortly; after :data:`MAX_HANDLER_FAILURES` it is
*abandoned*: its handler settles it as failed (for an invocation, with condition
``SendoffInternalError`` and an execution record sent to OnFailure and the DLQ like any
other failure; AWS has no such condition, since in AWS this is an outage of Lambda itself).
If even that fails, the job is finished with a minimal body that names the error. The
traceback is logged once per job, with its id.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, Protocol

from sendoff.errors import StoreError
from sendoff.model.job import bare_body, handler_failures_of, with_handler_failure
from sendoff.store import EventRecord, Store
from sendoff.store.base import EventState

log = logging.getLogger("sendoff.scheduler")

MAX_HANDLER_FAILURES = 3
"""sendoff's own failures a job may have before it is abandoned."""

INTERNAL_ERROR_CONDITION = "SendoffInternalError"
"""The condition of a job sendoff gave up on (documented in docs/async.md; not AWS's)."""


class Abandoning(Protocol):
    async def abandon(self, job: EventRecord, reason: str) -> EventRecord | None:
        """Settle ``job`` (leased, ``job.body`` as last saved) as failed for good, because
        sendoff itself could not run it."""


_TRANSIENT_MODULES = frozenset({"redis", "psycopg", "psycopg_pool", "sqlite3"})


def is_transient(error: BaseException) -> bool:
    """A failure of the store or the network, not of the job: it says nothing about
    whether the job can ever run, so it is not counted (the lease expires and the job runs
    again once the store is back, as it always did)."""
    if isinstance(error, StoreError | OSError | TimeoutError):
        return True
    return type(error).__module__.split(".", 1)[0] in _TRANSIENT_MODULES


async def handler_failed(
    store: Store, job: EventRecord, handler: Any, error: BaseException, *, now: float
) -> None:
    """Count one failure of ``handler`` on ``job``; retry it soon, or abandon it."""
    reason = f"{type(error).__name__}: {error}"[:1000]
    if is_transient(error):
        log.warning("job %s: %s; it runs again when its lease expires", job.id, reason)
        return
    try:
        current = await store.get_event(job.id)
        body = current.body if current is not None else job.body
        failures = handler_failures_of(body) + 1
        if failures == 1:
            log.error("job %s failed inside sendoff (%s); it will be retried %d more time(s)",
                      job.id, reason, MAX_HANDLER_FAILURES - 1, exc_info=error)  # fmt: skip
        if failures < MAX_HANDLER_FAILURES:
            body = with_handler_failure(
                body, failures=failures, error=reason, lease_token=job.lease_token
            )
            await store.reschedule(
                job.id, token=job.lease_token, due_at=now + 0.25 * failures, body=body,
                state=EventState.RETRYING,
            )  # fmt: skip
            return
        job = replace(job, body=body)
    except Exception as record_error:
        if is_transient(record_error):  # the store is away: decide nothing now
            log.warning("job %s: could not record its failure (%s)", job.id, record_error)
            return
        log.exception("job %s: could not record its failure; abandoning it now", job.id)
    await abandon(store, job, handler, reason, now=now)


async def abandon(store: Store, job: EventRecord, handler: Any, reason: str, *, now: float) -> None:
    log.error("job %s abandoned after failing inside sendoff: %s", job.id, reason)
    settle = getattr(handler, "abandon", None)
    if settle is not None:
        try:
            await settle(job, reason)
            return
        except Exception:
            log.exception("job %s: its handler could not abandon it; finishing it bare", job.id)
    body = bare_body(job.body, condition=INTERNAL_ERROR_CONDITION, error=reason, at=now)
    try:
        await store.finish(job.id, token=job.lease_token, state=EventState.FAILED, body=body)
    except Exception:
        log.exception("job %s could not be finished; its lease will expire", job.id)
