"""The one ASGI application: every API on one port."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.types import Receive, Scope, Send

from sendoff import __version__
from sendoff.api.body_limit import limit_body
from sendoff.api.browser_guard import BrowserGuard
from sendoff.api.protocols import ProtocolRouter
from sendoff.api.wire_errors import protocol_of, wire_error

Endpoint = Callable[[Request], Awaitable[Response]]


class SendoffApp(Starlette):
    """Starlette, with a short way in for the hottest POST routes.

    Every request through Starlette passes two middlewares and a router that tries each
    route's pattern in turn, about a third of the cost of accepting an Event invoke. The
    few routes listed as *fast* (Invoke, and the query/JSON protocols at ``/``) are
    matched first with one pattern each and called directly. Their endpoints turn every
    error into an AWS-shaped response themselves, as they do behind Starlette.
    """

    def __init__(
        self,
        *,
        fast: Sequence[tuple[str, Endpoint]] = (),
        guard: BrowserGuard | None = None,
        gate: Any = None,
        s3: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        no_slash_redirects(self.router)
        self._fast = [(re.compile(pattern), endpoint) for pattern, endpoint in fast]
        self._guard = guard
        self._gate = gate  # sendoff.auth.gate.AuthGate under --auth sigv4, else None
        self._s3 = s3  # sendoff.api.s3.api.S3Api: S3's requests go there, not to the routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Browser guard, then the body limit, then authentication, then the routes."""
        if scope["type"] == "http":
            if self._guard is not None:
                refused = self._guard.preflight(scope) or self._guard.refusal(scope)
                if refused is not None:
                    await refused(scope, receive, send)
                    return
                send = self._guard.send_with_cors(scope, send)
            await limit_body(scope, receive, send, self._dispatch)  # see api.body_limit
            return
        await self._dispatch(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._gate is not None and scope["type"] == "http":  # authentication
            rejection, receive = await self._gate.admit(scope, receive)
            if rejection is not None:
                await rejection(scope, receive, send)
                return
        if self._s3 is not None and scope["type"] == "http":
            target = self._s3.claims(scope)  # signed for s3, or a *.s3.localhost Host
            if target is not None:
                await self._s3(scope, receive, send, target)
                return
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"]
            for pattern, endpoint in self._fast:
                match = pattern.fullmatch(path)
                if match is not None:
                    scope["app"] = self
                    scope["path_params"] = match.groupdict()
                    response = await endpoint(Request(scope, receive, send))
                    await response(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)


def no_slash_redirects(router: Router) -> None:
    """Turn off Starlette's ``redirect_slashes`` here and in every mounted router.

    AWS does not redirect ``/2015-03-31/functions/x/`` to ``.../x``: a path is an
    operation or it is not. Where AWS takes both forms (ListFunctions, InvokeAsync) both
    are routed; any other trailing slash is answered 404 ``UnknownOperationException`` in
    the protocol's format (``no_route``). A redirect would also build its Location from the
    request's Host header, which a client controls.
    """
    router.redirect_slashes = False
    for route in router.routes:
        inner = getattr(route, "_base_app", None)  # a Mount's own router, under middleware
        if isinstance(route, Mount) and isinstance(inner, Router):
            no_slash_redirects(inner)


def build_app(
    *,
    routes: list[BaseRoute],
    router: ProtocolRouter,
    health: Callable[[], Awaitable[dict[str, Any]]],
    get_blob: Callable[[str], Awaitable[bytes | None]],
    code_digest: Callable[[str], str | None],
    startup: Callable[[], Awaitable[None]],
    shutdown: Callable[[], Awaitable[None]],
    fast: Sequence[tuple[str, Endpoint]] = (),
    guard: BrowserGuard | None = None,
    gate: Any = None,
    s3: Any = None,
) -> Starlette:
    async def health_endpoint(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__, **(await health())})

    async def code_endpoint(request: Request) -> Response:
        """GetFunction's Code.Location: a signed URL that expires (sendoff.auth.urls)."""
        digest = code_digest(request.path_params["token"])
        if digest is None:
            return Response(b"this code URL is invalid or has expired", status_code=403)
        data = await get_blob(digest)
        if data is None:
            return Response(b"not found", status_code=404)
        return Response(data, media_type="application/zip")

    async def blob_endpoint(request: Request) -> Response:
        """A zip by digest, for ``sendoff deploy`` rollbacks (authenticated like the APIs)."""
        token = request.path_params["token"]
        try:
            digest = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except ValueError:  # binascii.Error: not a token we handed out
            return Response(b"not found", status_code=404)
        data = await get_blob(base64.b64encode(digest).decode())
        if data is None:
            return Response(b"not found", status_code=404)
        return Response(data, media_type="application/zip")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await startup()
        try:
            yield
        finally:
            await shutdown()

    all_routes: list[BaseRoute] = [
        Route("/_sendoff/health", health_endpoint, methods=["GET"]),
        Route("/_sendoff/code/{token}", code_endpoint, methods=["GET"]),
        Route("/_sendoff/blobs/{token}", blob_endpoint, methods=["GET"]),
        *routes,
        Route("/", router.__call__, methods=["POST", "GET"]),  # GET: presigned query calls
    ]
    fast_routes = [*fast, ("/", router.__call__)]
    return SendoffApp(
        routes=all_routes,
        lifespan=lifespan,
        fast=fast_routes,
        guard=guard,
        gate=gate,
        s3=s3,
        exception_handlers={404: no_route, 405: no_route},
    )


async def no_route(request: Request, exc: Exception) -> Response:
    """No route for this path or method: an error in the wire format of the protocol the
    path belongs to (a Lambda path with an empty or ``%2F`` name answers JSON, not text)."""
    status = getattr(exc, "status_code", 404)
    return wire_error(
        protocol_of(request.scope),
        status=status,
        code="UnknownOperationException",
        message=f"No operation at {request.method} {request.url.path}",
    )
