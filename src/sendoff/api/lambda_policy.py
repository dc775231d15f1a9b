"""AddPermission, RemovePermission and GetPolicy on /2015-03-31/functions/{name}/policy.

Members are checked against botocore's model first (Coral's ``ValidationException``
wording, all violations at once, as recorded for ``statementId`` and ``qualifier``), then
the qualifier in the name against ``Qualifier``, then the principal's form; the domain
(``functions.policy``) does the rest. Under ``--iam enforce`` another account may not
change or read a function's policy by naming its ARN (403 AccessDeniedException), so a
resource policy cannot be used to grant oneself access.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sendoff.api.context import CALLER_KEY, RequestContext
from sendoff.api.lambda_common import LambdaEdge, json_body
from sendoff.api.lambda_input import LambdaShape
from sendoff.api.rest_json import empty_response, json_response
from sendoff.functions.errors import InvalidParameterValue
from sendoff.functions.policy import FunctionPolicies, compact
from sendoff.functions.policy_access import AccessDenied
from sendoff.functions.policy_statement import PermissionInput, principal_element
from sendoff.functions.registry import FunctionRegistry
from sendoff.model.function import LATEST
from sendoff.model.scope import Scope

QUALIFIER_PATTERN = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"
ACTION_PATTERN = r"(lambda:[*]|lambda:[a-zA-Z]+|[*])"
SOURCE_ARN_PATTERN = (
    r"arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)"
)


class PolicyApi:
    def __init__(self, edge: LambdaEdge, registry: FunctionRegistry) -> None:
        self.edge = edge
        self.registry = registry
        self.policies = FunctionPolicies(registry)

    def routes(self) -> list[Route]:
        w = self.edge.wrap
        path = "/2015-03-31/functions/{name}/policy"
        return [
            Route(path, w(self.add, by_policy=True), methods=["POST"]),
            Route(path, w(self.get, by_policy=True), methods=["GET"]),
            Route(f"{path}/{{sid}}", w(self.remove, by_policy=True), methods=["DELETE"]),
        ]

    def _target(
        self, request: Request, ctx: RequestContext, scope: Scope, shape: LambdaShape
    ) -> tuple[Scope, str, str | None]:
        qualifier = shape.string("Qualifier", min_len=1, max_len=128, pattern=QUALIFIER_PATTERN)
        shape.done()
        scope, ref = self.registry.parse(scope, request.path_params["name"], qualifier)
        if self.registry.invoke_check is not None and scope.account_id != ctx.account_id:
            caller = request.scope.get(CALLER_KEY)
            who = caller.arn if caller is not None else f"arn:aws:iam::{ctx.account_id}:root"
            raise AccessDenied(
                f"User: {who} is not authorized to perform: lambda:{_operation(request)}"
                f" on resource: {scope.function_arn(ref.name, ref.qualifier)}"
            )
        return scope, ref.name, ref.qualifier

    async def add(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        body = await json_body(request)
        shape = LambdaShape({**body, "Qualifier": request.query_params.get("Qualifier")})
        sid = shape.string("StatementId", required=True, min_len=1, max_len=100,
                           pattern="([a-zA-Z0-9-_]+)")  # fmt: skip
        action = shape.string("Action", required=True, pattern=ACTION_PATTERN)
        principal = shape.string("Principal", required=True, pattern=r"[^\s]+")
        source_arn = shape.string("SourceArn", pattern=SOURCE_ARN_PATTERN)
        source_account = shape.string("SourceAccount", max_len=12, pattern=r"\d{12}")
        token = shape.string("EventSourceToken", max_len=256, pattern=r"[a-zA-Z0-9._\-]+")
        org = shape.string("PrincipalOrgID", min_len=12, max_len=34, pattern="o-[a-z0-9]{10,32}")
        auth_type = shape.string("FunctionUrlAuthType", allowed=["NONE", "AWS_IAM"])
        revision_id = shape.string("RevisionId")
        via_url = body.get("InvokedViaFunctionUrl")
        if via_url is not None and not isinstance(via_url, bool):
            shape._fail(via_url, "InvokedViaFunctionUrl", "be a boolean")
        scope, name, qualifier = self._target(request, ctx, scope, shape)
        assert sid is not None and action is not None and principal is not None
        if qualifier == LATEST:
            raise InvalidParameterValue("We currently do not support adding policies for $LATEST.")
        principal_element(principal)  # its form, before looking the function up
        given = PermissionInput(
            statement_id=sid,
            action=action,
            principal=principal,
            source_arn=source_arn,
            source_account=source_account,
            event_source_token=token,
            principal_org_id=org,
            function_url_auth_type=auth_type,
            invoked_via_function_url=via_url,
        )
        statement = await self.policies.add(scope, name, qualifier, given, revision_id=revision_id)
        return json_response(
            {"Statement": compact(statement)}, status=201, request_id=ctx.request_id
        )

    async def remove(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        sid = request.path_params["sid"]
        shape = LambdaShape(
            {"StatementId": sid, "Qualifier": request.query_params.get("Qualifier")}
        )
        shape.string("StatementId", min_len=1, max_len=100, pattern="([a-zA-Z0-9-_.]+)")
        scope, name, qualifier = self._target(request, ctx, scope, shape)
        await self.policies.remove(
            scope, name, qualifier, sid, revision_id=request.query_params.get("RevisionId")
        )
        return empty_response(status=204, request_id=ctx.request_id)

    async def get(self, request: Request, ctx: RequestContext, scope: Scope) -> Response:
        shape = LambdaShape({"Qualifier": request.query_params.get("Qualifier")})
        scope, name, qualifier = self._target(request, ctx, scope, shape)
        policy = await self.policies.get(scope, name, qualifier)
        body = {"Policy": policy.text(), "RevisionId": policy.revision_id}
        return json_response(body, request_id=ctx.request_id)


def _operation(request: Request) -> str:
    return {"POST": "AddPermission", "DELETE": "RemovePermission"}.get(request.method, "GetPolicy")
