"""The Lambda Runtime API served to one execution environment.

Each environment gets its own listener on `127.0.0.1:<ephemeral port>`, which its process
finds in `AWS_LAMBDA_RUNTIME_API`. Any local process can connect to a loopback port, so
each accepted connection is checked against the kernel's socket table (`peers`): only a
socket owned by this environment's processes (its own uid under a sandbox, else one of
its process tree's open sockets) is served; others are closed before a byte is read.
Routes and status codes follow AWS and the Runtime Interface Emulator:

    GET  /2018-06-01/runtime/invocation/next            200, long poll; body = event
    POST /2018-06-01/runtime/invocation/{id}/response   202 {"status":"OK"}
    POST /2018-06-01/runtime/invocation/{id}/error      202 (Lambda-Runtime-Function-Error-Type)
    POST /2018-06-01/runtime/init/error                 202
    400 InvalidRequestID, 403 InvalidStateTransition, 413 RequestEntityTooLarge, 404, 405

Why a hand-written asyncio Protocol on `httptools` and not a uvicorn/Starlette app per
environment: a warm invoke is two HTTP exchanges on a keep-alive connection (the runtime
posts the result, then long-polls `/next`), and that round trip is the floor of the
whole Invoke latency. A Protocol feeding bytes to the C parser and writing pre-rendered
responses costs a few microseconds per request; an ASGI stack adds scope dicts,
receive/send coroutines and middleware per request, and a uvicorn server per environment
adds its own lifespan and signal handling to every cold start. The protocol surface is
five routes, so the small amount of HTTP code is the cheaper thing to own.
"""

from __future__ import annotations

import asyncio
import enum
import json
import socket
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import httptools

from sendoff.executor.peers import socket_owner

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024 + 100
"""6 MiB + 100 bytes, the Runtime API's limit for a response or error body (RIE)."""

_PREFIX = b"/2018-06-01/runtime/"
_NEXT = b"/2018-06-01/runtime/invocation/next"
_INIT_ERROR = b"/2018-06-01/runtime/init/error"
_INVOCATION = b"/2018-06-01/runtime/invocation/"
_ERROR_TYPE_HEADER = b"lambda-runtime-function-error-type"


class ReplyKind(enum.Enum):
    RESPONSE = "response"
    ERROR = "error"
    INIT_ERROR = "init_error"
    TOO_LARGE = "too_large"


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """An event waiting to be handed to the runtime by `/next`."""

    request_id: str
    payload: bytes
    invoked_function_arn: str
    timeout_ms: int
    trace_id: str | None = None
    client_context: str | None = None


@dataclass(frozen=True, kw_only=True)
class RuntimeReply:
    """What the runtime posted back."""

    kind: ReplyKind
    request_id: str | None
    body: bytes
    error_type: str | None = None


class RuntimeEvents(Protocol):
    """The environment's side of the conversation."""

    def runtime_waiting(self) -> None:
        """The runtime called `/next` (the first call ends its init phase)."""

    def invocation_delivered(self, request_id: str) -> None:
        """An event is about to be written to the runtime."""

    def runtime_replied(self, reply: RuntimeReply) -> None:
        """The runtime posted a response, an error or an init error."""

    def owns_socket(self, uid: int, inode: int) -> bool:
        """True when the socket (owner uid, inode) belongs to this environment's process."""


