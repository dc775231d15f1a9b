"""Lambda function management: create, get, list, update, delete, concurrency, recursion."""

from __future__ import annotations

import base64
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sendoff.api.context import RequestContext
from sendoff.api.lambda_common import LambdaEdge, json_body, query_int
from sendoff.api.lambda_input import check_function_body
from sendoff.api.lambda_shapes import function_configuration, get_function
from sendoff.api.rest_json import empty_response, json_response
from sendoff.functions.errors import InvalidParameterValue, validation_error
from sendoff.functions.registry import (
    ACCOUNT_CONCURRENCY,
    MIN_UNRESERVED,
    FunctionRegistry,
    Scope,
)
from sendoff.functions.validation import (
    check_dead_letter_config,
    check_environment,
    check_range,
    check_role,
    check_runtime_handler,
    code_sha256,
    decode_zip,
)
from sendoff.model.arn import NAME_RE
from sendoff.model.function import LATEST, FunctionConfig


class FunctionsApi:
    def __init__(self, edge: LambdaEdge, registry: FunctionRegistry, on_change: Any) -> None:
        self.edge = edge
        self.registry = registry
        self.on_change = on_change  # async callable(function_arn) -> None: stop stale envs

    def routes(self) -> list[Route]:
        w = self.edge.wrap
        base = "/2015-03-31/functions"
        return [
            Route(f"{base}", w(self.create), methods=["POST"]),
            Route(f"{base}/", w(self.list), methods=["GET"]),
            Route(f"{base}", w(self.list), methods=["GET"]),
            Route(f"{base}/{{name}}", w(self.get), methods=["GET"]),
            Route(f"{base}/{{name}}", w(self.delete), methods=["DELETE"]),
            Route(f"{base}/{{name}}/configuration", w(self.get_config), methods=["GET"]),
            Route(f"{base}/{{name}}/configuration", w(self.update_config), methods=["PUT"]),
            Route(f"{base}/{{name}}/code", w(self.update_code), methods=["PUT"]),
            Route("/2017-10-31/functions/{name}/concurrency", w(self.put_concurrency),
                  methods=["PUT"]),
            Route("/2017-10-31/functions/{name}/concurrency", w(self.delete_concurrency),
                  methods=["DELETE"]),
            Route("/2019-09-30/functions/{name}/concurrency", w(self.get_concurrency),
                  methods=["GET"]),
            Route("/2024-08-31/functions/{name}/recursion-config", w(self.put_recursion),
                  methods=["PUT"]),
            Route("/2024-08-31/functions/{name}/recursion-config", w(self.get_recursion),
                  methods=["GET"]),
        ]  # fmt: skip

    @staticmethod
    def code_url(ctx: RequestContext, sha: str) -> str:
        token = base64.urlsafe_b64encode(base64.b64decode(sha)).decode().rstrip("=")
        return f"http://{ctx.host}/_sendoff/code/{token}"

    async def create(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        body = await json_body(request)
        check_function_body(body, create=True)
        name = body.get("FunctionName")
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise validation_error(
                name, "functionName", "Member must satisfy regular expression pattern: "
                "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
                "(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
            )  # fmt: skip
        if body.get("PackageType", "Zip") != "Zip":
            raise InvalidParameterValue("sendoff supports PackageType Zip only.")
        runtime, handler = check_runtime_handler(body.get("Runtime"), body.get("Handler"))
        code = body.get("Code") or {}
        if "ZipFile" not in code:
            raise InvalidParameterValue(
                "Please provide a source for function code: ZipFile (S3 and ImageUri are not"
                " supported by sendoff)."
            )
        data = decode_zip(code["ZipFile"])
        config = FunctionConfig(
            name=name,
            version=LATEST,
            runtime=runtime,
            handler=handler,
            role=check_role(body.get("Role")),
            code_sha256=code_sha256(data),
            code_size=len(data),
            timeout_s=check_range(body.get("Timeout", 3), "timeout", 1, 900),
            memory_mb=check_range(body.get("MemorySize", 128), "memorySize", 128, 10240),
            environment=check_environment(body.get("Environment")),
            description=_description(body.get("Description", "")),
            dead_letter_target=check_dead_letter_config(body.get("DeadLetterConfig")),
            architectures=tuple(body.get("Architectures") or ("x86_64",)),
            ephemeral_storage_mb=(body.get("EphemeralStorage") or {}).get("Size", 512),
            tracing_mode=(body.get("TracingConfig") or {}).get("Mode", "PassThrough"),
        )
        tags = body.get("Tags") or {}
        state = await self.registry.create(scope, config, data, tags=tags)
        shown = state.latest
        if body.get("Publish"):
            shown = await self.registry.publish(
                scope, name, description=None, code_sha256=None, revision_id=None
            )
        return json_response(
            function_configuration(scope, shown), status=201, request_id=ctx.request_id
        )

    async def list(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        limit = query_int(request, "MaxItems", 50, low=1, high=10000)
        marker = request.query_params.get("Marker") or None
        states, next_marker = await self.registry.list_functions(scope, marker=marker, limit=limit)
        body: dict[str, Any] = {
            "Functions": [function_configuration(scope, s.latest) for s in states]
        }
        if next_marker:
            body["NextMarker"] = next_marker
        return json_response(body, request_id=ctx.request_id)

    async def get(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        resolved = await self.registry.resolve(
            scope, request.path_params["name"], request.query_params.get("Qualifier")
        )
        config = resolved.config
        shape = get_function(
            resolved.scope, resolved.state, config,
            code_url=self.code_url(ctx, config.code_sha256),
        )  # fmt: skip
        if resolved.alias is None and resolved.qualifier != LATEST:
            shape["Configuration"]["FunctionArn"] = resolved.qualified_arn
        return json_response(shape, request_id=ctx.request_id)

    async def get_config(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        resolved = await self.registry.resolve(
            scope, request.path_params["name"], request.query_params.get("Qualifier")
        )
        return json_response(
            function_configuration(resolved.scope, resolved.config), request_id=ctx.request_id
        )

    async def delete(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        scope, ref = self.registry.parse(
            scope, request.path_params["name"], request.query_params.get("Qualifier")
        )
        await self.registry.delete(scope, ref.name, ref.qualifier)
        await self.on_change(scope.arn(ref.name))
        return empty_response(status=204, request_id=ctx.request_id)

    async def update_code(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        scope, ref = self.registry.parse(scope, request.path_params["name"])
        body = await json_body(request)
        if "ZipFile" not in body:
            raise InvalidParameterValue(
                "Please provide a source for function code: ZipFile (S3 and ImageUri are not"
                " supported by sendoff)."
            )
        data = decode_zip(body["ZipFile"])
        changes = {"code_sha256": code_sha256(data), "code_size": len(data)}
        state = await self.registry.update_latest(
            scope, ref.name, changes, code=data, revision_id=body.get("RevisionId")
        )
        await self.on_change(scope.arn(ref.name))
        shown = state.latest
        if body.get("Publish"):
            shown = await self.registry.publish(
                scope, ref.name, description=None, code_sha256=None, revision_id=None
            )
        return json_response(function_configuration(scope, shown), request_id=ctx.request_id)

    async def update_config(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        scope, ref = self.registry.parse(scope, request.path_params["name"])
        body = await json_body(request)
        check_function_body(body, create=False)
        current = (await self.registry.load(scope, ref.name)).latest
        changes: dict[str, Any] = {}
        if "Runtime" in body or "Handler" in body:
            runtime, handler = check_runtime_handler(
                body.get("Runtime", current.runtime), body.get("Handler", current.handler)
            )
            changes.update(runtime=runtime, handler=handler)
        if "Role" in body:
            changes["role"] = check_role(body["Role"])
        if "Timeout" in body:
            changes["timeout_s"] = check_range(body["Timeout"], "timeout", 1, 900)
        if "MemorySize" in body:
            changes["memory_mb"] = check_range(body["MemorySize"], "memorySize", 128, 10240)
        if "Environment" in body:
            changes["environment"] = check_environment(body["Environment"])
        if "Description" in body:
            changes["description"] = _description(body["Description"])
        if "DeadLetterConfig" in body:
            target = (body["DeadLetterConfig"] or {}).get("TargetArn")
            if target is not None:  # {} keeps the old value, as on AWS; "" clears it
                changes["dead_letter_target"] = check_dead_letter_config(body["DeadLetterConfig"])
        if "EphemeralStorage" in body:
            changes["ephemeral_storage_mb"] = (body["EphemeralStorage"] or {}).get("Size", 512)
        if "TracingConfig" in body:
            changes["tracing_mode"] = (body["TracingConfig"] or {}).get("Mode", "PassThrough")
        state = await self.registry.update_latest(
            scope, ref.name, changes, revision_id=body.get("RevisionId")
        )
        await self.on_change(scope.arn(ref.name))
        return json_response(function_configuration(scope, state.latest), request_id=ctx.request_id)

    # ---- concurrency ----
    async def put_concurrency(
        self, request: Request, ctx: RequestContext, scope: Scope
    ) -> Response:
        scope, ref = self.registry.parse(scope, request.path_params["name"])
        body = await json_body(request)
        value = body.get("ReservedConcurrentExecutions")
        if value is None:
            raise validation_error(
                "null", "reservedConcurrentExecutions", "Member must not be null"
            )
        value = check_range(value, "reservedConcurrentExecutions", 0, ACCOUNT_CONCURRENCY)
        await self.registry.load(scope, ref.name)
        others = await self.registry.reserved_total(scope, excluding=ref.name)
        if ACCOUNT_CONCURRENCY - others - value < MIN_UNRESERVED:
            raise InvalidParameterValue(
                "Specified ReservedConcurrentExecutions for function decreases account's"
                f" UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}]."
            )
        await self.registry.set_function_settings(scope, ref.name, reserved_concurrency=value)
        return json_response({"ReservedConcurrentExecutions": value}, request_id=ctx.request_id)

    async def get_concurrency(
        self, request: Request, ctx: RequestContext, scope: Scope
    ) -> Response:
        scope, ref = self.registry.parse(scope, request.path_params["name"])
        state = await self.registry.load(scope, ref.name)
        body = (
            {}
            if state.reserved_concurrency is None
            else {"ReservedConcurrentExecutions": state.reserved_concurrency}
        )
        return json_response(body, request_id=ctx.request_id)

    async def delete_concurrency(
        self, request: Request, ctx: RequestContext, scope: Scope
    ) -> Response:
        scope, ref = self.registry.parse(scope, request.path_params["name"])
        await self.registry.set_function_settings(scope, ref.name, reserved_concurrency=None)
        return empty_response(status=204, request_id=ctx.request_id)

    # ---- recursion ----
    async def put_recursion(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        scope, ref = self.registry.parse(scope, request.path_params["name"])
        body = await json_body(request)
        value = body.get("RecursiveLoop")
        if value not in ("Terminate", "Allow"):
            raise validation_error(
                value, "recursiveLoop", "Member must satisfy enum value set: [Terminate, Allow]"
            )
        if ref.qualifier is not None:
            raise InvalidParameterValue("Recursion config can only be set on the function.")
        await self.registry.set_function_settings(scope, ref.name, recursive_loop=value)
        return json_response({"RecursiveLoop": value}, request_id=ctx.request_id)

    async def get_recursion(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        scope, ref = self.registry.parse(scope, request.path_params["name"])
        state = await self.registry.load(scope, ref.name)
        return json_response({"RecursiveLoop": state.recursive_loop}, request_id=ctx.request_id)


def _description(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidParameterValue("Description must be a string")
    if len(value) > 256:
        raise validation_error(
            value, "description", "Member must have length less than or equal to 256"
        )
    return value
