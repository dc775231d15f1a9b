"""Resource-policy checks under ``--iam enforce``: who may invoke a function.

Two kinds of invoker are checked against the policy of the function, version or alias
they name (``functions.policy``; the unqualified function's policy covers the unqualified
ARN only, as on AWS):

* a **service** delivering to a function: an SNS topic's ``lambda`` subscription
  (principal ``sns.amazonaws.com``, ``aws:SourceArn`` the topic ARN, ``aws:SourceAccount``
  its account) and an EventBridge rule's Lambda target (``events.amazonaws.com``, the rule
  ARN, its account), and an S3 bucket's notification (``s3.amazonaws.com``, the bucket
  ARN, the bucket owner's account). ``guard`` is a :class:`sendoff.delivery.outbox.Guard`: a refused
  delivery fails at once, for good, with the text below.
* a **caller from another account** (Invoke, InvokeAsync, DryRun): the verified caller's
  ARN and account are the principal (``check_caller``). Callers in the function's own
  account are not checked: sendoff does not authorize API callers by identity policy.

With ``--iam off`` neither check is installed and everything is allowed, as before.
The denial text is AWS's ("User: sns.amazonaws.com is not authorized to perform:
lambda:InvokeFunction on resource: arn:... because no resource-based policy allows the
lambda:InvokeFunction action", quoted from an SNS delivery log in
awslabs/aws-automated-incident-response-and-forensics#13); Invoke answers it as 403
AccessDeniedException with ``Message``, as Lambda does.
"""

from __future__ import annotations

from typing import Any

from sendoff.functions.errors import LambdaError
from sendoff.functions.policy import FunctionPolicies
from sendoff.functions.policy_eval import AccessRequest, allows
from sendoff.model.arn import parse_arn, parse_function_name
from sendoff.model.function import LATEST
from sendoff.model.scope import Scope

INVOKE = "lambda:InvokeFunction"


class AccessDenied(LambdaError):
    """403, ``{"Message": ...}`` with no ``Type`` (AWS's, recorded for a function ARN in
    another account: test_lambda_api.snapshot.json, ``function_arn_other_account_exc``)."""

    code = "AccessDeniedException"
    status = 403
    message_key = "Message"
    typed = False


def denial(who: str, resource: str) -> str:
    return (
        f"User: {who} is not authorized to perform: {INVOKE} on resource: {resource}"
        f" because no resource-based policy allows the {INVOKE} action"
    )


class ResourcePolicyAccess:
    def __init__(self, policies: FunctionPolicies) -> None:
        self.policies = policies

    async def _allows(
        self, scope: Scope, name: str, qualifier: str, request: AccessRequest
    ) -> bool:
        policy = await self.policies.cached(scope, name, qualifier)
        if policy is not None and allows(policy.statements, request):
            return True
        # a refusal is read again from the store before it counts: the cache sees other
        # processes' changes only within its TTL (store/cache.py), and a permission added
        # through the API just before a publish must hold in a worker process too
        policy = await self.policies.fresh(scope, name, qualifier)
        return policy is not None and allows(policy.statements, request)

    async def check_caller(
        self, *, caller_arn: str, caller_account: str, scope_account: str, region: str,
        name: str, qualifier: str,
    ) -> None:  # fmt: skip
        if caller_account == scope_account:
            return
        scope = Scope(account_id=scope_account, region=region)
        resource = scope.function_arn(name, None if qualifier == LATEST else qualifier)
        request = AccessRequest(
            action=INVOKE,
            resource=resource,
            principal_arn=caller_arn,
            principal_account=caller_account,
        )
        if not await self._allows(scope, name, qualifier, request):
            raise AccessDenied(denial(caller_arn, resource))

    async def destination_allowed(
        self, target: str, source: dict[str, Any], origin: str
    ) -> str | None:
        """Whether a function of account `origin` may send its record (destination,
        dead-letter) to the function `target` of another account: its policy must grant
        the sender's execution role or account. None if so, else why not."""
        ref = parse_function_name(target)
        if ref is None or ref.account_id is None or ref.region is None:
            return None  # not a function ARN: the transport reports it
        scope = Scope(account_id=ref.account_id, region=ref.region)
        resource = scope.function_arn(ref.name, ref.qualifier)
        who = str(source.get("role") or f"arn:aws:iam::{origin}:root")
        request = AccessRequest(
            action=INVOKE, resource=resource, principal_arn=who, principal_account=origin
        )
        if await self._allows(scope, ref.name, ref.qualifier or LATEST, request):
            return None
        return f"AccessDeniedException: {denial(who, resource)}"

    async def guard(self, scheme: str, target: str, source: dict[str, Any]) -> str | None:
        """Refuse an SNS or EventBridge delivery the function's policy does not allow."""
        # the outbox schemes of services.sns.jobs.SCHEME_LAMBDA and
        # services.events.targets.LAMBDA_SCHEME; Lambda's own destinations ("lambda") are
        # the execution role's business (services.iam.permissions)
        source_account: str | None = None
        if scheme == "sns-lambda":
            service, source_arn = "sns.amazonaws.com", str(source.get("topic_arn") or "")
        elif scheme == "lambda-event":
            service, source_arn = "events.amazonaws.com", str(source.get("rule_arn") or "")
        elif scheme == "s3-lambda":  # a bucket ARN has no account: S3 sends the owner's
            service, source_arn = "s3.amazonaws.com", str(source.get("bucket_arn") or "")
            source_account = str(source.get("source_account") or "") or None
        else:
            return None
        ref = parse_function_name(target)
        if ref is None or ref.account_id is None or ref.region is None:
            return None  # not a function ARN: the transport reports it
        if await self.service_allowed(target, service, source_arn, source_account):
            return None
        resource = Scope(account_id=ref.account_id, region=ref.region).function_arn(
            ref.name, ref.qualifier
        )
        return f"AccessDeniedException: {denial(service, resource)}"

    async def service_allowed(
        self, target: str, service: str, source_arn: str, source_account: str | None = None
    ) -> bool:
        """Whether the function ``target`` (a full ARN) lets ``service`` invoke it for
        ``source_arn`` (and ``source_account``: the ARN's own account by default)."""
        ref = parse_function_name(target)
        if ref is None or ref.account_id is None or ref.region is None:
            return False
        parsed = parse_arn(source_arn)
        scope = Scope(account_id=ref.account_id, region=ref.region)
        request = AccessRequest(
            action=INVOKE,
            resource=scope.function_arn(ref.name, ref.qualifier),
            service=service,
            source_arn=source_arn or None,
            source_account=source_account or (parsed.account_id if parsed is not None else None),
        )
        return await self._allows(scope, ref.name, ref.qualifier or LATEST, request)