class RuntimeApi:
    """One environment's Runtime API: holds at most one event and one invocation."""

    def __init__(self, events: RuntimeEvents) -> None:
        self._events = events
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._waiting: _Connection | None = None
        self._pending: Delivery | None = None
        self._inflight: str | None = None
        self._finished: str | None = None
        self._on_quiet: Callable[[], None] | None = None
        self.port = 0

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self), host="127.0.0.1", port=0, backlog=16
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    def offer(self, delivery: Delivery) -> None:
        """Queue `delivery`; it goes out now if the runtime is already waiting."""
        self._pending = delivery
        waiting, self._waiting = self._waiting, None
        if waiting is not None and not waiting.closed:
            self._deliver(waiting)
        # else: sent when the runtime next calls /next

    def withdraw(self) -> None:
        """Forget the pending event and the in-flight invocation (timeout, abort)."""
        self._pending = None
        if self._inflight is not None:
            self._finished, self._inflight = self._inflight, None

    def call_when_quiet(self, callback: Callable[[], None]) -> None:
        """Run `callback` once no request is half received (a dying runtime's last
        bytes are processed before its exit is)."""
        if any(conn.receiving for conn in self._connections):
            self._on_quiet = callback
        else:
            asyncio.get_running_loop().call_soon(callback)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for conn in list(self._connections):
            conn.abort()
        self._connections.clear()
        self._waiting = None
        self._on_quiet = None

    # -- called by connections ------------------------------------------------------

    def _peer_allowed(self, peer: object, local: object) -> bool:
        if not (isinstance(peer, tuple) and isinstance(local, tuple)):
            return False
        owner = socket_owner((str(peer[0]), int(peer[1])), (str(local[0]), int(local[1])))
        return owner is not None and self._events.owns_socket(*owner)

    def _connection_made(self, conn: _Connection) -> None:
        self._connections.add(conn)

    def _connection_lost(self, conn: _Connection) -> None:
        self._connections.discard(conn)
        if self._waiting is conn:
            self._waiting = None
        self._maybe_quiet()

    def _maybe_quiet(self) -> None:
        if self._on_quiet is not None and not any(c.receiving for c in self._connections):
            callback, self._on_quiet = self._on_quiet, None
            callback()

    def _handle(self, conn: _Connection, request: _Request) -> None:
        path = request.path
        if path == _NEXT:
            if request.method != b"GET":
                conn.send_plain(405, b"Method Not Allowed", request.keep_alive)
            else:
                self._waiting = conn
                conn.park()
                self._events.runtime_waiting()
                if self._pending is not None and self._waiting is conn:
                    self._waiting = None
                    self._deliver(conn)
        elif path == _INIT_ERROR:
            if request.method != b"POST":
                conn.send_plain(405, b"Method Not Allowed", request.keep_alive)
                return
            self._pending = None
            if request.too_large:
                conn.send(413, _TOO_LARGE_BODY, request.keep_alive)
            else:
                conn.send(202, _ACCEPTED_BODY, request.keep_alive)
            self._events.runtime_replied(
                RuntimeReply(
                    kind=ReplyKind.INIT_ERROR,
                    request_id=None,
                    body=request.body,
                    error_type=request.error_type,
                )
            )
        elif path.startswith(_INVOCATION):
            self._handle_invocation_post(conn, request)
        else:
            conn.send_plain(404, b"404 page not found\n", request.keep_alive)
        self._maybe_quiet()

    def _handle_invocation_post(self, conn: _Connection, request: _Request) -> None:
        request_id_bytes, _, action = request.path[len(_INVOCATION) :].partition(b"/")
        if action == b"response":
            kind = ReplyKind.RESPONSE
        elif action == b"error":
            kind = ReplyKind.ERROR
        else:
            conn.send_plain(404, b"404 page not found\n", request.keep_alive)
            return
        if request.method != b"POST":
            conn.send_plain(405, b"Method Not Allowed", request.keep_alive)
            return
        request_id = request_id_bytes.decode("utf-8", "replace")
        if self._inflight is None or request_id != self._inflight:
            if request_id == self._finished or (
                self._inflight is not None and request_id == self._inflight
            ):
                conn.send(403, _invalid_transition(request_id, action), request.keep_alive)
            else:
                conn.send(400, _INVALID_ID_BODY, request.keep_alive)
            return
        self._finished, self._inflight = request_id, None
        if request.too_large:
            conn.send(413, _TOO_LARGE_BODY, request.keep_alive)
            kind = ReplyKind.TOO_LARGE
        else:
            conn.send(202, _ACCEPTED_BODY, request.keep_alive)
        self._events.runtime_replied(
            RuntimeReply(
                kind=kind,
                request_id=request_id,
                body=b"" if request.too_large else request.body,
                error_type=request.error_type,
            )
        )

    def _deliver(self, conn: _Connection) -> None:
        delivery = self._pending
        assert delivery is not None
        self._pending = None
        self._inflight = delivery.request_id
        deadline_ms = int(time.time() * 1000) + delivery.timeout_ms
        head = [
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",
            b"Lambda-Runtime-Aws-Request-Id: ",
            _header_value(delivery.request_id),
            b"\r\nLambda-Runtime-Deadline-Ms: ",
            str(deadline_ms).encode(),
            b"\r\nLambda-Runtime-Invoked-Function-Arn: ",
            _header_value(delivery.invoked_function_arn),
        ]
        if delivery.trace_id:
            head += [b"\r\nLambda-Runtime-Trace-Id: ", _header_value(delivery.trace_id)]
        if delivery.client_context:
            head += [
                b"\r\nLambda-Runtime-Client-Context: ",
                _header_value(delivery.client_context),
            ]
        head += [b"\r\nContent-Length: ", str(len(delivery.payload)).encode(), b"\r\n\r\n"]
        # Announce first: output already in the pipe must be attributed before the
        # runtime can start printing for this invocation.
        self._events.invocation_delivered(delivery.request_id)
        conn.write_parked(b"".join(head), delivery.payload)


