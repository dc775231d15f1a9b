"""Invoke: RequestResponse and DryRun run here; Event is handed to the async acceptor."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sendoff.api.context import CALLER_KEY, RequestContext
from sendoff.api.jackson_errors import invalid_utf8_message
from sendoff.api.json_shapes import NotJson, parse_json
from sendoff.api.lambda_common import LambdaEdge
from sendoff.api.lambda_names import check_invoke_target
from sendoff.api.rest_json import empty_response, json_response
from sendoff.functions.errors import (
    InvalidParameterValue,
    InvalidRequestContent,
    RecursiveInvocation,
    RequestTooLarge,
    validation_error,
)
from sendoff.functions.invoker import Invoker, tail
from sendoff.functions.lifecycle import ACTIVE, check_can_invoke
from sendoff.functions.registry import FunctionRegistry, Resolved
from sendoff.model import lineage
from sendoff.model.scope import Scope

SYNC_LIMIT = 6_291_456
ASYNC_LEGACY_LIMIT = 262_144  # InvokeAsync (2014-11-13)


class AsyncAcceptor(Protocol):
    """Takes Event invocations (provided by the async pipeline)."""

    async def accept(
        self, resolved: Resolved, *, request_id: str, payload: bytes, trace_header: str | None
    ) -> None: ...

    async def accept_legacy(
        self, resolved: Resolved, *, request_id: str, payload: bytes
    ) -> None: ...

    @property
    def payload_limit(self) -> int: ...


def parse_payload(payload: bytes) -> bytes:
    """Payloads must be JSON; an empty one becomes {} as on AWS."""
    if not payload.strip():
        return b"{}"
    try:
        parse_json(payload)  # nesting too deep for Python is a NotJson too
    except NotJson as exc:
        detail = invalid_utf8_message(payload) or str(exc)
        raise InvalidRequestContent(
            f"Could not parse request body into json: Could not parse payload into json: {detail}"
        ) from exc
    return payload


class InvokeApi:
    def __init__(
        self,
        edge: LambdaEdge,
        registry: FunctionRegistry,
        invoker: Invoker,
        acceptor: AsyncAcceptor | None,
    ) -> None:
        self.edge = edge
        self.registry = registry
        self.invoker = invoker
        self.acceptor = acceptor

    def fast_routes(self) -> list[tuple[str, Callable[[Request], Awaitable[Response]]]]:
        """Invoke, for the app's short way in (path patterns as the routes' below)."""
        return [
            (
                "/2015-03-31/functions/(?P<name>[^/]+)/invocations",
                self.edge.wrap(self.invoke, by_policy=True),
            )
        ]

    def routes(self) -> list[Route]:
        w = self.edge.wrap
        return [
            Route("/2015-03-31/functions/{name}/invocations", w(self.invoke, by_policy=True),
                  methods=["POST"]),
            Route("/2014-11-13/functions/{name}/invoke-async/",
                  w(self.invoke_async, by_policy=True), methods=["POST"]),
            Route("/2014-11-13/functions/{name}/invoke-async",
                  w(self.invoke_async, by_policy=True), methods=["POST"]),
        ]  # fmt: skip

    async def invoke(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        invocation_type = request.headers.get("x-amz-invocation-type", "RequestResponse")
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            raise validation_error(
                invocation_type,
                "invocationType",
                "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
            )
        log_type = request.headers.get("x-amz-log-type", "None")
        raw = await request.body()
        if invocation_type == "Event":
            limit = self.acceptor.payload_limit if self.acceptor else 1_048_576
            if len(raw) > limit:
                raise RequestTooLarge(
                    f"{len(raw)} byte payload is too large for the Event invocation type"
                    f" (limit {limit} bytes)"
                )
        elif len(raw) > SYNC_LIMIT:
            raise RequestTooLarge(
                f"Request must be smaller than {SYNC_LIMIT} bytes for the InvokeFunction operation"
            )
        name = request.path_params["name"]
        qualifier = request.query_params.get("Qualifier")
        check_invoke_target(scope, name, qualifier)
        payload = parse_payload(raw)
        resolved = await self.registry.resolve(scope, name, qualifier, latest_in_errors=True)
        await self._check_caller(request, ctx, resolved)
        resolved = await self._active(resolved, name, qualifier)
        if invocation_type == "DryRun":
            return empty_response(status=204, request_id=ctx.request_id)
        if invocation_type == "Event":
            if self.acceptor is None:
                raise InvalidParameterValue(
                    "InvocationType Event needs the async pipeline, which this server runs"
                    " without (no workers)."
                )
            await self.acceptor.accept(
                resolved,
                request_id=ctx.request_id,
                payload=payload,
                trace_header=request.headers.get("x-amzn-trace-id"),
            )
            return empty_response(status=202, request_id=ctx.request_id)
        trace = lineage.stamp(request.headers.get("x-amzn-trace-id"), resolved.unqualified_arn)
        if lineage.stops(trace, resolved.unqualified_arn, resolved.state.recursive_loop):
            resource = resolved.config.name
            if resolved.qualifier != "$LATEST":
                resource = f"{resource}:{resolved.qualifier}"
            dropped = self.invoker.metrics.recursive_invocations_dropped
            dropped.labels(resolved.config.name, resource).inc()
            raise RecursiveInvocation(lineage.RECURSION_MESSAGE)
        result = await self.invoker.run(
            resolved,
            request_id=ctx.request_id,
            payload=payload,
            client_context=request.headers.get("x-amz-client-context"),
            trace_id=trace,
        )
        headers = {"X-Amz-Executed-Version": resolved.executed_version}
        if result.function_error:
            headers["X-Amz-Function-Error"] = result.function_error
        if log_type == "Tail":
            headers["X-Amz-Log-Result"] = base64.b64encode(tail(result.log).encode()).decode()
        headers["x-amzn-RequestId"] = ctx.request_id
        return Response(
            result.payload, status_code=200, media_type="application/json", headers=headers
        )

    async def _active(self, resolved: Resolved, name: str, qualifier: str | None) -> Resolved:
        """`resolved` if it may be invoked; a function not Active here may have become so
        in another process sharing the store, so it is read again before refusing."""
        if resolved.config.state == ACTIVE:
            return resolved
        await self.registry.refresh(resolved.scope, resolved.config.name, resolved.config.version)
        resolved = await self.registry.resolve(
            resolved.scope, name, qualifier, latest_in_errors=True
        )
        self.registry.nudge(resolved.scope, resolved.state.latest)
        check_can_invoke(resolved.config)
        return resolved

    async def invoke_async(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        raw = await request.body()
        if len(raw) > ASYNC_LEGACY_LIMIT:
            raise RequestTooLarge(
                f"{len(raw)} byte payload is too large for the InvokeAsync operation"
                f" (limit {ASYNC_LEGACY_LIMIT} bytes)"
            )
        payload = parse_payload(raw)
        resolved = await self.registry.resolve(scope, request.path_params["name"])
        await self._check_caller(request, ctx, resolved)
        resolved = await self._active(resolved, request.path_params["name"], None)
        if self.acceptor is None:
            raise InvalidParameterValue("InvokeAsync needs the async pipeline (no workers).")
        await self.acceptor.accept_legacy(resolved, request_id=ctx.request_id, payload=payload)
        return json_response({"Status": 202}, status=202, request_id=ctx.request_id)

    async def _check_caller(
        self, request: Request, ctx: RequestContext, resolved: Resolved
    ) -> None:
        """Under --iam enforce, a caller from another account needs the function's resource
        policy to allow it (functions.policy_access)."""
        check = self.registry.invoke_check
        if check is None or resolved.scope.account_id == ctx.account_id:
            return
        caller = request.scope.get(CALLER_KEY)
        await check.check_caller(
            caller_arn=caller.arn if caller is not None else f"arn:aws:iam::{ctx.account_id}:root",
            caller_account=ctx.account_id,
            scope_account=resolved.scope.account_id,
            region=resolved.scope.region,
            name=resolved.config.name,
            qualifier=resolved.qualifier,
        )
