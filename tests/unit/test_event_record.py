"""store/base.py: EventRecord.settled is dataclasses.replace of the settled fields."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace

import pytest

from sendoff.store.base import EventRecord, EventState

LEASED = EventRecord(
    id="e-1", function_key="0/us-east-1/f", state=EventState.RUNNING, due_at=1.0,
    enqueued_at=0.5, body={"kind": "invoke"}, lease_owner="w", lease_expires_at=31.0,
    lease_token=2,
)  # fmt: skip


def test_settled_is_replace() -> None:
    body = {"kind": "invoke", "settled_lease": 2}
    done = LEASED.settled(EventState.SUCCEEDED, body)
    assert done == replace(LEASED, state=EventState.SUCCEEDED, body=body)
    retry = LEASED.settled(EventState.RETRYING, body, due_at=9.0)
    assert retry == replace(LEASED, state=EventState.RETRYING, body=body, due_at=9.0)
    assert LEASED.state is EventState.RUNNING and LEASED.body == {"kind": "invoke"}
    with pytest.raises(FrozenInstanceError):
        done.state = EventState.FAILED  # type: ignore[misc]
