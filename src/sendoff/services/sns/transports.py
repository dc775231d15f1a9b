"""The ``sns-lambda`` transport (invoke a subscribed function asynchronously) and the
``sns`` transport (publish to a topic: used by Lambda destinations, DLQs and other services).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sendoff.delivery import DeliveryError
from sendoff.functions.errors import ResourceNotFound
from sendoff.services.sns.errors import SnsError

if TYPE_CHECKING:
    from sendoff.services.sns.service import TopicService

log = logging.getLogger("sendoff.sns")


class LambdaTransport:
    """Calls ``invoke_event(function_arn, payload)`` on the Lambda async acceptor, looked up
    at delivery time (it is installed after this service)."""

    def __init__(self, acceptor: Callable[[], Any]) -> None:
        self.acceptor = acceptor

    async def deliver(self, target: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        lambda_async = self.acceptor()
        if lambda_async is None:
            raise DeliveryError("asynchronous Lambda invocation is not available yet")
        try:
            request_id = await lambda_async.invoke_event(
                target, payload["event"].encode(), trace_header=payload.get("trace_header")
            )
        except ResourceNotFound as exc:
            raise DeliveryError(f"invoke {target}: {exc.message}", retryable=False) from None
        except Exception as exc:  # e.g. the store is busy: try again later
            raise DeliveryError(f"invoke {target}: {type(exc).__name__}: {exc}") from None
        return {"request_id": str(request_id)}


class TopicTransport:
    """Publishes ``{"message", "subject"?, "attributes"?, "group_id"?, "dedup_id"?,
    "trace_header"?}`` (the trace header carries the recursion lineage to subscribers)."""

    def __init__(self, service: TopicService) -> None:
        self.service = service

    async def deliver(self, target: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        try:
            result = await self.service.publish(
                target,
                payload["message"],
                subject=payload.get("subject"),
                attributes=payload.get("attributes"),
                group_id=payload.get("group_id"),
                dedup_id=payload.get("dedup_id"),
                trace_header=payload.get("trace_header"),
            )
        except SnsError as exc:
            raise DeliveryError(
                f"publish to {target}: {exc.code}: {exc.message}", retryable=exc.status >= 500
            ) from None
        out = {"message_id": result.message_id}
        if result.sequence_number is not None:
            out["sequence_number"] = result.sequence_number
        return out
