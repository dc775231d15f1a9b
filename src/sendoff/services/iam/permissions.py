"""Execution-role checks for Lambda destinations, at configuration and at delivery.

``RolePermissions.allows`` implements :class:`sendoff.functions.permissions.
ExecutionRoleCheck`; ``guard`` is a :class:`sendoff.delivery.outbox.Guard` that refuses a
destination or dead-letter send the role no longer allows. A role ARN that names no
stored role is allowed (sendoff's behaviour before IAM, so ``--role arn:...:role/anything``
keeps working). Statements with conditions that were not evaluated are logged once each.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from sendoff.model.arn import parse_function_name
from sendoff.model.job import RecordSource
from sendoff.services.iam.policy import Decision, Verdict, evaluate
from sendoff.services.iam.service import RoleService

log = logging.getLogger("sendoff.iam")


class RolePermissions:
    def __init__(
        self,
        roles: RoleService,
        actions: Mapping[str, tuple[str, str]],
        resources: Mapping[str, Callable[[str, str], str]] | None = None,
    ) -> None:
        self.roles = roles
        # delivery scheme -> (IAM action, operation): the destination kinds' (which cover
        # the dead-letter targets, SQS and SNS, too)
        self.actions = actions
        # delivery scheme -> what the role must be allowed to act on (the kind's
        # iam_resource(target, function_name)); the target itself when a kind has none
        self.resources = resources or {}
        self._reported: set[tuple[str, str]] = set()

    async def decide(self, role_arn: str, action: str, resource: str) -> Decision | None:
        """The decision for an existing role; None when no such role is stored."""
        role = await self.roles.role_by_arn(role_arn)
        if role is None:
            return None
        decision = evaluate(self.roles.policies_of(role), action, resource)
        for label in decision.unevaluated:
            if (role.arn, label) not in self._reported:
                self._reported.add((role.arn, label))
                log.warning(
                    "IAM: %s of role %s has a Condition, which sendoff does not evaluate: "
                    "an Allow with a condition grants nothing, a Deny with one applies "
                    "(docs/iam.md)",
                    label,
                    role.arn,
                )
        return decision

    async def allows(self, role_arn: str, action: str, resource: str) -> bool:
        decision = await self.decide(role_arn, action, resource)
        return decision is None or decision.allowed

    async def guard(self, scheme: str, target: str, source: dict[str, Any]) -> str | None:
        """Refuse a destination / dead-letter delivery the function's role does not allow."""
        record = RecordSource.decode(source)
        role = record.role if record is not None else None
        known = self.actions.get(scheme)
        if not role or known is None:
            return None
        action = known[0]
        arn = record.function_arn if record is not None else ""
        ref = parse_function_name(arn)
        to_resource = self.resources.get(scheme)
        resource = to_resource(target, ref.name if ref else "") if to_resource else target
        decision = await self.decide(role, action, resource)
        if decision is None or decision.allowed:
            return None
        return access_denied(role, action, resource, decision)


def access_denied(role_arn: str, action: str, resource: str, decision: Decision) -> str:
    """IAM's AccessDenied text (docs.aws.amazon.com/IAM/latest/UserGuide/
    troubleshoot_access-denied.html), as the destination service would answer the role."""
    why = (
        "with an explicit deny in an identity-based policy"
        if decision.verdict is Verdict.EXPLICIT_DENY
        else f"because no identity-based policy allows the {action} action"
    )
    return (
        f"AccessDenied: User: {role_arn} is not authorized to perform: {action}"
        f" on resource: {resource} {why}"
    )
