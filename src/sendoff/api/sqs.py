"""The SQS wire edge: AWS JSON 1.0 (``X-Amz-Target: AmazonSQS.<Operation>``) on ``POST /``.

Each handler parses its parameters once (types, required members, batch envelopes), calls
:class:`~sendoff.services.sqs.QueueService` and renders the result. Domain errors become
wire errors in :func:`error_response` only: the error's status (400 but for 403
``PurgeQueueInProgress``) and ``{"__type": "com.amazonaws.sqs#<JSON code>", "message": ...}``,
plus the ``awsQueryCompatible`` header ``x-amzn-query-error: <query code>;Sender``. botocore
reports the header's code as ``Error.Code`` (the historical Query-protocol code,
``AWS.SimpleQueueService.NonExistentQueue``...) and ``__type``'s as ``Error.QueryErrorCode``.

Long polls watch the connection: if the client goes away, the wait is abandoned instead
of leasing messages nobody will read.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from sendoff.api.context import RequestContext, request_context
from sendoff.api.json_shapes import NotJson, lone_surrogate_path, maybe_has_surrogate, parse_json
from sendoff.model.scope import Scope
from sendoff.services.sqs.batch import check_batch
from sendoff.services.sqs.envelope import OutgoingMessage, ReceivedMessage, SentMessage
from sendoff.services.sqs.errors import (
    InvalidParameterValue,
    MissingParameter,
    QueueError,
    QueueNotFound,
    UnsupportedOperation,
)
from sendoff.services.sqs.message import (
    check_receive_attribute_names,
    md5_of_attributes,
    select_attributes,
    select_system_attributes,
)
from sendoff.services.sqs.model import QueueRef, parse_queue_url, queue_url
from sendoff.services.sqs.service import QueueService

log = logging.getLogger("sendoff.api.sqs")

JSON_TYPE = "application/x-amz-json-1.0"
TYPE_PREFIX = "com.amazonaws.sqs#"
_ACCESS_KEY = re.compile(r"Credential=([^/,\s]+)/")
_CONTENT_MEMBERS = frozenset({"MessageBody", "MessageAttributes", "MessageSystemAttributes"})
OPERATIONS = (
    "CreateQueue", "GetQueueUrl", "ListQueues", "DeleteQueue", "GetQueueAttributes",
    "SetQueueAttributes", "PurgeQueue", "TagQueue", "UntagQueue", "ListQueueTags",
    "ListDeadLetterSourceQueues", "SendMessage", "SendMessageBatch", "ReceiveMessage",
    "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
)  # fmt: skip
NOT_IMPLEMENTED = frozenset(
    {"AddPermission", "RemovePermission", "StartMessageMoveTask", "CancelMessageMoveTask",
     "ListMessageMoveTasks"}
)  # fmt: skip

# awsQueryCompatible: the Query-protocol code of each error (default: the same name)
QUERY_CODES = {
    "QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue",
    "QueueNameExists": "QueueAlreadyExists",
    "MessageNotInflight": "AWS.SimpleQueueService.MessageNotInflight",
    "UnsupportedOperation": "AWS.SimpleQueueService.UnsupportedOperation",
    "EmptyBatchRequest": "AWS.SimpleQueueService.EmptyBatchRequest",
    "TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    "BatchEntryIdsNotDistinct": "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    "InvalidBatchEntryId": "AWS.SimpleQueueService.InvalidBatchEntryId",
    "BatchRequestTooLong": "AWS.SimpleQueueService.BatchRequestTooLong",
    "PurgeQueueInProgress": "AWS.SimpleQueueService.PurgeQueueInProgress",
}
# The JSON ``__type`` of each error whose JSON name differs from the sendoff code (default:
# the same name). Recorded from AWS (LocalStack's tests/aws/services/sqs/test_sqs.snapshot.json:
# every InvalidParameterValue and MissingParameter has these QueryErrorCodes).
JSON_TYPES = {
    "InvalidParameterValue": "InvalidParameterValueException",
    "MissingParameter": "MissingRequiredParameterException",
}


def json_response(
    body: dict[str, Any],
    *,
    request_id: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")).encode(),
        status_code=status,
        media_type=JSON_TYPE,
        headers={"x-amzn-RequestId": request_id, **(headers or {})},
    )


def error_response(error: QueueError, *, request_id: str) -> Response:
    """The one place queue-service errors become SQS wire errors."""
    fault = "Sender" if error.sender_fault else "Receiver"
    json_type = JSON_TYPES.get(error.code, error.code)
    return json_response(
        {"__type": f"{TYPE_PREFIX}{json_type}", "message": error.message},
        request_id=request_id,
        status=error.status,
        headers={"x-amzn-query-error": f"{QUERY_CODES.get(error.code, error.code)};{fault}"},
    )


def unknown_operation(request_id: str) -> Response:
    """What AWS's JSON front end (Coral) answers for a target it does not know: the bare
    ``com.amazon.coral.service#UnknownOperationException``, no message (as DynamoDB's,
    which dynalite reproduces byte for byte)."""
    return json_response(
        {"__type": "com.amazon.coral.service#UnknownOperationException"},
        request_id=request_id,
        status=400,
        headers={"x-amzn-query-error": "UnknownOperationException;Sender"},
    )


def _batch_failure(entry_id: str, error: QueueError) -> dict[str, Any]:
    return {
        "Id": entry_id,
        "SenderFault": error.sender_fault,
        "Code": QUERY_CODES.get(error.code, error.code),
        "Message": error.message,
    }


# ---- parameter parsing ----
def _get(params: dict[str, Any], name: str, kind: type, required: bool) -> Any:
    value = params.get(name)
    if value is None:
        if required:
            raise MissingParameter(name)
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidParameterValue(f"Value {value!r} for parameter {name} is invalid.")
    return value


def _str(params: dict[str, Any], name: str) -> str | None:
    return _get(params, name, str, False)  # type: ignore[no-any-return]


def _required_str(params: dict[str, Any], name: str) -> str:
    return _get(params, name, str, True)  # type: ignore[no-any-return]


def _int(params: dict[str, Any], name: str) -> int | None:
    return _get(params, name, int, False)  # type: ignore[no-any-return]


def _strings(params: dict[str, Any], name: str) -> list[str]:
    values: list[str] = _get(params, name, list, False) or []
    if not all(isinstance(v, str) for v in values):
        raise InvalidParameterValue(f"Value for parameter {name} is invalid.")
    return values


def _map(params: dict[str, Any], name: str, *, required: bool = False) -> dict[str, Any]:
    values: dict[str, Any] = _get(params, name, dict, required) or {}
    return values


def _string_map(params: dict[str, Any], name: str, *, required: bool = False) -> dict[str, str]:
    values = _map(params, name, required=required)
    for key, value in values.items():
        if not isinstance(value, str):
            raise InvalidParameterValue(f"Value for parameter {name}.{key} is invalid.")
    return values


def _max_results(params: dict[str, Any]) -> int | None:
    max_results = _int(params, "MaxResults")
    if max_results is not None and not 1 <= max_results <= 1000:
        raise InvalidParameterValue(
            f"Value {max_results} for parameter MaxResults is invalid. Reason: MaxResults"
            " must be an integer between 1 and 1000."
        )
    return max_results


def _outgoing(params: dict[str, Any], trace_header: str | None = None) -> OutgoingMessage:
    return OutgoingMessage(
        body=_required_str(params, "MessageBody"),
        attributes=_map(params, "MessageAttributes"),
        system_attributes=_map(params, "MessageSystemAttributes"),
        delay_s=_int(params, "DelaySeconds"),
        group_id=_str(params, "MessageGroupId"),
        dedup_id=_str(params, "MessageDeduplicationId"),
        trace_header=trace_header,
    )


def _sent(sent: SentMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"MessageId": sent.message_id, "MD5OfMessageBody": sent.md5_of_body}
    if sent.md5_of_attributes:
        out["MD5OfMessageAttributes"] = sent.md5_of_attributes
    if sent.md5_of_system_attributes:
        out["MD5OfMessageSystemAttributes"] = sent.md5_of_system_attributes
    if sent.sequence_number:
        out["SequenceNumber"] = sent.sequence_number
    return out


def _received(
    m: ReceivedMessage, attribute_names: list[str], system_names: set[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "MessageId": m.message_id,
        "ReceiptHandle": m.receipt_handle,
        "MD5OfBody": m.md5_of_body,
        "Body": m.body,
    }
    system = select_system_attributes(m.system_attributes, system_names)
    if system:
        out["Attributes"] = system
    attributes = select_attributes(m.attributes, attribute_names)
    if attributes:
        out["MessageAttributes"] = attributes
        out["MD5OfMessageAttributes"] = md5_of_attributes(attributes)
    return out


@dataclass(frozen=True, kw_only=True)
class Call:
    """One parsed request: who asks, in which scope, with which parameters."""

    ctx: RequestContext
    scope: Scope
    params: dict[str, Any]
    request: Request
    sender_id: str

    @property
    def trace_header(self) -> str | None:
        """X-Amzn-Trace-Id (SDKs send a function's _X_AMZN_TRACE_ID): it becomes the
        message's AWSTraceHeader, carrying the recursion lineage."""
        value: str | None = self.request.headers.get("x-amzn-trace-id")
        return value

    def queue(self) -> QueueRef:
        ref = parse_queue_url(_required_str(self.params, "QueueUrl"), scope=self.scope)
        if ref is None:
            raise QueueNotFound()
        return ref

    def url(self, ref: QueueRef) -> str:
        return queue_url(self.ctx.host, ref.account_id, ref.name)


Handler = Callable[[Call], Awaitable[dict[str, Any]]]


async def _until_disconnected(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


class SqsApi:
    """The ``AmazonSQS`` JSON target; an instance is the endpoint the router calls."""

    def __init__(self, queues: QueueService, *, account_id: str, default_region: str) -> None:
        self.queues = queues
        self.account_id = account_id
        self.default_region = default_region
        # "SendMessageBatch" is handled by send_message_batch, and so on
        self.handlers: dict[str, Handler] = {
            op: getattr(self, re.sub(r"(?<!^)([A-Z])", r"_\1", op).lower()) for op in OPERATIONS
        }

    async def __call__(self, request: Request) -> Response:
        ctx = request_context(
            request, account_id=self.account_id, default_region=self.default_region
        )
        operation = request.headers.get("x-amz-target", "").partition(".")[2]
        try:
            handler = self.handlers.get(operation)
            if handler is None:
                if operation in NOT_IMPLEMENTED:
                    raise UnsupportedOperation(f"sendoff does not implement {operation} yet.")
                return unknown_operation(ctx.request_id)
            key = _ACCESS_KEY.search(request.headers.get("authorization", ""))
            call = Call(
                ctx=ctx,
                scope=Scope(account_id=ctx.account_id, region=ctx.region),
                params=await _params(request),
                request=request,
                sender_id=key.group(1) if key else ctx.account_id,
            )
            return json_response(await handler(call), request_id=ctx.request_id)
        except QueueError as exc:
            return error_response(exc, request_id=ctx.request_id)
        except Exception:
            log.exception("unhandled error in AmazonSQS.%s", operation)
            body = {"__type": f"{TYPE_PREFIX}InternalError", "message": "Internal error."}
            query = {"x-amzn-query-error": "InternalError;Receiver"}
            return json_response(body, request_id=ctx.request_id, status=500, headers=query)

    # ---- queues ----
    async def create_queue(self, call: Call) -> dict[str, Any]:
        name = _required_str(call.params, "QueueName")
        queue = await self.queues.create_queue(
            call.scope,
            name,
            _string_map(call.params, "Attributes"),
            _string_map(call.params, "tags"),
        )
        return {"QueueUrl": call.url(queue.ref)}

    async def get_queue_url(self, call: Call) -> dict[str, Any]:
        name = _required_str(call.params, "QueueName")
        owner = _str(call.params, "QueueOwnerAWSAccountId") or call.scope.account_id
        queue = await self.queues.require(
            QueueRef(account_id=owner, region=call.scope.region, name=name)
        )
        return {"QueueUrl": call.url(queue.ref)}

    async def list_queues(self, call: Call) -> dict[str, Any]:
        prefix = _str(call.params, "QueueNamePrefix") or ""
        max_results = _max_results(call.params)
        after = _decode_token(_str(call.params, "NextToken"))
        limit = max_results or 1000
        found = await self.queues.list_queues(
            call.scope, prefix=prefix, after=after, limit=limit + 1
        )
        out: dict[str, Any] = {}
        if found[:limit]:
            out["QueueUrls"] = [call.url(q.ref) for q in found[:limit]]
        if max_results is not None and len(found) > limit:
            out["NextToken"] = _encode_token(found[limit - 1].name)
        return out

    async def delete_queue(self, call: Call) -> dict[str, Any]:
        await self.queues.delete_queue(call.queue())
        return {}

    async def get_queue_attributes(self, call: Call) -> dict[str, Any]:
        names = _strings(call.params, "AttributeNames")
        values = await self.queues.queue_attributes(call.queue(), names)
        return {"Attributes": values} if values else {}

    async def set_queue_attributes(self, call: Call) -> dict[str, Any]:
        attributes = _string_map(call.params, "Attributes", required=True)
        await self.queues.set_queue_attributes(call.queue(), attributes)
        return {}

    async def purge_queue(self, call: Call) -> dict[str, Any]:
        await self.queues.purge(call.queue(), rate_limited=True)
        return {}

    async def tag_queue(self, call: Call) -> dict[str, Any]:
        await self.queues.tag_queue(call.queue(), _string_map(call.params, "Tags", required=True))
        return {}

    async def untag_queue(self, call: Call) -> dict[str, Any]:
        keys = _get(call.params, "TagKeys", list, True)
        await self.queues.untag_queue(call.queue(), [str(k) for k in keys])
        return {}

    async def list_queue_tags(self, call: Call) -> dict[str, Any]:
        queue = await self.queues.require(call.queue())
        return {"Tags": queue.tags} if queue.tags else {}

    async def list_dead_letter_source_queues(self, call: Call) -> dict[str, Any]:
        max_results = _max_results(call.params)
        sources = sorted(await self.queues.dead_letter_sources(call.queue()), key=lambda q: q.name)
        after = _decode_token(_str(call.params, "NextToken"))
        sources = [q for q in sources if after is None or q.name > after]
        limit = max_results or 1000
        out: dict[str, Any] = {"queueUrls": [call.url(q.ref) for q in sources[:limit]]}
        if len(sources) > limit:
            out["NextToken"] = _encode_token(sources[limit - 1].name)
        return out

    # ---- messages ----
    async def send_message(self, call: Call) -> dict[str, Any]:
        ref = call.queue()
        (result,) = await self.queues.send_batch(
            ref, [_outgoing(call.params, call.trace_header)], sender_id=call.sender_id
        )
        if isinstance(result, QueueError):
            raise result
        return _sent(result)

    async def send_message_batch(self, call: Call) -> dict[str, Any]:
        async def send(messages: list[OutgoingMessage]) -> list[SentMessage | QueueError]:
            return await self.queues.send_batch(ref, messages, sender_id=call.sender_id, batch=True)

        ref = call.queue()

        def outgoing(entry: dict[str, Any]) -> OutgoingMessage:
            return _outgoing(entry, call.trace_header)

        return await _batch(call, "SendMessageBatchRequestEntry", outgoing, send, _sent)

    async def receive_message(self, call: Call) -> dict[str, Any]:
        ref = call.queue()
        system_names = check_receive_attribute_names(
            {
                *_strings(call.params, "AttributeNames"),
                *_strings(call.params, "MessageSystemAttributeNames"),
            }
        )
        attribute_names = _strings(call.params, "MessageAttributeNames")
        wait_s = _int(call.params, "WaitTimeSeconds")
        max_messages = _int(call.params, "MaxNumberOfMessages")
        receiving = self.queues.receive(
            ref,
            max_messages=1 if max_messages is None else max_messages,
            visibility_s=_int(call.params, "VisibilityTimeout"),
            wait_s=wait_s,
        )
        if wait_s == 0:
            messages = await receiving
        else:
            messages = await _unless_disconnected(receiving, call.request)
        if not messages:
            return {}
        return {"Messages": [_received(m, attribute_names, system_names) for m in messages]}

    async def delete_message(self, call: Call) -> dict[str, Any]:
        ref = call.queue()
        (error,) = await self.queues.delete_messages(
            ref, [_required_str(call.params, "ReceiptHandle")]
        )
        if error is not None:
            raise error
        return {}

    async def delete_message_batch(self, call: Call) -> dict[str, Any]:
        async def delete(handles: list[str]) -> list[QueueError | None]:
            return await self.queues.delete_messages(ref, handles)

        ref = call.queue()
        return await _batch(call, "DeleteMessageBatchRequestEntry", _receipt, delete, _no_result)

    async def change_message_visibility(self, call: Call) -> dict[str, Any]:
        ref = call.queue()
        handle = _required_str(call.params, "ReceiptHandle")
        timeout = _get(call.params, "VisibilityTimeout", int, True)
        (error,) = await self.queues.change_visibility(ref, [(handle, timeout)])
        if error is not None:
            raise error
        return {}

    async def change_message_visibility_batch(self, call: Call) -> dict[str, Any]:
        async def change(entries: list[tuple[str, int]]) -> list[QueueError | None]:
            return await self.queues.change_visibility(ref, entries)

        ref = call.queue()
        name = "ChangeMessageVisibilityBatchRequestEntry"
        return await _batch(call, name, _visibility, change, _no_result)


T = TypeVar("T")
R = TypeVar("R")


async def _batch(
    call: Call,
    entry_name: str,
    parse: Callable[[dict[str, Any]], T],
    apply: Callable[[list[T]], Awaitable[list[R | QueueError]]],
    render: Callable[[R], dict[str, Any]],
) -> dict[str, Any]:
    """Run a batch: check the envelope, parse each entry, apply the parsed ones in order,
    and report every entry as successful or failed (a bad entry fails alone)."""
    failed: list[dict[str, Any]] = []
    parsed: list[tuple[str, T]] = []
    for entry in check_batch(_get(call.params, "Entries", list, True), entry_name):
        try:
            parsed.append((entry["Id"], parse(entry)))
        except QueueError as exc:
            failed.append(_batch_failure(entry["Id"], exc))
    results = await apply([item for _, item in parsed]) if parsed else []
    successful = []
    for (entry_id, _), result in zip(parsed, results, strict=True):
        if isinstance(result, QueueError):
            failed.append(_batch_failure(entry_id, result))
        else:
            successful.append({"Id": entry_id, **render(result)})
    return {"Successful": successful, "Failed": failed}


def _receipt(entry: dict[str, Any]) -> str:
    return _required_str(entry, "ReceiptHandle")


def _visibility(entry: dict[str, Any]) -> tuple[str, int]:
    return _required_str(entry, "ReceiptHandle"), _get(entry, "VisibilityTimeout", int, True)


def _no_result(_: None) -> dict[str, Any]:
    return {}


async def _params(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        params = parse_json(raw)
    except NotJson:
        raise InvalidParameterValue("The request body is not valid JSON.") from None
    if not isinstance(params, dict):
        raise InvalidParameterValue("The request body must be a JSON object.")
    if maybe_has_surrogate(raw):
        # bodies and message attributes have their own character check (per batch entry)
        where = lone_surrogate_path(params, skip=_CONTENT_MEMBERS)
        if where is not None:
            raise InvalidParameterValue(
                f"Value for parameter {where} is invalid. Reason: it contains characters"
                " that are not valid Unicode."
            )
    return params


async def _unless_disconnected(
    receiving: Awaitable[list[ReceivedMessage]], request: Request
) -> list[ReceivedMessage]:
    """Run a long poll, abandoning it (no lease taken) if the client disconnects."""
    poll = asyncio.ensure_future(receiving)
    gone = asyncio.ensure_future(_until_disconnected(request))
    try:
        await asyncio.wait({poll, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
        if not poll.done():
            poll.cancel()  # the client left (or this request was cancelled): stop waiting
    return poll.result() if poll.done() and not poll.cancelled() else []


def _encode_token(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def _decode_token(token: str | None) -> str | None:
    if token is None:
        return None
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidParameterValue("Invalid NextToken value.") from None
