"""Function resource-based policies: AddPermission, RemovePermission, GetPolicy.

Stored as documents of kind ``function-policy`` under ``ACCOUNT/REGION/NAME/QUALIFIER``
(``$LATEST`` for the unqualified function), so every backend keeps them in its documents
table with no schema change. Each version and alias has a policy of its own; the
unqualified function's applies to the unqualified ARN only (AWS: "permissions apply per
function unless providing a specific version or alias"). Deleting a function deletes its
policies; deleting a version or alias deletes that one's (``FunctionRegistry``).

Revision ids, as recorded from AWS (``test_function_revisions_permissions``,
``test_lambda_permission_fn_versioning``): adding or removing a statement gives the policy a
new RevisionId, and for the unqualified function the function's RevisionId becomes the same
value. A RevisionId given to AddPermission/RemovePermission must match the policy's; when the
target has no policy yet, the function's, version's or alias's own RevisionId.

Messages are AWS's as recorded (``TestLambdaPermissions``); PolicyLengthExceededException's
("The final policy size (N) is bigger than the limit (20480).") is quoted from AWS by users
(serverless/serverless#5357, adobe/helix-deploy#24).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from sendoff.errors import ConflictError
from sendoff.functions.errors import (
    InvalidParameterValue,
    LambdaError,
    PreconditionFailed,
    ResourceConflict,
    ResourceNotFound,
)
from sendoff.functions.policy_statement import PermissionInput, build_statement
from sendoff.functions.registry import FunctionRegistry, new_revision_id
from sendoff.model.arn import ALIAS_RE
from sendoff.model.digits import is_digits
from sendoff.model.function import LATEST
from sendoff.model.json_types import JSON
from sendoff.model.scope import Scope
from sendoff.store import Doc

KIND = "function-policy"
SIZE_LIMIT = 20480
NO_RESOURCE = "The resource you requested does not exist."
NO_POLICY = "No policy is associated with the given resource."
WRONG_REVISION = (
    "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API"
    " to retrieve the latest Revision Id"
)
_ATTEMPTS = 10


class PolicyLengthExceeded(LambdaError):
    code = "PolicyLengthExceededException"
    status = 400
    message_key = "message"


@dataclass(frozen=True, kw_only=True)
class FunctionPolicy:
    qualifier: str  # $LATEST: the unqualified function's
    revision_id: str
    statements: tuple[JSON, ...]
    revision: int = 0  # the store's, for compare-and-swap

    def document(self) -> JSON:
        return {"Version": "2012-10-17", "Id": "default", "Statement": list(self.statements)}

    def text(self) -> str:
        return compact(self.document())

    def to_json(self) -> JSON:
        return {
            "qualifier": self.qualifier,
            "revision_id": self.revision_id,
            "statements": list(self.statements),
        }

    @classmethod
    def from_doc(cls, doc: Doc) -> FunctionPolicy:
        v = doc.value
        return cls(
            qualifier=v["qualifier"],
            revision_id=v["revision_id"],
            statements=tuple(v["statements"]),
            revision=doc.revision,
        )


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


@dataclass(frozen=True, kw_only=True)
class Target:
    """The function, version or alias a policy call names."""

    qualifier: str  # $LATEST for the unqualified function
    arn: str  # the Resource of its statements
    revision_id: str  # its own RevisionId


class FunctionPolicies:
    def __init__(self, registry: FunctionRegistry) -> None:
        self.registry = registry
        self.store = registry.store
        self.docs = registry.docs

    @staticmethod
    def key(scope: Scope, name: str, qualifier: str) -> str:
        return f"{scope.key}/{name}/{qualifier}"

    async def cached(self, scope: Scope, name: str, qualifier: str) -> FunctionPolicy | None:
        """The policy through the registry's cache (the invoke-time checks)."""
        key = self.key(scope, name, qualifier)
        return await self.docs.get_decoded(KIND, key, FunctionPolicy.from_doc)

    async def fresh(self, scope: Scope, name: str, qualifier: str) -> FunctionPolicy | None:
        """The policy as the store has it now, and cached again: a check that the cached
        policy refuses asks this before it refuses, so a permission another process (the
        API server, beside a worker process) added a moment ago counts at once."""
        self.docs.forget(KIND, self.key(scope, name, qualifier))
        return await self.cached(scope, name, qualifier)

    async def _current(self, scope: Scope, name: str, qualifier: str) -> FunctionPolicy | None:
        doc = await self.store.get(KIND, self.key(scope, name, qualifier))
        return None if doc is None else FunctionPolicy.from_doc(doc)

    async def target(self, scope: Scope, name: str, qualifier: str | None) -> Target:
        state = await self.registry.load(scope, name)
        if qualifier is None or qualifier == LATEST:
            return Target(
                qualifier=LATEST, arn=scope.function_arn(name), revision_id=state.latest.revision_id
            )
        if is_digits(qualifier):
            version = await self.registry.get_version(scope, name, qualifier)
            return Target(qualifier=qualifier, arn=scope.function_arn(name, qualifier),
                          revision_id=version.revision_id)  # fmt: skip
        if not ALIAS_RE.match(qualifier):
            raise ResourceNotFound(f"Function not found: {scope.function_arn(name, qualifier)}")
        alias = await self.registry.get_alias(scope, name, qualifier)
        return Target(qualifier=qualifier, arn=scope.function_arn(name, qualifier),
                      revision_id=alias.revision_id)  # fmt: skip

    async def add(
        self,
        scope: Scope,
        name: str,
        qualifier: str | None,
        given: PermissionInput,
        *,
        revision_id: str | None,
    ) -> JSON:
        """AddPermission: the statement added."""
        if qualifier == LATEST:
            raise InvalidParameterValue("We currently do not support adding policies for $LATEST.")
        for _ in range(_ATTEMPTS):
            target = await self.target(scope, name, qualifier)
            current = await self._current(scope, name, target.qualifier)
            expected = current.revision_id if current is not None else target.revision_id
            if revision_id is not None and revision_id != expected:
                raise PreconditionFailed(WRONG_REVISION)
            statements = current.statements if current is not None else ()
            if any(s.get("Sid") == given.statement_id for s in statements):
                raise ResourceConflict(
                    f"The statement id ({given.statement_id}) provided already exists. Please"
                    " provide a new statement id, or remove the existing statement."
                )
            statement = build_statement(given, target.arn)
            policy = FunctionPolicy(
                qualifier=target.qualifier,
                revision_id=new_revision_id(),
                statements=(*statements, statement),
            )
            size = len(policy.text())
            if size > SIZE_LIMIT:
                raise PolicyLengthExceeded(
                    f"The final policy size ({size}) is bigger than the limit ({SIZE_LIMIT})."
                )
            if await self._write(scope, name, policy, current):
                return statement
        raise _busy(scope, name)

    async def remove(
        self,
        scope: Scope,
        name: str,
        qualifier: str | None,
        statement_id: str,
        *,
        revision_id: str | None,
    ) -> None:
        """RemovePermission."""
        for _ in range(_ATTEMPTS):
            try:
                await self.registry.load(scope, name)
            except ResourceNotFound:
                raise ResourceNotFound(f"No policy found for: {scope.function_arn(name)}") from None
            target = await self.target(scope, name, qualifier)
            current = await self._current(scope, name, target.qualifier)
            if current is None:
                raise ResourceNotFound(NO_POLICY)
            kept = tuple(s for s in current.statements if s.get("Sid") != statement_id)
            if len(kept) == len(current.statements):
                raise ResourceNotFound(f"Statement {statement_id} is not found in resource policy.")
            if revision_id is not None and revision_id != current.revision_id:
                raise PreconditionFailed(WRONG_REVISION)
            policy = replace(current, revision_id=new_revision_id(), statements=kept)
            if await self._write(scope, name, policy, current):
                return
        raise _busy(scope, name)

    async def get(self, scope: Scope, name: str, qualifier: str | None) -> FunctionPolicy:
        """GetPolicy: every way of not finding one answers the same (as recorded)."""
        try:
            target = await self.target(scope, name, qualifier)
        except ResourceNotFound:
            raise ResourceNotFound(NO_RESOURCE) from None
        policy = await self._current(scope, name, target.qualifier)
        if policy is None:
            raise ResourceNotFound(NO_RESOURCE)
        return policy

    async def _write(
        self, scope: Scope, name: str, policy: FunctionPolicy, current: FunctionPolicy | None
    ) -> bool:
        """Store ``policy`` if nobody changed it meanwhile; an empty one is deleted."""
        key = self.key(scope, name, policy.qualifier)
        expect = 0 if current is None else current.revision
        try:
            if policy.statements:
                await self.docs.put(KIND, key, policy.to_json(), expect=expect)
            elif not await self.docs.delete(KIND, key, expect=expect):
                return False
        except ConflictError:
            return False
        if policy.qualifier == LATEST:  # the function's RevisionId follows its policy's
            await self._follow_revision(scope, name, policy.revision_id)
        return True

    async def _follow_revision(self, scope: Scope, name: str, revision_id: str) -> None:
        for _ in range(_ATTEMPTS):
            state = await self.registry.load(scope, name)
            latest = replace(state.latest, revision_id=revision_id)
            try:
                await self.registry.save(scope, replace(state, latest=latest))
                return
            except ResourceConflict:
                continue  # changed meanwhile: read it again


def _busy(scope: Scope, name: str) -> ResourceConflict:
    return ResourceConflict(
        "The operation cannot be performed at this time. An update is in progress for"
        f" resource: {scope.function_arn(name)}"
    )
