"""S3 event notification messages in AWS's recorded shapes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sendoff.services.s3 import event_records


@dataclass
class Event:
    account: str = "000000000000"
    region: str = "us-east-1"
    bucket: str = "b"
    key: str = "my dir/a@b.txt"
    event_name: str = "ObjectCreated:Put"
    size: int = 11
    etag: str = "e9fb1ed1d5eaa36781088aae37acffbd"
    version_id: str | None = None
    sequencer: str = "0055AED6DCD90281E5"
    event_time: datetime = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    source_ip: str = "127.0.0.1"
    principal_id: str = "AWS:AIDAEXAMPLE"
    request_id: str = "REQ1"


def test_created_record_shape() -> None:
    record = event_records.record(Event(), "cfg")
    assert record["eventVersion"] == "2.1" and record["eventSource"] == "aws:s3"
    assert record["eventTime"] == "2024-05-06T07:08:09.123Z"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["userIdentity"] == {"principalId": "AWS:AIDAEXAMPLE"}
    assert record["requestParameters"] == {"sourceIPAddress": "127.0.0.1"}
    assert set(record["responseElements"]) == {"x-amz-request-id", "x-amz-id-2"}
    s3 = record["s3"]
    assert s3["s3SchemaVersion"] == "1.0" and s3["configurationId"] == "cfg"
    assert s3["bucket"]["arn"] == "arn:aws:s3:::b" and s3["bucket"]["name"] == "b"
    assert s3["object"] == {
        "key": "my+dir/a%40b.txt",
        "size": 11,
        "eTag": "e9fb1ed1d5eaa36781088aae37acffbd",
        "sequencer": "0055AED6DCD90281E5",
    }


def test_removed_record_has_no_size_or_etag_and_versioned_has_version() -> None:
    record = event_records.record(Event(event_name="ObjectRemoved:Delete", version_id="v1"), "c")
    assert record["s3"]["object"] == {
        "key": "my+dir/a%40b.txt",
        "versionId": "v1",
        "sequencer": "0055AED6DCD90281E5",
    }


def test_eventbridge_entries() -> None:
    created = event_records.eventbridge_entry(Event())
    assert created is not None and created["detail_type"] == "Object Created"
    detail = created["detail"]
    assert detail["reason"] == "PutObject" and detail["version"] == "0"
    assert detail["object"]["etag"] == "e9fb1ed1d5eaa36781088aae37acffbd"
    assert detail["requester"] == "000000000000" and detail["request-id"] == "REQ1"
    assert detail["object"]["key"] == "my dir/a@b.txt"  # not URL-encoded, unlike records
    deleted = event_records.eventbridge_entry(Event(event_name="ObjectRemoved:Delete"))
    assert deleted is not None and deleted["detail_type"] == "Object Deleted"
    assert deleted["detail"]["deletion-type"] == "Permanently Deleted"
    assert "size" not in deleted["detail"]["object"] and "etag" not in deleted["detail"]["object"]


def test_test_event() -> None:
    event = event_records.test_event("b", "R", 0)
    assert event["Event"] == "s3:TestEvent" and event["Service"] == "Amazon S3"
    assert event["Time"] == "1970-01-01T00:00:00.000Z" and event["Bucket"] == "b"
