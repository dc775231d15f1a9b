"""Deliveries stay inside an account unless the target's owner let them in.

Under ``--auth sigv4`` accounts are disjoint: a key of account B cannot touch account A's
resources through the APIs (``api/lambda_common.py``). Without this guard it could still
reach them indirectly, by naming A's resources as the targets of its own: an
OnSuccess/OnFailure destination or dead-letter queue on A's function or queue, an SNS
subscription of A's function or queue to B's topic, an EventBridge rule of B's targeting
A's function, queue, topic or bus, a notification of B's bucket naming A's function, queue
or topic. Every such delivery is a job in the outbox, and this
guard refuses it there, before it is sent, when the source (the function, topic or rule
the delivery comes from) and the target are in different accounts, except where the
target's resource policy is what decides:

* under ``--iam enforce``, a function target is let through when its resource policy
  allows the sender (``functions.policy_access``: SNS and EventBridge by service principal
  and source ARN, a destination by the sender's execution role or account);
* queue, topic and bus policies are not evaluated by sendoff, so a cross-account delivery
  to those is refused in every mode (AWS would ask their policies).

A refusal is a permanent failure (docs/security.md): counted, sent to the dead-letter
target if any, and its error says why. Under ``--auth none`` every request acts in one
account and this guard is not installed.
"""

from __future__ import annotations

from typing import Any

from sendoff.functions.policy_access import ResourcePolicyAccess
from sendoff.model.arn import parse_arn

# the source ARN a delivery job carries, by the kind of sender
_SOURCE_KEYS = ("function_arn", "topic_arn", "rule_arn")
# schemes whose target is not an AWS resource (an URL, an address)
_OUTSIDE = frozenset({"sns-http", "sns-email"})
# schemes that functions.policy_access.ResourcePolicyAccess.guard checks itself
_BY_FUNCTION_POLICY = frozenset({"sns-lambda", "lambda-event", "s3-lambda"})


class AccountBoundary:
    def __init__(self, access: ResourcePolicyAccess | None) -> None:
        self.access = access  # the function policies, under --iam enforce

    async def guard(self, scheme: str, target: str, source: dict[str, Any]) -> str | None:
        if scheme in _OUTSIDE:
            return None
        origin = _source_account(source)
        destination = parse_arn(target)
        if origin is None or destination is None or destination.account_id in ("", origin):
            return None
        if self.access is not None:
            if scheme in _BY_FUNCTION_POLICY:
                return None  # the function's policy decides, in its own guard
            if destination.service == "lambda":
                return await self.access.destination_allowed(target, source, origin)
        return (
            f"AccessDeniedException: account {origin} may not deliver to {target} in account"
            f" {destination.account_id}: sendoff keeps accounts apart and does not evaluate"
            f" {destination.service} resource policies"
            + ("" if destination.service != "lambda" else " without --iam enforce")
        )


def _source_account(source: dict[str, Any]) -> str | None:
    if source.get("source_account"):  # S3 notifications: the bucket's owner (no ARN account)
        return str(source["source_account"])
    for key in _SOURCE_KEYS:
        arn = parse_arn(str(source.get(key) or ""))
        if arn is not None and arn.account_id:
            return arn.account_id
    return None
