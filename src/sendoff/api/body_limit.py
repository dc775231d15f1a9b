"""Request bodies are bounded before they are read, on every route.

One table, `RULES`, gives each route its limit and the error its protocol speaks. A
request whose `Content-Length` is over the limit gets its 413 at once and the endpoint
never runs; a body without one (chunked) is counted as the endpoint reads it, and the
413 goes out the moment the count passes the limit, so the server never holds more than
the limit of one body. (A declared length within the limit needs no counting: the HTTP
server delivers no more than `Content-Length` bytes.)

After an early 413 the rest of a moderately oversized body is read and dropped by the
HTTP server (uvicorn discards the body of a request already answered), so clients that
send the whole body before reading the answer (urllib3, hence boto3 and the AWS CLI) see
the 413 rather than a broken pipe. Past `DRAIN_LIMIT`, or for a chunked body, the
answer carries `Connection: close` and the connection ends instead.

Sources of the numbers and messages:

* Invoke RequestResponse/DryRun: 6,291,456 bytes, 413 RequestEntityTooLargeException
  "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
  (shared/spec/lambda-async-facts.md).
* Invoke Event: the async pipeline's limit and message, as `api.lambda_invoke` words it.
* CreateFunction / UpdateFunctionCode with an inline ZipFile: 69,905,067 bytes (the base64
  of 50 MiB), "Request must be smaller than 69905067 bytes for the CreateFunction
  operation" (AWS's answer as users quote it; LocalStack's
  LAMBDA_LIMITS_CREATE_FUNCTION_REQUEST_SIZE has the same default).
* SQS, EventBridge, CloudWatch Logs: 1 MiB of message / event entries / log events per
  request (AWS's documented quotas), which JSON escaping can triple: capped at 8 MiB.
  SNS: 256 KiB per message or batch, percent-encoded in a form (up to 3x): capped at
  2 MiB. AWS's front end answers an oversized request with a bare 413 (boto/boto3#3411
  shows one from PutEvents: empty body, `Connection: close`); sendoff keeps the status
  and adds a body in the protocol's error shape, code `RequestEntityTooLarge`, so SDKs
  print a message.
* Console forms: `console.web.MAX_FORM_BYTES` (8 MiB), plain text; a console upload into
  a bucket (streamed into the store, never held whole): S3's 5 GiB.
* S3 (a request :func:`sendoff.api.s3.addressing.s3_target` claims, whatever its path):
  5 GiB, AWS's largest PutObject/UploadPart, plus room for ``aws-chunked`` framing; S3
  streams bodies into its store and checks the exact 5 GiB of payload itself. Over it:
  400 ``EntityTooLarge`` in S3's XML, as AWS answers.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import escape

from starlette.types import Message, Receive, Scope, Send

from sendoff.api.lambda_invoke import ASYNC_LEGACY_LIMIT, SYNC_LIMIT
from sendoff.api.s3.addressing import s3_target
from sendoff.functions.validation import INLINE_ZIP_REQUEST_LIMIT
from sendoff.scheduler.invocations import EVENT_PAYLOAD_LIMIT
from sendoff.services.s3.chunks import MAX_PUT_BYTES as S3_MAX_PUT_BYTES

MiB = 1024 * 1024
_NO_ID = b"00000000-0000-0000-0000-000000000000"  # replaced by the request id
DRAIN_LIMIT = 2 * INLINE_ZIP_REQUEST_LIMIT
"""Up to this many declared bytes the rest of a refused body is drained, not cut off."""

Headers = list[tuple[bytes, bytes]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
Reply = Callable[[int, int | None, str | None], tuple[Headers, bytes]]
"""(limit, body bytes if known, operation) -> the 413's headers and body."""


def _lambda(limit: int, size: int | None, operation: str | None) -> tuple[Headers, bytes]:
    message = f"Request must be smaller than {limit} bytes for the {operation} operation"
    return _json(
        b"application/json", {"Type": "User", "message": message}, "RequestEntityTooLargeException"
    )


def _lambda_event(limit: int, size: int | None, operation: str | None) -> tuple[Headers, bytes]:
    message = (
        f"{size if size is not None else limit + 1} byte payload is too large for the"
        f" {operation} (limit {limit} bytes)"
    )
    return _json(
        b"application/json", {"Type": "User", "message": message}, "RequestEntityTooLargeException"
    )


