"""The CloudWatch Logs wire edge: JSON 1.1 over ``POST /`` with
``X-Amz-Target: Logs_20140328.<Operation>``.

Each operation reads its members once (:class:`Shape`: AWS's ``1 validation error
detected: ...`` wording, as ``InvalidParameterException``), calls the domain
(:mod:`sendoff.services.logs`) in the caller's account and region, and renders the
response. Domain errors become ``{"__type": code, "message": ...}`` in :func:`_error`,
the one place that happens.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from sendoff.api.context import request_context
from sendoff.api.json11 import CONTENT_TYPE, read_object, wire_error
from sendoff.api.json_shapes import Shape as BaseShape
from sendoff.model.json_types import JSON
from sendoff.services.logs.errors import InvalidParameter, LogsError, ServiceUnavailable
from sendoff.services.logs.events import LogEvents
from sendoff.services.logs.groups import LogGroups, StreamInfo
from sendoff.services.logs.model import Scope, group_arn, stream_arn

log = logging.getLogger("sendoff.api.logs")

TARGET_PREFIX: Final = "Logs_20140328"
EPOCH_MS_MAX: Final = 2**53

OPERATIONS: Final = (
    "CreateLogGroup", "DeleteLogGroup", "DescribeLogGroups", "CreateLogStream",
    "DeleteLogStream", "DescribeLogStreams", "GetLogEvents", "FilterLogEvents", "PutLogEvents",
    "PutRetentionPolicy", "DeleteRetentionPolicy", "TagLogGroup", "UntagLogGroup",
    "ListTagsLogGroup", "TagResource", "UntagResource", "ListTagsForResource",
)  # fmt: skip

Operation = Callable[[Scope, JSON], Awaitable[JSON | bytes]]
"""An operation answers a JSON object, or the JSON text of one (the event pages: up to
10,000 events rendered without a dictionary each)."""


class Shape(BaseShape):
    invalid = InvalidParameter


def _tags(shape: Shape, name: str) -> dict[str, str]:
    value = shape.body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        shape._fail(value, name, "be a map of strings")
        return {}
    for key, text in value.items():
        if not 1 <= len(key) <= 128 or len(text) > 256:
            shape._fail(key, name, "have keys of 1 to 128 and values of at most 256 characters")
    return dict(value)


def _strings(shape: Shape, name: str, *, max_len: int) -> list[str] | None:
    if shape.body.get(name) is None:
        return None
    values = shape.items(name, max_len=max_len)
    if not all(isinstance(v, str) for v in values):
        shape._fail(values, name, "be a list of strings")
        return None
    return list(values)


def _time(shape: Shape, name: str) -> int | None:
    return shape.integer(name, low=0, high=EPOCH_MS_MAX)


class LogsApi:
    def __init__(
        self, groups: LogGroups, events: LogEvents, *, account_id: str, default_region: str
    ) -> None:
        self.groups = groups
        self.events = events
        self.account_id = account_id
        self.default_region = default_region
        self.operations: dict[str, Operation] = {
            "CreateLogGroup": self.create_log_group,
            "DeleteLogGroup": self.delete_log_group,
            "DescribeLogGroups": self.describe_log_groups,
            "CreateLogStream": self.create_log_stream,
            "DeleteLogStream": self.delete_log_stream,
            "DescribeLogStreams": self.describe_log_streams,
            "GetLogEvents": self.get_log_events,
            "FilterLogEvents": self.filter_log_events,
            "PutLogEvents": self.put_log_events,
            "PutRetentionPolicy": self.put_retention_policy,
            "DeleteRetentionPolicy": self.delete_retention_policy,
            "TagLogGroup": self.tag_log_group,
            "UntagLogGroup": self.untag_log_group,
            "ListTagsLogGroup": self.list_tags_log_group,
            "TagResource": self.tag_resource,
            "UntagResource": self.untag_resource,
            "ListTagsForResource": self.list_tags_for_resource,
        }
        assert tuple(self.operations) == OPERATIONS

    async def __call__(self, request: Request) -> Response:
        ctx = request_context(
            request, account_id=self.account_id, default_region=self.default_region
        )
        headers = {"x-amzn-RequestId": ctx.request_id}
        name = request.headers.get("x-amz-target", "").split(".", 1)[-1]
        operation = self.operations.get(name)
        if operation is None:
            return wire_error("UnknownOperationException", f"Unknown operation {name}", headers)
        read = await read_object(request, headers)
        if isinstance(read, Response):
            return read
        body, where = read
        if where is not None:
            message = (
                f"1 validation error detected: Value at '{where}' failed to satisfy"
                " constraint: Member must contain only valid Unicode characters"
            )
            return _error(InvalidParameter(message), headers)
        scope = Scope(account_id=ctx.account_id, region=ctx.region)
        try:
            result = await operation(scope, body)
        except LogsError as exc:
            return _error(exc, headers)
        except Exception:
            log.exception("unhandled error in %s.%s", TARGET_PREFIX, name)
            return _error(ServiceUnavailable("The service cannot complete the request."), headers)
        text = result if isinstance(result, bytes) else json.dumps(result, separators=(",", ":"))
        return Response(text, media_type=CONTENT_TYPE, headers=headers)

    def _group(self, scope: Scope, shape: Shape, *, required: bool = True) -> str:
        name = shape.string("logGroupName", min_len=1, max_len=512)
        identifier = shape.string("logGroupIdentifier", min_len=1, max_len=2048)
        shape.done()
        if not required and name is None and identifier is None:
            return ""
        return self.groups.resolve(scope, name, identifier)

    # ---- groups ----
    async def create_log_group(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        name = shape.string("logGroupName", required=True)
        tags = _tags(shape, "tags")
        group_class = shape.string(
            "logGroupClass", allowed=["STANDARD", "INFREQUENT_ACCESS", "DELIVERY"]
        )
        shape.done()
        assert name is not None
        await self.groups.create(scope, name, tags=tags, log_group_class=group_class)
        return {}

    async def delete_log_group(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        name = shape.string("logGroupName", required=True, min_len=1, max_len=512)
        shape.done()
        assert name is not None
        await self.groups.delete(scope, name)
        return {}

    async def describe_log_groups(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        prefix = shape.string("logGroupNamePrefix", min_len=1, max_len=512)
        pattern = shape.string("logGroupNamePattern", max_len=512)
        token = shape.string("nextToken", min_len=1)
        limit = shape.body.get("limit")
        if limit is not None and not isinstance(limit, int):
            shape._fail(limit, "limit", "be an integer")
            limit = None
        shape.done()
        rows, next_token = await self.groups.describe(
            scope, prefix=prefix, pattern=pattern or None, limit=limit, token=token
        )
        out: JSON = {"logGroups": [_group_wire(scope, doc, size) for doc, size in rows]}
        if next_token:
            out["nextToken"] = next_token
        return out

    async def put_retention_policy(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        name = shape.string("logGroupName", required=True, min_len=1, max_len=512)
        days = shape.body.get("retentionInDays")
        if not isinstance(days, int) or isinstance(days, bool):
            shape._fail(days, "retentionInDays", "not be null" if days is None else "be an integer")
        shape.done()
        assert name is not None and isinstance(days, int)
        await self.groups.put_retention(scope, name, days)
        return {}

    async def delete_retention_policy(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        name = shape.string("logGroupName", required=True, min_len=1, max_len=512)
        shape.done()
        assert name is not None
        await self.groups.delete_retention(scope, name)
        return {}

    # ---- tags ----
    async def tag_log_group(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        name = shape.string("logGroupName", required=True, min_len=1, max_len=512)
        tags = _tags(shape, "tags")
        shape.done()
        assert name is not None
        await self.groups.tag(scope, name, tags)
        return {}

    async def untag_log_group(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        name = shape.string("logGroupName", required=True, min_len=1, max_len=512)
        keys = _strings(shape, "tags", max_len=50) or []
        shape.done()
        assert name is not None
        await self.groups.untag(scope, name, keys)
        return {}

    async def list_tags_log_group(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        name = shape.string("logGroupName", required=True, min_len=1, max_len=512)
        shape.done()
        assert name is not None
        return {"tags": await self.groups.tags(scope, name)}

    async def tag_resource(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        arn = shape.string("resourceArn", required=True, min_len=1, max_len=1011)
        tags = _tags(shape, "tags")
        shape.done()
        assert arn is not None
        await self.groups.tag(scope, self.groups.group_of_arn(scope, arn), tags)
        return {}

    async def untag_resource(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        arn = shape.string("resourceArn", required=True, min_len=1, max_len=1011)
        keys = _strings(shape, "tagKeys", max_len=50) or []
        shape.done()
        assert arn is not None
        await self.groups.untag(scope, self.groups.group_of_arn(scope, arn), keys)
        return {}

    async def list_tags_for_resource(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        arn = shape.string("resourceArn", required=True, min_len=1, max_len=1011)
        shape.done()
        assert arn is not None
        return {"tags": await self.groups.tags(scope, self.groups.group_of_arn(scope, arn))}

    # ---- streams ----
    async def create_log_stream(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        group = shape.string("logGroupName", required=True, min_len=1, max_len=512)
        stream = shape.string("logStreamName", required=True)
        shape.done()
        assert group is not None and stream is not None
        await self.groups.create_stream(scope, group, stream)
        return {}

    async def delete_log_stream(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        group = shape.string("logGroupName", required=True, min_len=1, max_len=512)
        stream = shape.string("logStreamName", required=True, min_len=1, max_len=512)
        shape.done()
        assert group is not None and stream is not None
        await self.groups.delete_stream(scope, group, stream)
        return {}

    async def describe_log_streams(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        prefix = shape.string("logStreamNamePrefix", min_len=1, max_len=512)
        order = shape.string("orderBy", allowed=["LogStreamName", "LastEventTime"])
        descending = body.get("descending") is True
        token = shape.string("nextToken", min_len=1)
        limit = shape.integer("limit", low=1, high=50)
        group = self._group(scope, shape)
        streams, next_token = await self.groups.describe_streams(
            scope, group, prefix=prefix, order_by=order, descending=descending,
            limit=limit, token=token,
        )  # fmt: skip
        out: JSON = {"logStreams": [_stream_wire(scope, group, s) for s in streams]}
        if next_token:
            out["nextToken"] = next_token
        return out

    # ---- events ----
    async def get_log_events(self, scope: Scope, body: JSON) -> bytes:
        shape = Shape(body)
        stream = shape.string("logStreamName", required=True, min_len=1, max_len=512)
        start, end = _time(shape, "startTime"), _time(shape, "endTime")
        token = shape.string("nextToken", min_len=1)
        limit = shape.body.get("limit")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)):
            shape._fail(limit, "limit", "be an integer")
            limit = None
        from_head = body.get("startFromHead") is True
        group = self._group(scope, shape)
        assert stream is not None
        page = await self.events.get(
            scope, group, stream, start_ms=start, end_ms=end, token=token, limit=limit,
            from_head=from_head,
        )  # fmt: skip
        events = ",".join(
            f'{{"timestamp":{e.timestamp_ms},"message":{_text(e.message)},'
            f'"ingestionTime":{e.timestamp_ms}}}'
            for _, e in page.events
        )
        tokens = (
            f'"nextForwardToken":{_text(page.forward)},"nextBackwardToken":{_text(page.backward)}'
        )
        return f'{{"events":[{events}],{tokens}}}'.encode()

    async def filter_log_events(self, scope: Scope, body: JSON) -> bytes:
        shape = Shape(body)
        streams = _strings(shape, "logStreamNames", max_len=100)
        prefix = shape.string("logStreamNamePrefix", min_len=1, max_len=512)
        start, end = _time(shape, "startTime"), _time(shape, "endTime")
        pattern = shape.string("filterPattern", max_len=1024)
        token = shape.string("nextToken", min_len=1)
        limit = shape.body.get("limit")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)):
            shape._fail(limit, "limit", "be an integer")
            limit = None
        group = self._group(scope, shape)
        found = await self.events.filter(
            scope, group, streams=streams, stream_prefix=prefix, start_ms=start, end_ms=end,
            pattern=pattern, token=token, limit=limit,
        )  # fmt: skip
        names: dict[str, str] = {}  # a stream's name, encoded once
        events = ",".join(
            f'{{"logStreamName":{names.get(stream) or names.setdefault(stream, _text(stream))},'
            f'"timestamp":{e.timestamp_ms},"message":{_text(e.message)},'
            f'"ingestionTime":{e.timestamp_ms},"eventId":"{e.seq:056d}"}}'
            for stream, e in found.events
        )
        more = f',"nextToken":{_text(found.next_token)}' if found.next_token else ""
        return f'{{"events":[{events}],"searchedLogStreams":[]{more}}}'.encode()

    async def put_log_events(self, scope: Scope, body: JSON) -> JSON:
        shape = Shape(body)
        group = shape.string("logGroupName", required=True, min_len=1, max_len=512)
        stream = shape.string("logStreamName", required=True, min_len=1, max_len=512)
        entries = shape.items("logEvents", required=True)
        events: list[tuple[int, str]] = []
        for entry in entries:
            if not isinstance(entry, dict):
                shape._fail(entry, "logEvents", "be a list of InputLogEvent structures")
                break
            stamp, message = entry.get("timestamp"), entry.get("message")
            if (
                not isinstance(stamp, int)
                or isinstance(stamp, bool)
                or not isinstance(message, str)
            ):
                shape._fail(entry, "logEvents", "have a timestamp and a message")
                break
            if not message:
                shape._fail(
                    message, "logEvents.member.message", "have length greater than or equal to 1"
                )
                break
            events.append((stamp, message))
        shape.done()
        assert group is not None and stream is not None
        rejected = await self.events.put(scope, group, stream, events)
        out: JSON = {"nextSequenceToken": f"{len(events):056d}"}
        info = rejected.wire()
        if info is not None:
            out["rejectedLogEventsInfo"] = info
        return out


_text: Callable[[str], str] = json.encoder.encode_basestring_ascii
"""A JSON string, exactly as ``json.dumps`` writes one (ASCII, escapes included)."""


def _group_wire(scope: Scope, doc: JSON, stored_bytes: int) -> JSON:
    name = doc["name"]
    out: dict[str, Any] = {
        "logGroupName": name,
        "creationTime": doc["created_ms"],
        "metricFilterCount": 0,
        "arn": f"{group_arn(scope, name)}:*",
        "storedBytes": stored_bytes,
        "logGroupClass": doc.get("class", "STANDARD"),
        "logGroupArn": group_arn(scope, name),
        "deletionProtectionEnabled": False,
    }
    if isinstance(doc.get("retention_days"), int):
        out["retentionInDays"] = doc["retention_days"]
    return out


def _stream_wire(scope: Scope, group: str, stream: StreamInfo) -> JSON:
    out: JSON = {
        "logStreamName": stream.name,
        "creationTime": stream.created_ms,
        "arn": stream_arn(scope, group, stream.name),
        "storedBytes": 0,  # deprecated on AWS, always 0 there
    }
    if stream.first_event_ms is not None:
        out["firstEventTimestamp"] = stream.first_event_ms
        out["lastEventTimestamp"] = stream.last_event_ms
        out["lastIngestionTime"] = stream.last_event_ms
        out["uploadSequenceToken"] = "1"
    return out


def _error(error: LogsError, headers: dict[str, str]) -> Response:
    """The one place CloudWatch Logs domain errors become JSON 1.1 wire errors."""
    status = 500 if error.status >= 500 else 400
    return wire_error(error.code, error.message, headers, status=status)
