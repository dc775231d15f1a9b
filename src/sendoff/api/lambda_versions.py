"""Lambda versions and aliases."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sendoff.api.context import RequestContext
from sendoff.api.lambda_common import LambdaEdge, json_body, query_int
from sendoff.api.lambda_input import check_alias_body
from sendoff.api.lambda_shapes import alias_configuration, function_configuration
from sendoff.api.rest_json import empty_response, json_response
from sendoff.functions.errors import InvalidParameterValue, validation_error
from sendoff.functions.registry import FunctionRegistry
from sendoff.model.digits import is_digits
from sendoff.model.function import AliasConfig
from sendoff.model.scope import Scope


def _page(items: list[Any], request: Request) -> tuple[list[Any], str | None]:
    limit = query_int(request, "MaxItems", 50, low=1, high=10000)
    marker = request.query_params.get("Marker")
    start = int(marker) if marker and is_digits(marker) else 0
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    return chunk, (str(start + limit) if more else None)


class VersionsApi:
    def __init__(self, edge: LambdaEdge, registry: FunctionRegistry) -> None:
        self.edge = edge
        self.registry = registry

    def routes(self) -> list[Route]:
        w = self.edge.wrap
        base = "/2015-03-31/functions/{name}"
        return [
            Route(f"{base}/versions", w(self.publish), methods=["POST"]),
            Route(f"{base}/versions", w(self.list_versions), methods=["GET"]),
            Route(f"{base}/aliases", w(self.create_alias), methods=["POST"]),
            Route(f"{base}/aliases", w(self.list_aliases), methods=["GET"]),
            Route(f"{base}/aliases/{{alias}}", w(self.get_alias), methods=["GET"]),
            Route(f"{base}/aliases/{{alias}}", w(self.update_alias), methods=["PUT"]),
            Route(f"{base}/aliases/{{alias}}", w(self.delete_alias), methods=["DELETE"]),
        ]

    async def publish(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        scope, ref = self.registry.parse(scope, request.path_params["name"])
        body = await json_body(request)
        config = await self.registry.publish(
            scope,
            ref.name,
            description=body.get("Description"),
            code_sha256=body.get("CodeSha256"),
            revision_id=body.get("RevisionId"),
        )
        return json_response(
            function_configuration(scope, config), status=201, request_id=ctx.request_id
        )

    async def list_versions(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        scope, ref = self.registry.parse(scope, request.path_params["name"])
        versions = await self.registry.list_versions(scope, ref.name)
        chunk, next_marker = _page(versions, request)
        shapes = []
        for config in chunk:
            shapes.append(function_configuration(scope, config, qualified_latest=True, listed=True))
        body: dict[str, Any] = {"Versions": shapes}
        if next_marker:
            body["NextMarker"] = next_marker
        return json_response(body, request_id=ctx.request_id)

    def _alias_from_body(self, name: str, alias_name: str, body: dict[str, Any],
                         base: AliasConfig | None) -> AliasConfig:  # fmt: skip
        version = body.get("FunctionVersion", base.function_version if base else None)
        if not isinstance(version, str) or not version:
            raise validation_error(version, "functionVersion", "Member must not be null")
        routing = body.get("RoutingConfig")
        weights = dict(base.additional_weights) if base else {}
        if routing is not None:
            weights = dict((routing or {}).get("AdditionalVersionWeights") or {})
            for target, weight in weights.items():
                if not isinstance(weight, int | float) or not 0.0 <= weight <= 1.0:
                    raise InvalidParameterValue(f"Invalid weight for version {target}: {weight}")
            if sum(weights.values()) > 1.0:
                raise InvalidParameterValue("The sum of additional version weights exceeds 1.")
        description = body.get("Description", base.description if base else "")
        return AliasConfig(
            name=alias_name,
            function_name=name,
            function_version=version,
            description=description,
            additional_weights=weights,
        )

    async def create_alias(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        scope, ref = self.registry.parse(scope, request.path_params["name"])
        body = await json_body(request)
        check_alias_body(body)
        alias_name = body.get("Name")
        if not isinstance(alias_name, str) or not alias_name:
            raise validation_error(alias_name, "name", "Member must not be null")
        alias = self._alias_from_body(ref.name, alias_name, body, None)
        stored = await self.registry.put_alias(scope, alias, create=True)
        return json_response(
            alias_configuration(scope, stored), status=201, request_id=ctx.request_id
        )

    async def get_alias(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        scope, ref = self.registry.parse(scope, request.path_params["name"])
        await self.registry.load(scope, ref.name)
        alias = await self.registry.get_alias(scope, ref.name, request.path_params["alias"])
        return json_response(alias_configuration(scope, alias), request_id=ctx.request_id)

    async def update_alias(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        scope, ref = self.registry.parse(scope, request.path_params["name"])
        body = await json_body(request)
        check_alias_body(body)
        await self.registry.load(scope, ref.name)
        existing = await self.registry.get_alias(scope, ref.name, request.path_params["alias"])
        alias = self._alias_from_body(ref.name, existing.name, body, existing)
        stored = await self.registry.put_alias(
            scope, alias, create=False, revision_id=body.get("RevisionId")
        )
        return json_response(alias_configuration(scope, stored), request_id=ctx.request_id)

    async def delete_alias(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        scope, ref = self.registry.parse(scope, request.path_params["name"])
        await self.registry.delete_alias(scope, ref.name, request.path_params["alias"])
        return empty_response(status=204, request_id=ctx.request_id)

    async def list_aliases(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        scope, ref = self.registry.parse(scope, request.path_params["name"])
        aliases = await self.registry.list_aliases(scope, ref.name)
        version = request.query_params.get("FunctionVersion")
        if version:
            aliases = [a for a in aliases if a.function_version == version]
        chunk, next_marker = _page(aliases, request)
        body: dict[str, Any] = {"Aliases": [alias_configuration(scope, a) for a in chunk]}
        if next_marker:
            body["NextMarker"] = next_marker
        return json_response(body, request_id=ctx.request_id)
