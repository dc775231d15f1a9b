"""What a function's execution role must allow for its destinations and dead-letter target.

Lambda checks the execution role when destinations or a dead-letter target are configured
and uses the role again when it delivers. sendoff does the same when IAM is enforced
(``--iam enforce``): the IAM wiring sets ``FunctionRegistry.role_check``; with ``None``
(``--iam off``) nothing is checked. A role that does not exist in sendoff's IAM is not
checked either, so made-up role ARNs keep working.

Error texts (InvalidParameterValueException, 400):

* dead-letter target: "The provided execution role does not have permissions to call
  SendMessage on SQS" / "... Publish on SNS". Verified: quoted from AWS by users
  (aws-samples/aws-serverless-ecommerce-platform#41, elastic/beats#13963,
  functionalone/serverless-iam-roles-per-function#5).
* destinations: "The function's execution role does not have permissions to call
  <Operation> on <destination ARN>". Inferred: the form quoted (with the ARN elided) in
  hashicorp/terraform-provider-aws internal/service/lambda/function_event_invoke_config.go,
  which retries PutFunctionEventInvokeConfig on it; not recorded from AWS here.
"""

from __future__ import annotations

from typing import Protocol

from sendoff.functions.errors import InvalidParameterValue
from sendoff.model.arn import arn_service

# dead-letter target service -> (IAM action, the operation named in messages); a
# destination's come from its kind (sendoff.destinations.kinds)
DEAD_LETTER_ACTIONS: dict[str, tuple[str, str]] = {
    "sqs": ("sqs:SendMessage", "SendMessage"),
    "sns": ("sns:Publish", "Publish"),
}


class ExecutionRoleCheck(Protocol):
    async def allows(self, role_arn: str, action: str, resource: str) -> bool:
        """False only when the role exists and its policies do not allow the action."""


async def check_destination(
    check: ExecutionRoleCheck | None,
    role: str,
    arn: str,
    known: tuple[str, str] | None,
    *,
    shown: str | None = None,
) -> None:
    """``known``: the destination kind's (IAM action, operation), None for no kind;
    ``arn`` the resource checked, ``shown`` the destination ARN named in the error."""
    if check is None or known is None:
        return
    action, operation = known
    if not await check.allows(role, action, arn):
        raise InvalidParameterValue(
            "The function's execution role does not have permissions to call"
            f" {operation} on {shown or arn}"
        )


async def check_dead_letter(check: ExecutionRoleCheck | None, role: str, arn: str | None) -> None:
    service = arn_service(arn or "")
    if check is None or not arn or service not in ("sqs", "sns"):
        return
    action, operation = DEAD_LETTER_ACTIONS[service]
    if not await check.allows(role, action, arn):
        raise InvalidParameterValue(
            "The provided execution role does not have permissions to call"
            f" {operation} on {service.upper()}"
        )


class InvokeCheck(Protocol):
    """Under ``--iam enforce``: may a caller from another account invoke this function?
    Raises :class:`sendoff.functions.errors.LambdaError` (AccessDeniedException) if not
    (``functions.policy_access``). ``qualifier`` is ``$LATEST`` for an unqualified call."""

    async def check_caller(
        self, *, caller_arn: str, caller_account: str, scope_account: str, region: str,
        name: str, qualifier: str,
    ) -> None: ...  # fmt: skip
