"""Function resource policies (functions.policy) behave the same on every backend: kept per
qualifier, revisions compared and swapped, gone with their function, version or alias."""

from __future__ import annotations

import asyncio
import json

import pytest

from sendoff.functions.errors import ResourceConflict, ResourceNotFound
from sendoff.functions.policy import FunctionPolicies
from sendoff.functions.policy_statement import PermissionInput
from sendoff.functions.registry import FunctionRegistry
from sendoff.model.function import AliasConfig, FunctionConfig
from sendoff.model.scope import Scope
from sendoff.store import Store

SCOPE = Scope(account_id="111111111111", region="us-east-1")


def permission(sid: str) -> PermissionInput:
    return PermissionInput(
        statement_id=sid, action="lambda:InvokeFunction", principal="sns.amazonaws.com"
    )


async def make_function(registry: FunctionRegistry, name: str) -> None:
    config = FunctionConfig(
        name=name,
        version="$LATEST",
        runtime="python3.12",
        handler="app.handler",
        role="arn:aws:iam::111111111111:role/r",
        code_sha256="c2hh",
        code_size=3,
    )
    await registry.create(SCOPE, config, b"zip", tags={})


async def test_policies_per_qualifier_and_deleted_with_their_owner(store: Store) -> None:
    registry = FunctionRegistry(store)
    policies = FunctionPolicies(registry)
    await make_function(registry, "f")
    version = (
        await registry.publish(SCOPE, "f", description=None, code_sha256=None, revision_id=None)
    ).version
    await registry.put_alias(
        SCOPE, AliasConfig(name="live", function_name="f", function_version=version), create=True
    )
    await policies.add(SCOPE, "f", None, permission("a"), revision_id=None)
    await policies.add(SCOPE, "f", None, permission("b"), revision_id=None)
    await policies.add(SCOPE, "f", version, permission("a"), revision_id=None)
    await policies.add(SCOPE, "f", "live", permission("a"), revision_id=None)

    unqualified = await policies.get(SCOPE, "f", None)
    assert [s["Sid"] for s in unqualified.statements] == ["a", "b"]
    assert json.loads(unqualified.text())["Statement"][1]["Resource"] == SCOPE.function_arn("f")
    assert (await policies.get(SCOPE, "f", version)).statements[0][
        "Resource"
    ] == SCOPE.function_arn("f", version)
    # the function's RevisionId follows its policy's
    assert (await registry.load(SCOPE, "f")).latest.revision_id == unqualified.revision_id

    await policies.remove(SCOPE, "f", None, "b", revision_id=unqualified.revision_id)
    assert [s["Sid"] for s in (await policies.get(SCOPE, "f", None)).statements] == ["a"]

    await registry.delete_alias(SCOPE, "f", "live")
    await registry.put_alias(
        SCOPE, AliasConfig(name="live", function_name="f", function_version=version), create=True
    )
    with pytest.raises(ResourceNotFound):
        await policies.get(SCOPE, "f", "live")
    await registry.delete_alias(SCOPE, "f", "live")
    await registry.delete(SCOPE, "f", version)
    assert [d.key for d in await store.scan("function-policy", f"{SCOPE.key}/f/")] == [
        f"{SCOPE.key}/f/$LATEST"
    ]
    await registry.delete(SCOPE, "f", None)
    await make_function(registry, "f")
    with pytest.raises(ResourceNotFound):
        await policies.get(SCOPE, "f", None)
    assert await store.scan("function-policy", f"{SCOPE.key}/f/") == []


async def test_concurrent_adds_lose_nothing(store: Store) -> None:
    """Each add lands, or answers AWS's ResourceConflictException ("An update is in
    progress"): none that answered success is lost."""
    registry = FunctionRegistry(store)
    policies = FunctionPolicies(registry)
    await make_function(registry, "g")
    results = await asyncio.gather(
        *(policies.add(SCOPE, "g", None, permission(f"s{i}"), revision_id=None) for i in range(8)),
        return_exceptions=True,
    )
    landed = {r["Sid"] for r in results if isinstance(r, dict)}
    assert all(isinstance(r, dict | ResourceConflict) for r in results)
    assert landed  # at least the first writer wins
    sids = {s["Sid"] for s in (await policies.get(SCOPE, "g", None)).statements}
    assert sids == landed
