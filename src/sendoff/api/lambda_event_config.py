"""The five EventInvokeConfig operations on /2019-09-25/functions/{name}/event-invoke-config."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sendoff.api.context import RequestContext
from sendoff.api.lambda_common import LambdaEdge, json_body, query_int
from sendoff.api.lambda_input import check_event_invoke_body
from sendoff.api.rest_json import empty_response, json_response
from sendoff.functions.errors import ResourceNotFound
from sendoff.functions.event_config import EventConfigs, parse_input
from sendoff.model.digits import is_digits
from sendoff.model.function import LATEST
from sendoff.model.scope import Scope


class EventConfigApi:
    def __init__(self, edge: LambdaEdge, configs: EventConfigs) -> None:
        self.edge = edge
        self.configs = configs
        self.registry = configs.registry

    def routes(self) -> list[Route]:
        w = self.edge.wrap
        path = "/2019-09-25/functions/{name}/event-invoke-config"
        return [
            Route(f"{path}/list", w(self.list), methods=["GET"]),
            Route(path, w(self.put), methods=["PUT"]),
            Route(path, w(self.update), methods=["POST"]),
            Route(path, w(self.get), methods=["GET"]),
            Route(path, w(self.delete), methods=["DELETE"]),
        ]

    def _target(self, request: Request, scope: Scope) -> tuple[Scope, str, str]:
        scope, ref = self.registry.parse(
            scope, request.path_params["name"], request.query_params.get("Qualifier")
        )
        return scope, ref.name, ref.qualifier or LATEST

    async def _write(self, request: Request, ctx: RequestContext, scope: Scope, *, merge: bool
                     ) -> Response:  # fmt: skip
        body = await json_body(request)
        check_event_invoke_body(body)  # types first: parse_input reads nested members
        given = parse_input(body)
        scope, name, qualifier = self._target(request, scope)
        config = await self.configs.put(scope, name, qualifier, given, merge=merge)
        return json_response(config.shape(scope, name), request_id=ctx.request_id)

    async def put(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        return await self._write(request, ctx, scope, merge=False)

    async def update(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        return await self._write(request, ctx, scope, merge=True)

    async def get(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        scope, name, qualifier = self._target(request, scope)
        config = await self.configs.require(scope, name, qualifier)
        return json_response(config.shape(scope, name), request_id=ctx.request_id)

    async def delete(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        scope, name, qualifier = self._target(request, scope)
        await self.configs.delete(scope, name, qualifier)
        return empty_response(status=204, request_id=ctx.request_id)

    async def list(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        scope, ref = self.registry.parse(scope, request.path_params["name"])
        limit = query_int(request, "MaxItems", 50, low=1, high=50)
        configs = await self.configs.list(scope, ref.name)
        marker = request.query_params.get("Marker")
        start = int(marker) if marker and is_digits(marker) else 0
        if marker and not is_digits(marker):
            raise ResourceNotFound("Invalid marker")
        chunk = configs[start : start + limit]
        body: dict[str, Any] = {
            "FunctionEventInvokeConfigs": [c.shape(scope, ref.name) for c in chunk]
        }
        if start + limit < len(configs):
            body["NextMarker"] = str(start + limit)
        return json_response(body, request_id=ctx.request_id)
