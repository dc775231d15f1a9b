"""Delivery transports the event-bus service registers with the outbox.

* ``lambda-event``: an asynchronous (``Event``) invoke of a Lambda target with the rendered
  input. Until the async pipeline is wired (``services.lambda_async`` is None) deliveries
  fail retryably, so they wait in the outbox instead of being lost.
* ``events``: put an event on the bus named by the target ARN, then route it there. Used by
  bus-to-bus targets and by Lambda destinations whose destination is an event bus. Payload
  ``{"source", "detail_type", "detail" (object or JSON text), "resources"?, "time"?,
  "hops"?, "trace_header"?}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from sendoff.delivery import DeliveryError
from sendoff.functions.errors import LambdaError
from sendoff.services.events.errors import EventsError
from sendoff.services.events.service import EventBusService


class EventInvoker(Protocol):
    async def invoke_event(
        self, function_arn: str, payload: bytes, *, trace_header: str | None = None
    ) -> str: ...


class LambdaEventTransport:
    def __init__(self, invoker: Callable[[], EventInvoker | None]) -> None:
        self.invoker = invoker

    async def deliver(self, target: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        invoker = self.invoker()
        if invoker is None:
            raise DeliveryError("asynchronous Lambda invocation is not available", retryable=True)
        try:
            request_id = await invoker.invoke_event(
                target, payload["payload"].encode(), trace_header=payload.get("trace_header")
            )
        except LambdaError as exc:
            retryable = exc.status == 429 or exc.status >= 500
            raise DeliveryError(f"{exc.code}: {exc.message}", retryable=retryable) from exc
        return {"request_id": request_id}


class BusTransport:
    def __init__(self, service: EventBusService) -> None:
        self.service = service

    async def deliver(self, target: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        try:
            event_id = await self.service.put_event_on_bus(
                target,
                source=str(payload["source"]),
                detail_type=str(payload["detail_type"]),
                detail=payload["detail"],
                resources=[str(r) for r in payload.get("resources") or ()],
                time=payload.get("time"),
                hops=int(payload.get("hops", 0)),
                trace_header=payload.get("trace_header"),
            )
        except EventsError as exc:
            raise DeliveryError(f"{exc.code}: {exc.message}", retryable=exc.status >= 500) from exc
        return {"event_id": event_id}
