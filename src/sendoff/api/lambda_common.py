"""Plumbing shared by the Lambda REST handlers: context, scope, body parsing, errors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sendoff.api.context import RequestContext, request_context
from sendoff.api.json_shapes import NotJson, parse_json
from sendoff.api.lambda_names import other_region
from sendoff.api.rest_json import error_response
from sendoff.functions.errors import InvalidRequestContent, LambdaError, ServiceFailure
from sendoff.functions.registry import Scope

log = logging.getLogger("sendoff.api.lambda")

Handler = Callable[[Request, RequestContext, Scope], Awaitable[Response]]


class LambdaEdge:
    def __init__(self, *, account_id: str, default_region: str) -> None:
        self.account_id = account_id
        self.default_region = default_region

    def wrap(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            ctx = request_context(
                request, account_id=self.account_id, default_region=self.default_region
            )
            scope = Scope(account_id=ctx.account_id, region=ctx.region)
            try:
                name = request.path_params.get("name")
                if name and (wrong := other_region(name, scope.region)) is not None:
                    raise wrong
                return await handler(request, ctx, scope)
            except LambdaError as exc:
                return error_response(exc, request_id=ctx.request_id)
            except Exception:
                log.exception("unhandled error in %s %s", request.method, request.url.path)
                return error_response(
                    ServiceFailure("An internal error occurred."), request_id=ctx.request_id
                )

        return endpoint


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = parse_json(raw)  # nesting too deep for Python is a NotJson too
    except NotJson as exc:
        raise InvalidRequestContent(f"Could not parse request body into json: {exc}") from exc
    if not isinstance(body, dict):
        raise InvalidRequestContent("Could not parse request body into json: expected an object")
    return body


def query_int(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    from sendoff.functions.validation import check_range

    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        from sendoff.functions.errors import InvalidParameterValue

        raise InvalidParameterValue(f"Invalid value for {name}: {raw}") from None
    path = name[0].lower() + name[1:]
    return check_range(value, path, low, high)
