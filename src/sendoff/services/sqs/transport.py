"""The ``sqs`` delivery transport: the outbox's way to send a message to a queue ARN.

Payload: ``{"body": str, "attributes"?: {...}, "system_attributes"?: {...},
"group_id"?: str, "dedup_id"?: str}`` (attributes in SQS wire shape). A missing queue, or a
message the queue refuses (a FIFO queue without a group id, too big...), is a permanent
failure: retrying cannot fix it, so the DeliveryError is not retryable.
"""

from __future__ import annotations

from typing import Any

from sendoff.delivery import DeliveryError
from sendoff.services.sqs.errors import QueueError, QueueNotFound
from sendoff.services.sqs.service import QueueService


class SqsTransport:
    def __init__(self, queues: QueueService) -> None:
        self.queues = queues

    async def deliver(self, target: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        body = payload.get("body")
        if not isinstance(body, str):
            raise DeliveryError("sqs delivery payload has no string body", retryable=False)
        try:
            message_id = await self.queues.send_message(
                target,
                body,
                attributes=payload.get("attributes") or None,
                system_attributes=payload.get("system_attributes") or None,
                group_id=payload.get("group_id"),
                dedup_id=payload.get("dedup_id"),
            )
        except QueueNotFound as exc:
            raise DeliveryError(f"queue {target} does not exist", retryable=False) from exc
        except QueueError as exc:
            raise DeliveryError(
                f"queue {target} refused the message: {exc.code}: {exc}", retryable=False
            ) from exc
        return {"message_id": message_id}
