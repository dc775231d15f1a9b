"""What a batch looks like to the function, and what its answer means (pure).

:func:`sqs_record` is one entry of ``Records[]`` exactly as AWS builds it (key order and
attribute names recorded from AWS in LocalStack's test_lambda_integration_sqs snapshots;
message attributes in the event's lower-camel shape with ``stringListValues`` and
``binaryListValues``, ``md5OfMessageAttributes`` null when there are none).

:func:`to_delete` decides which messages of an invoked batch are done:

* without ``ReportBatchItemFailures``: all of them (a function error is decided before:
  nothing is deleted and the batch comes back after the visibility timeout);
* with it, AWS's documented rules: an empty or null ``batchItemFailures``, an empty object
  or a null answer mean all succeeded; an answer that is not JSON, or an entry whose
  ``itemIdentifier`` is missing, null, empty or not a message of the batch, fails the
  whole batch; otherwise every message not listed is deleted;
* on a FIFO queue each message group stops at its first failure: the failed message and
  the later ones of its group stay (they come back in order).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sendoff.services.sqs.envelope import ReceivedMessage
from sendoff.services.sqs.message import md5_of_attributes

PAYLOAD_LIMIT = 6_291_456  # the synchronous invoke payload limit (6 MB)
_ORDER = ("ApproximateReceiveCount", "SentTimestamp", "SequenceNumber", "MessageGroupId",
          "SenderId", "MessageDeduplicationId", "ApproximateFirstReceiveTimestamp",
          "AWSTraceHeader", "DeadLetterQueueSourceArn")  # fmt: skip


def _attribute(value: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = value["BinaryValue"]
    out.update(stringListValues=[], binaryListValues=[], dataType=value["DataType"])
    return out


def sqs_record(message: ReceivedMessage, *, queue_arn: str, region: str) -> dict[str, Any]:
    system = message.system_attributes
    attributes = {name: system[name] for name in _ORDER if name in system}
    return {
        "messageId": message.message_id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": attributes,
        "messageAttributes": {k: _attribute(v) for k, v in message.attributes.items()},
        "md5OfMessageAttributes": md5_of_attributes(message.attributes),
        "md5OfBody": message.md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def record_size(record: Mapping[str, Any]) -> int:
    return len(json.dumps(record, separators=(",", ":")).encode()) + 1


def filter_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record as FilterCriteria patterns see it: ``body`` decoded when it is a JSON
    object, the plain string otherwise."""
    view = dict(record)
    body = record.get("body")
    if isinstance(body, str) and body[:1] == "{":
        try:
            decoded = json.loads(body)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict):
            view["body"] = decoded
    return view


def item_failures(payload: bytes, batch_ids: Iterable[str]) -> set[str] | None:
    """The message ids the function reported failed; None = the whole batch failed."""
    ids = set(batch_ids)
    try:
        answer = json.loads(payload) if payload.strip() else None
    except ValueError:
        return None
    if answer is None or answer == {}:
        return set()
    if not isinstance(answer, dict):
        return set()  # a plain return value reports nothing: all succeeded
    failures = answer.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    out: set[str] = set()
    for entry in failures:
        if not isinstance(entry, dict):
            return None
        item = entry.get("itemIdentifier")
        if not isinstance(item, str) or not item or item not in ids:
            return None
        out.add(item)
    return out


def to_delete(
    records: Sequence[Mapping[str, Any]],
    payload: bytes,
    *,
    report_failures: bool,
    fifo: bool,
) -> list[Mapping[str, Any]]:
    """The records of a batch the function finished (it answered without an error)."""
    if not report_failures:
        return list(records)
    failed = item_failures(payload, (r["messageId"] for r in records))
    if failed is None:
        return []
    if not fifo:
        return [r for r in records if r["messageId"] not in failed]
    stopped: set[str] = set()
    done = []
    for record in records:
        group = record["attributes"].get("MessageGroupId", "")
        if group in stopped:
            continue
        if record["messageId"] in failed:
            stopped.add(group)
            continue
        done.append(record)
    return done
