"""How a message to send becomes a stored message, and a stored one a delivery (pure).

:func:`prepare` applies the queue's rules to one outgoing message: body and attribute
checks, the size limit, FIFO rules (group id required, deduplication id explicit or the
SHA-256 of the body, no per-message delay) and the delay. :func:`delivery` turns a leased
message back into what a receiver sees, with every system attribute it may ask for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sendoff.model.ids import random_id
from sendoff.services.sqs.errors import InvalidParameterValue, MissingParameter
from sendoff.services.sqs.message import (
    ATTRIBUTES,
    check_attributes,
    check_body,
    check_id,
    check_system_attributes,
    md5_of_attributes,
    md5_of_body,
    message_size,
)
from sendoff.services.sqs.model import Queue
from sendoff.services.sqs.receipts import encode_receipt
from sendoff.store.messages import QueuedMessage

DEDUP_WINDOW_S = 300.0
MAX_DELAY_S = 900


@dataclass(frozen=True, kw_only=True)
class OutgoingMessage:
    """One message to send, as a producer gave it (attributes in wire shape)."""

    body: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    system_attributes: Mapping[str, Any] = field(default_factory=dict)
    delay_s: int | None = None
    group_id: str | None = None
    dedup_id: str | None = None
    trace_header: str | None = None  # the request's X-Amzn-Trace-Id (lineage), if any


@dataclass(frozen=True, kw_only=True)
class SentMessage:
    message_id: str
    md5_of_body: str
    md5_of_attributes: str | None = None
    md5_of_system_attributes: str | None = None
    sequence_number: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReceivedMessage:
    """A leased message as a receiver sees it (before selecting attributes)."""

    message_id: str
    receipt_handle: str
    body: str
    md5_of_body: str
    attributes: ATTRIBUTES
    system_attributes: dict[str, str]


def sequence_number(seq: int) -> str:
    return f"{seq:020d}"


NO_DEDUP = (
    "The queue should either have ContentBasedDeduplication enabled or"
    " MessageDeduplicationId provided explicitly"
)


def prepare(
    queue: Queue, message: OutgoingMessage, *, now: float, sender_id: str
) -> tuple[QueuedMessage, SentMessage]:
    """The message to store, and the reply to give once stored (its id may change if the
    store finds a duplicate)."""
    check_body(message.body)
    attributes = check_attributes(message.attributes)
    system = check_system_attributes(message.system_attributes)
    size = message_size(message.body, attributes)
    if size > queue.max_message_bytes:
        raise InvalidParameterValue(
            "One or more parameters are invalid. Reason: Message must be shorter than"
            f" {queue.max_message_bytes} bytes."
        )
    delay = _delay(queue, message.delay_s)
    group_id = message.group_id
    dedup_key = wire_dedup = None
    if queue.is_fifo:
        if not group_id:
            raise MissingParameter("MessageGroupId")
        check_id(group_id, "MessageGroupId")
        wire_dedup = message.dedup_id
        if wire_dedup is not None:
            check_id(wire_dedup, "MessageDeduplicationId")
        elif queue.content_based_dedup:
            wire_dedup = hashlib.sha256(message.body.encode()).hexdigest()
        else:
            raise InvalidParameterValue(NO_DEDUP)
        dedup_key = f"{group_id}\x1f{wire_dedup}" if queue.dedup_per_group else wire_dedup
    else:
        if message.dedup_id is not None:
            raise InvalidParameterValue(
                f"Value {message.dedup_id} for parameter MessageDeduplicationId is invalid."
                " Reason: The request includes a parameter that is not valid for this queue type."
            )
        if group_id is not None:
            check_id(group_id, "MessageGroupId")
    meta: dict[str, Any] = {"sender": sender_id}
    if attributes:
        meta["attributes"] = attributes
    stored_system = dict(system)
    if message.trace_header and "AWSTraceHeader" not in stored_system:
        # a sender's trace header becomes the message's AWSTraceHeader (how the recursion
        # lineage follows function -> SendMessage -> queue -> mapping -> function); the
        # reply's digest covers only what the sender gave
        stored_system["AWSTraceHeader"] = {
            "DataType": "String",
            "StringValue": message.trace_header,
        }
    if stored_system:
        meta["system"] = stored_system
    if wire_dedup is not None:
        meta["dedup"] = wire_dedup
    stored = QueuedMessage(
        id=random_id(),
        body=message.body,
        meta=meta,
        sent_at=now,
        visible_at=now + delay,
        group_id=group_id,
        dedup_id=dedup_key,
    )
    reply = SentMessage(
        message_id=stored.id,
        md5_of_body=md5_of_body(message.body),
        md5_of_attributes=md5_of_attributes(attributes),
        md5_of_system_attributes=md5_of_attributes(system),
    )
    return stored, reply


def _delay(queue: Queue, requested: int | None) -> int:
    if requested is None:
        return queue.delay_s
    if queue.is_fifo and requested != 0:
        raise InvalidParameterValue(
            f"Value {requested} for parameter DelaySeconds is invalid. Reason: The request"
            " include parameter that is not valid for this queue type."
        )
    if not 0 <= requested <= MAX_DELAY_S:
        raise InvalidParameterValue(
            f"Value {requested} for parameter DelaySeconds is invalid. Reason: DelaySeconds"
            f" must be >= 0 and <= {MAX_DELAY_S}."
        )
    return requested


def delivery(queue: Queue, message: QueuedMessage) -> ReceivedMessage:
    meta = message.meta
    system: dict[str, str] = {
        "SenderId": str(meta.get("sender", queue.account_id)),
        "SentTimestamp": str(int(message.sent_at * 1000)),
        "ApproximateReceiveCount": str(message.receive_count),
        "ApproximateFirstReceiveTimestamp": str(int((message.first_received_at or 0) * 1000)),
    }
    if message.group_id is not None:
        system["MessageGroupId"] = message.group_id
    if queue.is_fifo:
        system["SequenceNumber"] = sequence_number(message.seq)
        if "dedup" in meta:
            system["MessageDeduplicationId"] = str(meta["dedup"])
    trace = meta.get("system", {}).get("AWSTraceHeader")
    if trace is not None:
        system["AWSTraceHeader"] = trace["StringValue"]
    if message.dead_letter_source is not None:
        system["DeadLetterQueueSourceArn"] = message.dead_letter_source
    return ReceivedMessage(
        message_id=message.id,
        receipt_handle=encode_receipt(queue.id, message.seq, message.receipt or ""),
        body=message.body,
        md5_of_body=md5_of_body(message.body),
        attributes=dict(meta.get("attributes", {})),
        system_attributes=system,
    )
