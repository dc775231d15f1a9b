"""Read sendoff's event view (/_sendoff/events) from tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.server import wait_until


def get_event(url: str, event_id: str) -> dict[str, Any] | None:
    resp = httpx.get(f"{url}/_sendoff/events/{event_id}", timeout=5)
    return resp.json() if resp.status_code == 200 else None


def wait_terminal(url: str, event_id: str, timeout: float = 60) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        event = get_event(url, event_id)
        return event if event and event["state"] in ("succeeded", "failed") else None

    return wait_until(done, timeout=timeout, message=f"event {event_id} to finish")  # type: ignore[no-any-return]


def function_logs(url: str, name: str) -> str:
    resp = httpx.get(f"{url}/_sendoff/logs/{name}", params={"limit": 10000}, timeout=5)
    return "\n".join(e["message"] for e in resp.json()["events"])
