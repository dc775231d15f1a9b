"""Lambda function management: create, get, list, update, delete, concurrency, recursion."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sendoff.api.context import RequestContext
from sendoff.api.lambda_common import LambdaEdge, json_body, query_int
from sendoff.api.lambda_input import check_function_body
from sendoff.api.lambda_shapes import function_configuration, get_function
from sendoff.api.rest_json import empty_response, json_response
from sendoff.functions.code_source import read_code
from sendoff.functions.errors import InvalidParameterValue, LambdaError, validation_error
from sendoff.functions.logging_config import logging_changes
from sendoff.functions.permissions import check_dead_letter
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
)
from sendoff.model.arn import NAME_RE
from sendoff.model.function import LATEST, FunctionConfig


class FunctionsApi:
    def __init__(
        self,
        edge: LambdaEdge,
        registry: FunctionRegistry,
        on_change: Any,
        *,
        code_token: Any,
        forget_code: Callable[[str], Awaitable[Any]] | None = None,
    ) -> None:
        self.code_token = code_token  # CodeSha256 -> signed URL token (sendoff.auth.urls)
        self.edge = edge
        self.registry = registry
        self.on_change = on_change  # async callable(function_arn) -> None: stop stale envs
        # async callable(code_sha256): delete the unpacked copy (executor.codecache.code_remover)
        self.forget_code = forget_code

    async def _forget_unused(self, shas: set[str]) -> None:
        """Delete the unpacked code no function version uses any more (it is shared by hash)."""
        if self.forget_code is None:
            return
        for sha in shas:
            if not await self.registry.code_in_use(sha):
                await self.forget_code(sha)

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

    def code_url(self, ctx: RequestContext, sha: str) -> str:
        return f"http://{ctx.host}/_sendoff/code/{self.code_token(sha)}"

    async def create(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        body = await json_body(request)
        check_function_body(body, create=True)
        name = body.get("FunctionName")
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise validation_error(
                name, "functionName", "Member must satisfy regular expression pattern: "
                "(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-"
                "\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
            )  # fmt: skip
        if body.get("PackageType", "Zip") != "Zip":
            raise InvalidParameterValue("sendoff supports PackageType Zip only.")
        runtime, handler = check_runtime_handler(body.get("Runtime"), body.get("Handler"))
        code = body.get("Code") or {}
        data, sha = await read_code(
            code if isinstance(code, dict) else {}, operation="CreateFunction",
            account=scope.account_id, fetch=self.registry.s3_code,
        )  # fmt: skip
        config = FunctionConfig(
            name=name,
            version=LATEST,
            runtime=runtime,
            handler=handler,
            role=check_role(body.get("Role")),
            code_sha256=sha,
            code_size=len(data),
            timeout_s=check_range(body.get("Timeout", 3), "timeout", 1, 900),
            memory_mb=check_range(body.get("MemorySize", 128), "memorySize", 128, 10240),
            environment=check_environment(body.get("Environment")),
            environment_set=_sets_variables(body.get("Environment")),
            description=_description(body.get("Description", "")),
            dead_letter_target=check_dead_letter_config(body.get("DeadLetterConfig")),
            architectures=tuple(body.get("Architectures") or ("x86_64",)),
            ephemeral_storage_mb=(body.get("EphemeralStorage") or {}).get("Size", 512),
            tracing_mode=(body.get("TracingConfig") or {}).get("Mode", "PassThrough"),
            **logging_changes(body.get("LoggingConfig")),
        )
        await check_dead_letter(self.registry.role_check, config.role, config.dead_letter_target)
        tags = body.get("Tags") or {}
        state = await self.registry.create(scope, config, data, tags=tags, start=False)
        shown = state.latest
        try:
            if body.get("Publish"):
                shown = await self.registry.publish(
                    scope, name, description=None, code_sha256=None, revision_id=None,
                    during_update=True,
                )  # fmt: skip
        finally:
            self.registry.start(scope, state.latest)
        shape = function_configuration(scope, shown)
        # AWS: CreateFunction(Publish=True) answers Version "1" with the *unqualified* ARN
        # (test_lambda_api TestLambdaVersions::test_publish_version_on_create, create_response)
        shape["FunctionArn"] = scope.arn(name)
        return json_response(shape, status=201, request_id=ctx.request_id)

    async def list(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        limit = query_int(request, "MaxItems", 50, low=1, high=10000)
        marker = request.query_params.get("Marker") or None
        states, next_marker = await self.registry.list_functions(scope, marker=marker, limit=limit)
        body: dict[str, Any] = {
            "Functions": [function_configuration(scope, s.latest, listed=True) for s in states]
        }
        if next_marker:
            body["NextMarker"] = next_marker
        return json_response(body, request_id=ctx.request_id)

    async def get(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        resolved = await self.registry.resolve(
            scope, request.path_params["name"], request.query_params.get("Qualifier")
        )
        self.registry.nudge(resolved.scope, resolved.state.latest)
        config = resolved.config
        shape = get_function(
            resolved.scope, resolved.state, config,
            code_url=self.code_url(ctx, config.code_sha256),
            qualified_latest=_names_latest(request),
        )  # fmt: skip
        if resolved.alias is None and resolved.qualifier != LATEST:
            shape["Configuration"]["FunctionArn"] = resolved.qualified_arn
        return json_response(shape, request_id=ctx.request_id)

    async def get_config(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        resolved = await self.registry.resolve(
            scope, request.path_params["name"], request.query_params.get("Qualifier")
        )
        self.registry.nudge(resolved.scope, resolved.state.latest)
        shape = function_configuration(
            resolved.scope, resolved.config, qualified_latest=_names_latest(request)
        )
        return json_response(shape, request_id=ctx.request_id)

    async def delete(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        scope, ref = self.registry.parse(
            scope, request.path_params["name"], request.query_params.get("Qualifier")
        )
        try:
            shas = await self.registry.code_of(scope, ref.name, ref.qualifier)
        except LambdaError:
            shas = set()  # delete() below gives the caller the right error
        await self.registry.delete(scope, ref.name, ref.qualifier)
        await self.on_change(scope.arn(ref.name))
        await self._forget_unused(shas)
        return empty_response(status=204, request_id=ctx.request_id)

    async def update_code(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        scope, ref = self.registry.parse(scope, request.path_params["name"])
        body = await json_body(request)
        data, sha = await read_code(
            body, operation="UpdateFunctionCode", account=scope.account_id,
            fetch=self.registry.s3_code,
        )  # fmt: skip
        changes = {"code_sha256": sha, "code_size": len(data)}
        previous = (await self.registry.load(scope, ref.name)).latest.code_sha256
        state = await self.registry.update_latest(
            scope, ref.name, changes, code=data, revision_id=body.get("RevisionId"), start=False
        )
        shown = state.latest
        try:
            await self.on_change(scope.arn(ref.name))
            if previous != sha:
                await self._forget_unused({previous})
            if body.get("Publish"):
                shown = await self.registry.publish(
                    scope, ref.name, description=None, code_sha256=None, revision_id=None,
                    during_update=True,
                )  # fmt: skip
        finally:
            self.registry.start(scope, state.latest)
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
            changes["environment_set"] = _sets_variables(body["Environment"])
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
        changes.update(logging_changes(body.get("LoggingConfig"), current))
        if "role" in changes or "dead_letter_target" in changes:
            await check_dead_letter(
                self.registry.role_check,
                changes.get("role", current.role),
                changes.get("dead_letter_target", current.dead_letter_target),
            )
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


def _names_latest(request: Request) -> bool:
    """Whether the caller named `$LATEST` (as Qualifier or at the end of the name/ARN)."""
    name = request.path_params["name"]
    return request.query_params.get("Qualifier") == LATEST or name.endswith(":" + LATEST)


def _sets_variables(env: Any) -> bool:
    """An Environment with a Variables map, even an empty one, is shown back by AWS."""
    return isinstance(env, dict) and isinstance(env.get("Variables"), dict)


def _description(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidParameterValue("Description must be a string")
    if len(value) > 256:
        raise validation_error(
            value, "description", "Member must have length less than or equal to 256"
        )
    return value
