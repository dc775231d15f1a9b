"""Plumbing shared by the Lambda REST handlers: context, scope, body parsing, errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response

from sendoff.api.context import CALLER_KEY, RequestContext, request_context
from sendoff.api.json_shapes import NotJson, parse_json
from sendoff.api.lambda_names import other_region
from sendoff.api.rest_json import error_response
from sendoff.functions.errors import InvalidRequestContent, LambdaError, ServiceFailure
from sendoff.functions.policy_access import AccessDenied
from sendoff.model.arn import function_arn, parse_function_name
from sendoff.model.scope import Scope

log = logging.getLogger("sendoff.api.lambda")

Handler = Callable[[Request, RequestContext, Scope], Awaitable[Response]]


class LambdaEdge:
    def __init__(self, *, account_id: str, default_region: str) -> None:
        self.account_id = account_id
        self.default_region = default_region
        self.resource_policies: Callable[[], bool] = lambda: False
        """Whether resource policies decide cross-account calls (`--iam enforce`)."""

    def wrap(
        self, handler: Handler, *, by_policy: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        """The endpoint for `handler`. A verified caller (SigV4) naming a function of
        another account by ARN is refused here (403 AccessDeniedException), unless the
        route is `by_policy` (Invoke, InvokeAsync, the policy operations) and resource
        policies are enforced: then the handler asks the function's policy."""
        operation = _operation_name(handler)

        async def endpoint(request: Request) -> Response:
            ctx = request_context(
                request, account_id=self.account_id, default_region=self.default_region
            )
            scope = Scope(account_id=ctx.account_id, region=ctx.region)
            try:
                name = request.path_params.get("name")
                if name and (wrong := other_region(name, scope.region)) is not None:
                    raise wrong
                if not (by_policy and self.resource_policies()):
                    _own_account_only(request, ctx, operation)
                return await handler(request, ctx, scope)
            except LambdaError as exc:
                return error_response(exc, request_id=ctx.request_id)
            except Exception:
                log.exception("unhandled error in %s %s", request.method, request.url.path)
                return error_response(
                    ServiceFailure("An internal error occurred."), request_id=ctx.request_id
                )

        return endpoint


_OPERATIONS = {
    "FunctionsApi.get": "GetFunction",
    "FunctionsApi.delete": "DeleteFunction",
    "FunctionsApi.get_config": "GetFunctionConfiguration",
    "FunctionsApi.update_config": "UpdateFunctionConfiguration",
    "FunctionsApi.update_code": "UpdateFunctionCode",
    "FunctionsApi.put_concurrency": "PutFunctionConcurrency",
    "FunctionsApi.delete_concurrency": "DeleteFunctionConcurrency",
    "FunctionsApi.get_concurrency": "GetFunctionConcurrency",
    "FunctionsApi.put_recursion": "PutFunctionRecursionConfig",
    "FunctionsApi.get_recursion": "GetFunctionRecursionConfig",
    "VersionsApi.publish": "PublishVersion",
    "VersionsApi.list_versions": "ListVersionsByFunction",
    "VersionsApi.create_alias": "CreateAlias",
    "VersionsApi.list_aliases": "ListAliases",
    "VersionsApi.get_alias": "GetAlias",
    "VersionsApi.update_alias": "UpdateAlias",
    "VersionsApi.delete_alias": "DeleteAlias",
    "EventConfigApi.list": "ListFunctionEventInvokeConfigs",
    "EventConfigApi.put": "PutFunctionEventInvokeConfig",
    "EventConfigApi.update": "UpdateFunctionEventInvokeConfig",
    "EventConfigApi.get": "GetFunctionEventInvokeConfig",
    "EventConfigApi.delete": "DeleteFunctionEventInvokeConfig",
    "InvokeApi.invoke": "InvokeFunction",
    "InvokeApi.invoke_async": "InvokeAsync",
    "PolicyApi.add": "AddPermission",
    "PolicyApi.get": "GetPolicy",
    "PolicyApi.remove": "RemovePermission",
}


def _operation_name(handler: Handler) -> str:
    """The IAM action name of a handler (`lambda:<name>` in AccessDenied messages)."""
    owner = getattr(handler, "__self__", None)
    key = f"{type(owner).__name__}.{getattr(handler, '__name__', '')}"
    return _OPERATIONS.get(key, "".join(p.title() for p in key.split(".")[-1].split("_")))


def _own_account_only(request: Request, ctx: RequestContext, operation: str) -> None:
    """Refuse a verified caller naming another account's function by ARN: accounts are
    disjoint (docs/security.md), whatever the path's form."""
    caller = request.scope.get(CALLER_KEY)
    if caller is None:  # --auth none: every request acts in the server's account
        return
    name = request.path_params.get("name")
    ref = parse_function_name(unquote(name)) if isinstance(name, str) else None
    if ref is None or ref.account_id is None or ref.account_id == ctx.account_id:
        return
    region = ref.region or ctx.region
    arn = function_arn(region, ref.account_id, ref.name, ref.qualifier)
    raise AccessDenied(
        f"User: {caller.arn} is not authorized to perform: lambda:{operation} on resource:"
        f" {arn} because no resource-based policy allows the lambda:{operation} action"
    )


_PARSE_ON_LOOP_BYTES = 1 << 20


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        # nesting too deep for Python is a NotJson too; a large body (an inline ZipFile of
        # up to 70 MB of base64) is parsed off the loop, so other requests are not stalled
        big = len(raw) > _PARSE_ON_LOOP_BYTES
        body = await asyncio.to_thread(parse_json, raw) if big else parse_json(raw)
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