def _sqs(limit: int, size: int | None, operation: str | None) -> tuple[Headers, bytes]:
    headers, body = _json(
        b"application/x-amz-json-1.0",
        {
            "__type": "com.amazonaws.sqs#RequestEntityTooLarge",
            "message": _generic(limit, operation),
        },
    )
    return [*headers, (b"x-amzn-query-error", b"RequestEntityTooLarge;Sender")], body


def _events(limit: int, size: int | None, operation: str | None) -> tuple[Headers, bytes]:
    return _json(
        b"application/x-amz-json-1.1",
        {"__type": "RequestEntityTooLarge", "message": _generic(limit, operation)},
    )


def _sns(limit: int, size: int | None, operation: str | None) -> tuple[Headers, bytes]:
    body = (
        '<?xml version="1.0"?>\n<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
        "<Error><Type>Sender</Type><Code>RequestEntityTooLarge</Code>"
        f"<Message>{escape(_generic(limit, operation))}</Message></Error>"
        f"<RequestId>{_NO_ID.decode()}</RequestId></ErrorResponse>"
    )
    return [(b"content-type", b"text/xml")], body.encode()


def _s3(limit: int, size: int | None, operation: str | None) -> tuple[Headers, bytes]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>EntityTooLarge</Code>'
        "<Message>Your proposed upload exceeds the maximum allowed size</Message>"
        f"<ProposedSize>{size if size is not None else limit + 1}</ProposedSize>"
        f"<MaxSizeAllowed>{S3_MAX_PUT_BYTES}</MaxSizeAllowed>"
        f"<RequestId>{_NO_ID.decode()}</RequestId></Error>"
    )
    return [(b"content-type", b"application/xml")], body.encode()


def _plain(limit: int, size: int | None, operation: str | None) -> tuple[Headers, bytes]:
    text = f"Request body too large (limit {limit} bytes).\n"
    return [(b"content-type", b"text/plain; charset=utf-8")], text.encode()


def _generic(limit: int, operation: str | None) -> str:
    where = f" for the {operation} operation" if operation else ""
    return f"Request must be smaller than {limit} bytes{where}"


def _json(
    content_type: bytes, body: dict[str, str], error_type: str | None = None
) -> tuple[Headers, bytes]:
    headers = [(b"content-type", content_type)]
    if error_type:
        headers.append((b"x-amzn-errortype", error_type.encode()))
    return headers, json.dumps(body).encode()


@dataclass(frozen=True)
class Rule:
    """Requests whose method and path match get `limit` bytes and `reply` over it."""

    methods: frozenset[str]
    path: re.Pattern[str]
    limit: int
    reply: Reply
    operation: str | None = None
    status: int = 413


def _rule(methods: str, path: str, limit: int, reply: Reply, op: str | None = None) -> Rule:
    return Rule(frozenset(methods.split()), re.compile(path), limit, reply, op)


ANY = "GET HEAD POST PUT PATCH DELETE OPTIONS"
FUNCTIONS = r"/2015-03-31/functions"
RULES: tuple[Rule, ...] = (
    # Invoke: the limit depends on X-Amz-Invocation-Type (see `_invoke_rule`)
    _rule("POST", FUNCTIONS + r"/[^/]+/invocations", SYNC_LIMIT, _lambda, "InvokeFunction"),
    _rule("POST", r"/2014-11-13/functions/[^/]+/invoke-async/?", ASYNC_LEGACY_LIMIT,
          _lambda_event, "InvokeAsync operation"),
    _rule("POST", FUNCTIONS + r"/?", INLINE_ZIP_REQUEST_LIMIT, _lambda, "CreateFunction"),
    _rule("PUT", FUNCTIONS + r"/[^/]+/code", INLINE_ZIP_REQUEST_LIMIT, _lambda,
          "UpdateFunctionCode"),
    _rule("PUT", FUNCTIONS + r"/[^/]+/configuration", SYNC_LIMIT, _lambda,
          "UpdateFunctionConfiguration"),
    _rule(ANY, r"/20\d\d-\d\d-\d\d/.*", SYNC_LIMIT, _lambda, "Lambda"),
    # POST / is SQS, EventBridge or SNS: see `_root_rule`
    _rule("POST", r"/", 8 * MiB, _sqs),
    _rule("PUT", r"/console/buckets/[^/]+/object", S3_MAX_PUT_BYTES, _plain),  # streamed
    _rule(ANY, r"/console(/.*)?", 8 * MiB, _plain),
    _rule(ANY, r"/_sendoff/stacks/.*", 16 * MiB, _plain),
    _rule(ANY, r"/.*", 1 * MiB, _plain),
)  # fmt: skip
_INVOKE, _ROOT = RULES[0], RULES[6]
_EVENT_INVOKE = Rule(_INVOKE.methods, _INVOKE.path, EVENT_PAYLOAD_LIMIT, _lambda_event,
                     "Event invocation type")  # fmt: skip
