"""The one ASGI application: every API on one port."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sendoff import __version__
from sendoff.api.protocols import ProtocolRouter


def build_app(
    *,
    routes: list[BaseRoute],
    router: ProtocolRouter,
    health: Callable[[], Awaitable[dict[str, Any]]],
    get_blob: Callable[[str], Awaitable[bytes | None]],
    startup: Callable[[], Awaitable[None]],
    shutdown: Callable[[], Awaitable[None]],
) -> Starlette:
    async def health_endpoint(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__, **(await health())})

    async def code_endpoint(request: Request) -> Response:
        token = request.path_params["token"]
        digest = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
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
        *routes,
        Route("/", router.__call__, methods=["POST"]),
    ]
    return Starlette(routes=all_routes, lifespan=lifespan)
