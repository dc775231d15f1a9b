"""The ``s3-lambda`` delivery transport: an S3 event notification becomes an asynchronous
(Event) invoke of the configured function, through the same queue as every Event invoke
(so its retries, maximum event age, destinations and dead-letter queue apply)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from sendoff.delivery import DeliveryError
from sendoff.functions.errors import ResourceNotFound


class EventInvoker(Protocol):
    async def invoke_event(
        self, function_arn: str, payload: bytes, *, trace_header: str | None = None
    ) -> str: ...


class S3LambdaTransport:
    """Payload ``{"event": str, "trace_header"?: str}``; the acceptor is looked up at
    delivery time (it is built after the S3 service)."""

    def __init__(self, acceptor: Callable[[], EventInvoker | None]) -> None:
        self.acceptor = acceptor

    async def deliver(self, target: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        invoker = self.acceptor()
        if invoker is None:
            raise DeliveryError("asynchronous Lambda invocation is not available yet")
        try:
            request_id = await invoker.invoke_event(
                target, str(payload["event"]).encode(), trace_header=payload.get("trace_header")
            )
        except ResourceNotFound as exc:  # the function was deleted: S3 drops the event
            raise DeliveryError(f"invoke {target}: {exc.message}", retryable=False) from None
        return {"request_id": str(request_id)}