@dataclass(frozen=True, kw_only=True)
class _Request:
    method: bytes
    path: bytes
    body: bytes
    too_large: bool
    error_type: str | None
    keep_alive: bool


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 keep-alive connection from the runtime, parsed by httptools."""

    def __init__(self, api: RuntimeApi) -> None:
        self._api = api
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = bytearray()
        self._body = bytearray()
        self._body_size = 0
        self._error_type: str | None = None
        self._parked = False
        self._deferred: list[_Request] = []
        self.receiving = False
        self.closed = False

    # -- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses: cast, don't assert.
        self._transport = typing.cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        if not self._api._peer_allowed(peer, transport.get_extra_info("sockname")):
            self.closed = True
            self._transport.abort()
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._api._connection_made(self)

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self.receiving = False
            self.send_plain(400, b"Bad Request", keep_alive=False)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.receiving = False
        self._transport = None
        self._api._connection_lost(self)

    # -- httptools callbacks ---------------------------------------------------------

    def on_message_begin(self) -> None:
        self.receiving = True
        self._url.clear()
        self._body.clear()
        self._body_size = 0
        self._error_type = None

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == _ERROR_TYPE_HEADER:
            self._error_type = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        if self._body_size <= MAX_PAYLOAD_BYTES:
            self._body += body

    def on_message_complete(self) -> None:
        self.receiving = False
        path = bytes(self._url).partition(b"?")[0]
        request = _Request(
            method=self._parser.get_method(),
            path=path,
            body=bytes(self._body),
            too_large=self._body_size > MAX_PAYLOAD_BYTES,
            error_type=self._error_type,
            keep_alive=bool(self._parser.should_keep_alive()),
        )
        self._body.clear()
        if self._parked:
            self._deferred.append(request)  # pipelined behind a long poll
        else:
            self._api._handle(self, request)

    # -- responses -------------------------------------------------------------------

    def park(self) -> None:
        self._parked = True

    def write_parked(self, head: bytes, body: bytes) -> None:
        if self._transport is not None:
            self._transport.writelines((head, body))
        self._parked = False
        while self._deferred and not self._parked:
            self._api._handle(self, self._deferred.pop(0))

    def send(self, status: int, body: bytes, keep_alive: bool) -> None:
        self._write(status, b"application/json", body, keep_alive)

    def send_plain(self, status: int, body: bytes, keep_alive: bool) -> None:
        self._write(status, b"text/plain; charset=utf-8", body, keep_alive)

    def _write(self, status: int, content_type: bytes, body: bytes, keep_alive: bool) -> None:
        transport = self._transport
        if transport is None:
            return
        transport.write(
            b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n%s"
            % (
                status,
                _REASONS[status],
                content_type,
                len(body),
                b"" if keep_alive else b"Connection: close\r\n",
                body,
            )
        )
        if not keep_alive:
            transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()


def _header_value(value: str) -> bytes:
    return value.replace("\r", "").replace("\n", "").encode("utf-8")


def _error_body(error_type: str, message: str) -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type}).encode()


def _invalid_transition(request_id: str, action: bytes) -> bytes:
    return _error_body(
        "InvalidStateTransition",
        f"Invalid state transition: {action.decode()} for request {request_id} "
        "after the invocation already received a response or error",
    )


_ACCEPTED_BODY = b'{"status":"OK"}'
_INVALID_ID_BODY = _error_body("InvalidRequestID", "Invalid request ID")
_TOO_LARGE_BODY = _error_body(
    "RequestEntityTooLarge",
    f"Exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes).",
)
_REASONS = {
    200: b"OK",
    202: b"Accepted",
    400: b"Bad Request",
    403: b"Forbidden",
    404: b"Not Found",
    405: b"Method Not Allowed",
    413: b"Request Entity Too Large",
}
