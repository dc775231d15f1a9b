"""Redrive: run failed asynchronous events again, as new events with fresh request ids.

The failed event stays as it was (its attempts, record and deliveries are history); the new
one carries the same request (function, qualifier, payload, trace header), starts with no
attempts and names its origin in ``redriven_from``. Only ``failed`` invoke events qualify.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from sendoff.model.job import InvokeJob, is_invoke
from sendoff.store import EventRecord, Store
from sendoff.store.base import EventState


def redriven(event: EventRecord, *, new_id: str, now: float) -> EventRecord | None:
    """The new event that re-runs ``event``, or None if it is not a failed invocation."""
    if event.state is not EventState.FAILED or not is_invoke(event.body):
        return None
    old = InvokeJob.decode(event.body)
    job = InvokeJob(
        request_id=new_id,
        account_id=old.account_id,
        region=old.region,
        function_name=old.function_name,
        qualifier=old.qualifier,
        payload=old.payload,
        trace_header=old.trace_header,
        redriven_from=event.id,
        settled_lease=0,
    )
    return EventRecord(
        id=new_id,
        function_key=event.function_key,
        state=EventState.QUEUED,
        due_at=now,
        enqueued_at=now,
        body=job.encode(),
    )


async def redrive_events(
    store: Store,
    event_ids: Sequence[str],
    *,
    now: float,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> list[tuple[str, str]]:
    """Re-enqueue every failed invoke event among ``event_ids`` in one durable write.

    Returns ``(old id, new id)`` pairs; ids that are unknown or not failed are skipped."""
    fresh: list[EventRecord] = []
    pairs: list[tuple[str, str]] = []
    for event_id in dict.fromkeys(event_ids):
        event = await store.get_event(event_id)
        if event is None:
            continue
        again = redriven(event, new_id=new_id(), now=now)
        if again is not None:
            fresh.append(again)
            pairs.append((event_id, again.id))
    if fresh:
        await store.enqueue(fresh)
    return pairs
