"""The IAM role store: roles, their inline policies and attached managed policies.

Read-modify-write goes through compare-and-swap on the role document, so concurrent
PutRolePolicy/AttachRolePolicy calls on one role never lose an update. Messages are AWS's
(localstack's recorded IAM snapshots, tests/aws/services/iam/test_iam_roles.snapshot.json).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace

from sendoff.errors import ConflictError
from sendoff.services.iam.documents import check_identity_policy, check_trust_policy, load_document
from sendoff.services.iam.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    NoSuchEntity,
    ValidationError,
    no_such_role,
    validation,
)
from sendoff.services.iam.managed import aws_managed
from sendoff.services.iam.model import ROLE, Role, new_role_id, parse_role_arn, role_key
from sendoff.services.iam.policy import Policy, parse_policy
from sendoff.store import Store

NAME_PATTERN = r"[\w+=,.@-]+"
PATH_PATTERN = r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)"
_NAME_RE = re.compile(rf"^{NAME_PATTERN}$")
_PATH_RE = re.compile(r"^(/|/[\x21-\x7E]+/)$")
_CAS_ATTEMPTS = 50
_MAX_TAGS = 50


def check_name(value: str, member: str, max_len: int) -> str:
    if len(value) > max_len:
        raise validation(value, member, f"Member must have length less than or equal to {max_len}")
    if not value or not _NAME_RE.match(value):
        raise validation(
            value, member, f"Member must satisfy regular expression pattern: {NAME_PATTERN}"
        )
    return value


class RoleService:
    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    # ---- roles ----
    async def create_role(
        self,
        account_id: str,
        *,
        name: str,
        trust_policy: str,
        path: str | None = None,
        description: str | None = None,
        max_session_duration: int | None = None,
        tags: list[tuple[str, str]] | None = None,
    ) -> Role:
        check_name(name, "roleName", 64)
        path = path or "/"
        if len(path) > 512 or not _PATH_RE.match(path):
            raise validation(
                path, "path", f"Member must satisfy regular expression pattern: {PATH_PATTERN}"
            )
        if description is not None and len(description) > 1000:
            raise validation(
                description, "description", "Member must have length less than or equal to 1000"
            )
        if max_session_duration is not None and not 3600 <= max_session_duration <= 43200:
            raise validation(
                max_session_duration,
                "maxSessionDuration",
                "Member must have value less than or equal to 43200"
                if max_session_duration > 43200
                else "Member must have value greater than or equal to 3600",
            )
        tags = tags or []
        if len(tags) > _MAX_TAGS:
            raise ValidationError(
                "1 validation error detected: Value at 'tags' failed to satisfy constraint:"
                f" Member must have length less than or equal to {_MAX_TAGS}"
            )
        if len({k.lower() for k, _ in tags}) != len(tags):
            raise InvalidInput(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive."
            )
        check_trust_policy(trust_policy)
        role = Role(
            account_id=account_id,
            name=name,
            path=path,
            role_id=new_role_id(),
            created_at=self.clock(),
            trust_policy=trust_policy,
            description=description,
            max_session_duration=max_session_duration or 3600,
            tags=tuple(tags),
        )
        try:
            await self.store.put(ROLE, role.key, role.to_json(), expect=0)
        except ConflictError:
            raise EntityAlreadyExists(f"Role with name {name} already exists.") from None
        return role

    async def find_role(self, account_id: str, name: str) -> Role | None:
        doc = await self.store.get(ROLE, role_key(account_id, name))
        return None if doc is None else Role.from_json(account_id, doc.value)

    async def get_role(self, account_id: str, name: str) -> Role:
        role = await self.find_role(account_id, name)
        if role is None:
            raise no_such_role(name)
        return role

    async def role_by_arn(self, arn: str) -> Role | None:
        """The role an ARN names, if it exists with exactly that ARN (path included)."""
        parsed = parse_role_arn(arn)
        if parsed is None:
            return None
        account_id, path, name = parsed
        role = await self.find_role(account_id, name)
        if role is None or role.path != path or role.name != name:
            return None
        return role

    async def delete_role(self, account_id: str, name: str) -> None:
        doc = await self.store.get(ROLE, role_key(account_id, name))
        if doc is None:
            raise no_such_role(name)
        role = Role.from_json(account_id, doc.value)
        if role.attached:
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        if role.inline:
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if not await self.store.delete(ROLE, role.key, expect=doc.revision):
            raise no_such_role(name)

    async def list_roles(
        self, account_id: str, *, path_prefix: str = "/", marker: str | None, limit: int
    ) -> tuple[list[Role], str | None]:
        docs = await self.store.scan(ROLE, f"{account_id}/", after=marker)
        roles = [Role.from_json(account_id, d.value) for d in docs]
        roles = [r for r in roles if r.path.startswith(path_prefix or "/")]
        page = roles[:limit]
        more = len(roles) > limit
        return page, (page[-1].key if more and page else None)

    async def _update(self, account_id: str, name: str, change: Callable[[Role], Role]) -> Role:
        key = role_key(account_id, name)
        for _ in range(_CAS_ATTEMPTS):
            doc = await self.store.get(ROLE, key)
            if doc is None:
                raise no_such_role(name)
            updated = change(Role.from_json(account_id, doc.value))
            try:
                await self.store.put(ROLE, key, updated.to_json(), expect=doc.revision)
            except ConflictError:
                continue
            return updated
        raise ConflictError(f"role {name} is too busy to update")

    # ---- inline policies ----
    async def put_role_policy(self, account_id: str, role: str, policy: str, text: str) -> None:
        check_name(policy, "policyName", 128)
        check_identity_policy(text)
        await self._update(account_id, role, lambda r: r.with_inline(policy, text))

    async def get_role_policy(self, account_id: str, role: str, policy: str) -> tuple[Role, str]:
        found = await self.get_role(account_id, role)
        if policy not in found.inline:
            raise NoSuchEntity(f"The role policy with name {policy} cannot be found.")
        return found, found.inline[policy]

    async def delete_role_policy(self, account_id: str, role: str, policy: str) -> None:
        def change(r: Role) -> Role:
            if policy not in r.inline:
                raise NoSuchEntity(f"The role policy with name {policy} cannot be found.")
            return r.with_inline(policy, None)

        await self._update(account_id, role, change)

    # ---- managed policies ----
    async def attach_role_policy(self, account_id: str, role: str, arn: str) -> None:
        if not arn.startswith("arn:"):
            raise ValidationError(f"ARN {arn} is not valid.")
        await self.get_role(account_id, role)  # NoSuchEntity for the role comes first
        if aws_managed(arn) is None:
            raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")

        def change(r: Role) -> Role:
            return r if arn in r.attached else replace(r, attached=(*r.attached, arn))

        await self._update(account_id, role, change)

    async def detach_role_policy(self, account_id: str, role: str, arn: str) -> None:
        if not arn.startswith("arn:"):
            raise ValidationError(f"ARN {arn} is not valid.")

        def change(r: Role) -> Role:
            if arn not in r.attached:
                raise NoSuchEntity(f"Policy {arn} was not found.")
            return replace(r, attached=tuple(a for a in r.attached if a != arn))

        await self._update(account_id, role, change)

    # ---- what a role may do ----
    @staticmethod
    def policies_of(role: Role) -> list[Policy]:
        """Every identity policy of the role, parsed (inline ones, then attached ones)."""
        policies = [parse_policy(n, load_document(t)) for n, t in sorted(role.inline.items())]
        for arn in role.attached:
            managed = aws_managed(arn)
            if managed is not None:
                policies.append(parse_policy(managed.name, managed.document))
        return policies
