"""Send a record to an ARN, at once or through a durable delivery job (facts §5, §6).

The payload is the destination kind's (``sendoff.destinations.kinds``, found through
``sendoff.destinations.registry``):

* SQS: the record as a compact-JSON message body, with the AWSTraceHeader system attribute;
* SNS: the record as the Message;
* Lambda: an asynchronous invoke with the record as payload;
* EventBridge: source ``lambda``, detail-type ``Lambda Function Invocation Result -
  Success|Failure``, resources ``[bus ARN, qualified function ARN]``, detail = the record;
* S3 (OnFailure only): the record as an object under ``aws/lambda/async/<function>/...``.

SQS, SNS, Lambda and EventBridge sends keep the invocation's trace header, so the
recursion lineage (model/lineage.py) follows the record to whatever the destination
invokes next: a loop through a destination is stopped like one through an SDK call.

Dead-letter queues get the original event with RequestID, ErrorCode and ErrorMessage
attributes. Every send goes through the delivery outbox, so it is retried with backoff
and, if it still fails, counted (DestinationDeliveryFailures / DeadLetterErrors) and kept.
"""

from __future__ import annotations

from typing import Any

from sendoff.delivery import Deliveries
from sendoff.delivery.outbox import Delivered
from sendoff.destinations.kind import RecordSend
from sendoff.destinations.registry import kind_for
from sendoff.model.arn import parse_arn
from sendoff.model.job import RecordSource
from sendoff.model.records import compact
from sendoff.store import EventRecord

ERROR_MESSAGE_LIMIT = 1024


class DestinationRouter:
    def __init__(self, deliveries: Deliveries) -> None:
        self.deliveries = deliveries

    async def send_record(
        self,
        *,
        destination: str,
        record: dict[str, Any],
        success: bool,
        function_arn: str,
        scope_key: str,
        trace_header: str | None,
        lease_owner: str | None = None,
        role: str | None = None,
    ) -> Delivered | EventRecord:
        arn = parse_arn(destination)
        service = arn.service if arn else "unknown"
        source = RecordSource(
            kind=RecordSource.DESTINATION,
            request_id=record["requestContext"]["requestId"],
            function_arn=function_arn,
            condition=record["requestContext"]["condition"],
            role=role,  # the execution role the send is made as (IAM guard)
        ).encode()
        kind = kind_for(service)
        payload: dict[str, Any]
        if kind is None:  # a config stored before its kind was removed: the job fails
            payload = {"body": compact(record)}  # at once ("no transport") and is counted
        else:
            payload = kind.build_payload(
                RecordSend(
                    record=record,
                    body=compact(record),
                    success=success,
                    destination=destination,
                    function_arn=function_arn,
                    trace_header=trace_header,
                )
            )
        return await self.deliveries.send(
            scheme=service,
            target=destination,
            payload=payload,
            scope_key=scope_key,
            source=source,
            lease_owner=lease_owner,
        )

    async def send_dead_letter(
        self,
        *,
        target: str,
        event_payload: str,
        request_id: str,
        error_code: str | None,
        error_message: str,
        scope_key: str,
        function_arn: str,
        lease_owner: str | None = None,
        role: str | None = None,
    ) -> Delivered | EventRecord:
        arn = parse_arn(target)
        service = arn.service if arn else "unknown"
        attributes: dict[str, dict[str, str]] = {
            "RequestID": {"DataType": "String", "StringValue": request_id},
        }
        if error_code is not None:
            attributes["ErrorCode"] = {"DataType": "Number", "StringValue": error_code}
        message = error_message.encode()[:ERROR_MESSAGE_LIMIT].decode(errors="ignore")
        attributes["ErrorMessage"] = {"DataType": "String", "StringValue": message or " "}
        kind = kind_for(service)
        payload: dict[str, Any] = (
            kind.dead_letter_payload(event_payload, attributes)
            if kind is not None and kind.dead_letter
            else {"body": event_payload, "attributes": attributes}
        )
        source = RecordSource(
            kind=RecordSource.DEAD_LETTER, request_id=request_id, function_arn=function_arn,
            role=role,
        ).encode()  # fmt: skip
        return await self.deliveries.send(
            scheme=service,
            target=target,
            payload=payload,
            scope_key=scope_key,
            source=source,
            lease_owner=lease_owner,
        )
