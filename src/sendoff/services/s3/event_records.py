"""S3 event notification messages in AWS's shapes (pure functions, no I/O).

* :func:`record` — one entry of ``{"Records": [...]}``, the body S3 sends to Lambda, SQS
  and SNS (event structure version 2.1: AWS's "Event message structure" page, and the
  AWS-recorded snapshots in localstack's tests/aws/services/s3/test_s3_notifications_*).
  ``s3.object.key`` is URL-encoded with spaces as ``+``; ``size`` and ``eTag`` are present
  for ObjectCreated events and absent for ObjectRemoved (a DeleteMarkerCreated keeps the
  eTag of nothing: absent too); ``versionId`` only for versioned buckets; ``sequencer``
  always for these two families.
* :func:`test_event` — the ``s3:TestEvent`` S3 sends to an SQS queue or SNS topic when a
  configuration naming it is put.
* :func:`eventbridge_entry` — the EventBridge event (source ``aws.s3``, detail-type
  ``Object Created`` / ``Object Deleted``), sent to the default bus of the bucket's account
  and region when the bucket has ``EventBridgeConfiguration`` (AWS's "EventBridge event
  message structure" page; its key is not URL-encoded; ``reason`` for a POST upload is
  written ``PostObject``, AWS's docs name the API "POST Object" and no recording shows it).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote_plus

__all__ = [
    "SNS_SUBJECT", "ObjectEventLike", "eventbridge_entry", "iso_millis", "owner_id", "record",
    "records_body", "test_event",
]  # fmt: skip

SNS_SUBJECT = "Amazon S3 Notification"
HOST_ID_BYTES = 48


class ObjectEventLike(Protocol):
    """What the S3 service tells its listeners (``sendoff.services.s3.model.ObjectEvent``)."""

    @property
    def account(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def bucket(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def event_name(self) -> str: ...  # "ObjectCreated:Put", "ObjectRemoved:Delete"...
    @property
    def size(self) -> int | None: ...
    @property
    def etag(self) -> str | None: ...
    @property
    def version_id(self) -> str | None: ...
    @property
    def sequencer(self) -> str | None: ...
    @property
    def source_ip(self) -> str | None: ...
    @property
    def principal_id(self) -> str | None: ...
    @property
    def request_id(self) -> str | None: ...


def iso_millis(when: Any) -> str:
    """``2024-01-02T03:04:05.678Z`` from an epoch float or a datetime."""
    if isinstance(when, datetime):
        moment = when if when.tzinfo else when.replace(tzinfo=UTC)
    else:
        moment = datetime.fromtimestamp(float(when), UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_seconds(when: Any) -> str:
    return iso_millis(when)[:19] + "Z"


def event_time(event: ObjectEventLike) -> Any:
    return getattr(event, "event_time", None) or datetime.now(UTC)


def encode_key(key: str) -> str:
    """The key as S3 puts it in notifications: URL-encoded, ``/`` kept, space as ``+``."""
    return quote_plus(key, safe="/")


def owner_id(account: str) -> str:
    """A stable canonical-style owner id for an account (AWS shows e.g. A3NL1KOZZKExample)."""
    return "A" + hashlib.sha256(account.encode()).hexdigest()[:13].upper()


def host_id(request_id: str) -> str:
    """An ``x-amz-id-2``-like value, derived from the request id."""
    import base64

    digest = hashlib.sha384(request_id.encode()).digest()
    return base64.b64encode(digest)[:HOST_ID_BYTES].decode()


def _principal(event: ObjectEventLike) -> str:
    return event.principal_id or f"AWS:{event.account}"


def record(event: ObjectEventLike, configuration_id: str) -> dict[str, Any]:
    request_id = event.request_id or ""
    obj: dict[str, Any] = {"key": encode_key(event.key)}
    created = event.event_name.startswith("ObjectCreated:")
    if created and event.size is not None:
        obj["size"] = event.size
    if created and event.etag:
        obj["eTag"] = event.etag.strip('"')
    if event.version_id and event.version_id != "null":
        obj["versionId"] = event.version_id
    obj["sequencer"] = event.sequencer or "0"
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": event.region,
        "eventTime": iso_millis(event_time(event)),
        "eventName": event.event_name.removeprefix("s3:"),
        "userIdentity": {"principalId": _principal(event)},
        "requestParameters": {"sourceIPAddress": event.source_ip or "127.0.0.1"},
        "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": host_id(request_id)},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {
                "name": event.bucket,
                "ownerIdentity": {"principalId": owner_id(event.account)},
                "arn": f"arn:aws:s3:::{event.bucket}",
            },
            "object": obj,
        },
    }


def records_body(event: ObjectEventLike, configuration_id: str) -> dict[str, Any]:
    return {"Records": [record(event, configuration_id)]}


def test_event(bucket: str, request_id: str, now: Any) -> dict[str, Any]:
    return {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": iso_millis(now),
        "Bucket": bucket,
        "RequestId": request_id,
        "HostId": host_id(request_id),
    }


_REASONS = {
    "Put": "PutObject",
    "Post": "PostObject",
    "Copy": "CopyObject",
    "CompleteMultipartUpload": "CompleteMultipartUpload",
}


def eventbridge_entry(event: ObjectEventLike) -> dict[str, Any] | None:
    """``{"detail_type", "detail", "resources", "time"}`` for an ObjectCreated/ObjectRemoved
    event, or None for event types EventBridge gets no event for here."""
    family, _, action = event.event_name.removeprefix("s3:").partition(":")
    # not URL-encoded, unlike the notification record's: a real event's key
    # "raw/health-check/2023-08-08T14:03:40.532432.zip" keeps its colons
    # (gist.github.com/vincentclaes/7a5eb53acc05b316c86769fed25d4e1a)
    obj: dict[str, Any] = {"key": event.key}
    detail: dict[str, Any] = {"version": "0", "bucket": {"name": event.bucket}, "object": obj}
    if family == "ObjectCreated":
        detail_type = "Object Created"
        if event.size is not None:
            obj["size"] = event.size
        if event.etag:
            obj["etag"] = event.etag.strip('"')
    elif family == "ObjectRemoved":
        detail_type = "Object Deleted"
        if action == "DeleteMarkerCreated" and event.etag:
            obj["etag"] = event.etag.strip('"')
    else:
        return None
    if event.version_id and event.version_id != "null":
        obj["version-id"] = event.version_id
    obj["sequencer"] = event.sequencer or "0"
    detail["request-id"] = event.request_id or ""
    detail["requester"] = event.account
    detail["source-ip-address"] = event.source_ip or "127.0.0.1"
    if family == "ObjectCreated":
        detail["reason"] = _REASONS.get(action, action)
    else:
        detail["reason"] = "DeleteObject"
        detail["deletion-type"] = (
            "Delete Marker Created" if action == "DeleteMarkerCreated" else "Permanently Deleted"
        )
    return {
        "detail_type": detail_type,
        "detail": detail,
        "resources": [f"arn:aws:s3:::{event.bucket}"],
        "time": iso_seconds(event_time(event)),
    }