_SQS = _ROOT
_EVENTS = Rule(_ROOT.methods, _ROOT.path, 8 * MiB, _events)
_SNS = Rule(_ROOT.methods, _ROOT.path, 2 * MiB, _sns)
S3_RULE = Rule(frozenset(ANY.split()), re.compile(".*"), S3_MAX_PUT_BYTES + S3_MAX_PUT_BYTES // 64,
               _s3, status=400)  # fmt: skip


def rule_for(method: str, path: str, headers: dict[bytes, bytes]) -> Rule:
    """The first rule matching the request (the last rule matches everything)."""
    for rule in RULES:
        if method in rule.methods and rule.path.fullmatch(path):
            if rule is _INVOKE and headers.get(b"x-amz-invocation-type") == b"Event":
                return _EVENT_INVOKE
            if rule is _ROOT:
                return _root_rule(headers)
            return rule
    return RULES[-1]


def _root_rule(headers: dict[bytes, bytes]) -> Rule:
    target = headers.get(b"x-amz-target", b"").decode("latin-1")
    service, _, operation = target.partition(".")
    if service == "AmazonSQS":
        return Rule(_SQS.methods, _SQS.path, _SQS.limit, _SQS.reply, operation or None)
    if service in ("AWSEvents", "Logs_20140328"):  # both JSON 1.1
        return Rule(_EVENTS.methods, _EVENTS.path, _EVENTS.limit, _EVENTS.reply, operation or None)
    return _SNS


_WANTED = frozenset({b"content-length", b"x-amz-invocation-type", b"x-amz-target"})


async def limit_body(scope: Scope, receive: Receive, send: Send, app: App) -> None:
    """Run `app` on an HTTP request whose body may not exceed its route's limit."""
    headers = {k: v for k, v in scope["headers"] if k in _WANTED}
    if s3_target(scope) is not None:
        rule = S3_RULE
    else:
        rule = rule_for(scope["method"], scope["path"], headers)
    declared = _content_length(headers.get(b"content-length"))
    if declared is not None:
        if declared > rule.limit:
            await _refuse(send, rule, declared, close=declared > DRAIN_LIMIT)
            return
        await app(scope, receive, send)  # the server delivers at most `declared` bytes
        return
    await _Counted(rule, receive, send).run(scope, app)


class _Counted:
    """A body of unknown length, counted as the app reads it and cut at the limit."""

    def __init__(self, rule: Rule, receive: Receive, send: Send) -> None:
        self.rule = rule
        self._receive = receive
        self._send = send
        self.seen = 0
        self.refused = False
        self.started = False

    async def run(self, scope: Scope, app: App) -> None:
        try:
            await app(scope, self.receive, self.send)
        except Exception:
            if not self.refused:
                raise
            # the app saw a disconnect after our 413; its complaint about that is moot

    async def receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.rule.limit:
                self.refused = True
                if not self.started:
                    self.started = True
                    await _refuse(self._send, self.rule, self.seen, close=True)
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self.refused:
            return  # the 413 has been sent in the app's place
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


async def _refuse(send: Send, rule: Rule, size: int | None, *, close: bool) -> None:
    headers, body = rule.reply(rule.limit, size, rule.operation)
    request_id = str(uuid.uuid4())
    body = body.replace(_NO_ID, request_id.encode())
    headers = [
        *headers,
        (b"content-length", str(len(body)).encode()),
        (b"x-amzn-requestid", request_id.encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": rule.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _content_length(value: bytes | None) -> int | None:
    if value is None or not value.isdigit():  # bytes: ASCII digits only
        return None
    return int(value)
