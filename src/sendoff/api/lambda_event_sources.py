"""The event source mapping operations on /2015-03-31/event-source-mappings (REST-JSON).

Create, Update and Delete answer 202 with the mapping in its transitional state; Get and
List answer 200. List pages with ``Marker`` (the UUID of the last mapping shown) and
``MaxItems`` (1-10,000, default 100).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sendoff.api.context import RequestContext
from sendoff.api.lambda_common import LambdaEdge, json_body, query_int
from sendoff.api.rest_json import json_response
from sendoff.model.scope import Scope
from sendoff.sources.mapping import State, parse_input
from sendoff.sources.mappings import DEFAULT_MAX_ITEMS, Mappings

BASE = "/2015-03-31/event-source-mappings"


class EventSourcesApi:
    def __init__(self, edge: LambdaEdge, mappings: Mappings) -> None:
        self.edge = edge
        self.mappings = mappings

    def routes(self) -> list[Route]:
        w = self.edge.wrap
        return [
            Route(BASE, w(self.create), methods=["POST"]),
            Route(f"{BASE}/", w(self.create), methods=["POST"]),
            Route(BASE, w(self.list), methods=["GET"]),
            Route(f"{BASE}/", w(self.list), methods=["GET"]),
            Route(BASE + "/{uuid}", w(self.get), methods=["GET"]),
            Route(BASE + "/{uuid}", w(self.update), methods=["PUT"]),
            Route(BASE + "/{uuid}", w(self.delete), methods=["DELETE"]),
        ]

    async def create(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        given = parse_input(await json_body(request), create=True)
        mapping = await self.mappings.create(scope, given)
        return json_response(mapping.shape(State.CREATING), status=202, request_id=ctx.request_id)

    async def get(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        mapping = await self.mappings.get(scope, request.path_params["uuid"])
        return json_response(mapping.shape(), request_id=ctx.request_id)

    async def update(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        given = parse_input(await json_body(request), create=False)
        mapping, state = await self.mappings.update(scope, request.path_params["uuid"], given)
        return json_response(mapping.shape(state), status=202, request_id=ctx.request_id)

    async def delete(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        mapping = await self.mappings.delete(scope, request.path_params["uuid"])
        return json_response(mapping.shape(State.DELETING), status=202, request_id=ctx.request_id)

    async def list(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        params = request.query_params
        limit = query_int(request, "MaxItems", DEFAULT_MAX_ITEMS, low=1, high=10_000)
        found = await self.mappings.in_scope(
            scope, function_name=params.get("FunctionName"), source_arn=params.get("EventSourceArn")
        )
        marker = params.get("Marker")
        if marker:
            found = [m for m in found if m.uuid > marker]
        body: dict[str, Any] = {"EventSourceMappings": [m.shape() for m in found[:limit]]}
        if len(found) > limit:
            body["NextMarker"] = found[limit - 1].uuid
        return json_response(body, request_id=ctx.request_id)
