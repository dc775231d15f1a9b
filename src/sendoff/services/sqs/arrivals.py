"""Wake-ups for long polls: one asyncio.Event per queue, replaced on every notification.

A long poll takes the queue's current event *before* it looks for messages, then waits on
it. A send (or anything else that makes messages visible) pops the event and sets it, so
every poll that looked before the change wakes, and no notification falls between a
poll's look and its wait. Waiters that find nothing go back to waiting on the next event.

This is in-process only: messages sent by another process sharing the store are seen by
the poll's fallback interval, and delayed messages or expired visibility timeouts by a
wait bounded by the store's ``next_visible_at``.
"""

from __future__ import annotations

import asyncio


class Arrivals:
    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def listen(self, queue_id: str) -> asyncio.Event:
        """The event the next notification of this queue will set."""
        event = self._events.get(queue_id)
        if event is None:
            event = self._events[queue_id] = asyncio.Event()
        return event

    def notify(self, queue_id: str) -> None:
        event = self._events.pop(queue_id, None)
        if event is not None:
            event.set()

    def notify_all(self) -> None:
        events, self._events = self._events, {}
        for event in events.values():
            event.set()
