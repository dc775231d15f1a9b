"""Bounds on how a client may hold a connection: header size, header time, body idleness.

uvicorn's HTTP protocol (httptools) buffers a request head of any size and waits for it,
and for a body, for ever: a 10 MB header was accepted, and a request whose head never
ends, or whose ``Content-Length`` promises more than it sends, held a connection (and the
handler waiting on it) indefinitely. AWS's front ends refuse both; so does sendoff, by
subclassing uvicorn's protocol (``uvicorn.Config(http=...)`` takes a protocol class):

* a request head (request line and headers) larger than :data:`MAX_HEAD_BYTES` gets
  ``431 Request Header Fields Too Large`` and the connection is closed;
* a head must arrive within ``timeout_s`` of the connection opening (or of its first byte,
  on a kept-alive connection), else ``408 Request Timeout`` and close;
* while a body is being received, ``timeout_s`` without a byte closes the connection (the
  handler sees a disconnect). Time when sendoff itself stopped reading (flow control: the
  handler has not consumed what came) does not count.

A request whose whole body has arrived is never timed out here: a synchronous invoke may
take its function's full 15 minutes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = 64 * 1024
"""Request line plus headers. AWS's front ends take far less; SDK heads are ~2 KB."""

DEFAULT_TIMEOUT_S = 10.0


def _response(status: bytes) -> bytes:
    body = status.split(b" ", 1)[1] + b"\n"
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
    )


_TOO_LARGE = _response(b"431 Request Header Fields Too Large")
_TIMEOUT = _response(b"408 Request Timeout")


class BoundedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the bounds above (``timeout_s`` set by subclass)."""

    timeout_s: float = DEFAULT_TIMEOUT_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._awaiting_head = True
        self._in_body = False
        self._head_bytes = 0
        self._heads = 0
        self._timer: asyncio.TimerHandle | None = None

    @classmethod
    def with_timeout(cls, timeout_s: float) -> type[BoundedHttpProtocol]:
        return type("BoundedHttpProtocol", (cls,), {"timeout_s": timeout_s})

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_body:
            self._arm(self._body_idle)
        elif self._awaiting_head and self._timer is None:
            self._arm(self._head_timed_out)  # the first byte of a kept-alive connection's next head
        heads_before, was_awaiting = self._heads, self._awaiting_head
        super().data_received(data)
        # Count only chunks that were all head (awaited one before and after, none ended
        # inside): a chunk that ended a body or a head may also hold the start of the next
        # head, at most one chunk (256 KiB) uncounted.
        all_head = was_awaiting and self._awaiting_head and self._heads == heads_before
        if all_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(_TOO_LARGE)

    # -- parser callbacks ----------------------------------------------------------------

    def on_headers_complete(self) -> None:
        self._heads += 1
        self._awaiting_head = False
        self._head_bytes = 0
        self._in_body = True
        self._arm(self._body_idle)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_body = False
        self._awaiting_head = True
        self._head_bytes = 0
        self._disarm()
        super().on_message_complete()

    # -- timers --------------------------------------------------------------------------

    def _arm(self, callback: Any) -> None:
        self._disarm()
        self._timer = self.loop.call_later(self.timeout_s, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _head_timed_out(self) -> None:
        self._timer = None
        if self._awaiting_head and not self._in_body:
            if (
                self._head_bytes == 0
                and self.cycle is not None
                and not self.cycle.response_complete
            ):
                return  # a response is still being made; uvicorn's keep-alive timer follows
            self._refuse(_TIMEOUT)

    def _body_idle(self) -> None:
        self._timer = None
        if not self._in_body or self.transport.is_closing():
            return
        if self.flow.read_paused:
            self._arm(self._body_idle)  # sendoff is not reading: the client is not to blame
            return
        self.transport.close()

    def _refuse(self, response: bytes) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(response)
            self.transport.close()
