"""Stacks and change sets in the server's store, for the CloudFormation API.

One store for both paths: ``stack`` documents keyed ``account/region/name`` are the ones
``sendoff deploy`` keeps through ``/_sendoff/stacks`` (stacks_api.py), so a stack deployed
either way is seen and updated by the other. Besides them:

* ``stack-deleted`` ``account/region/<stack id>``: a deleted stack's last document (status
  DELETE_COMPLETE), which DescribeStacks shows by id and ListStacks lists, as AWS does;
  at most ``MAX_DELETED`` are kept per region (the oldest go first).
* ``changeset`` ``account/region/<stack name>/<change set name>``: a change set
  (:class:`ChangeSet`), until it is executed, deleted, or its stack is deleted.

``StackRepository`` is async (the API's handlers); ``ThreadStackStore`` is the engine's
synchronous ``StackStore`` for one account, used from the deployment's worker thread.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Coroutine
from dataclasses import asdict, dataclass, field, replace
from typing import Any, TypeVar

from sendoff.errors import ConflictError
from sendoff.iac.errors import StackError
from sendoff.iac.state import Stack, StackStatus
from sendoff.model.json_types import JSON
from sendoff.store import Store

KIND = "stack"  # shared with sendoff.iac.stacks_api
DELETED = "stack-deleted"
CHANGE_SETS = "changeset"
MAX_DELETED = 200
WAIT_S = 60.0  # the longest a deployment thread waits for the store

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class ChangeSet:
    """A change set: what was asked for (re-planned when executed) and what it shows."""

    id: str
    name: str
    stack_name: str
    stack_id: str
    account_id: str
    region: str
    type: str  # CREATE | UPDATE
    created_at: float
    template_text: str
    parameters: dict[str, str] = field(default_factory=dict)  # given values
    use_previous: tuple[str, ...] = ()  # parameters with UsePreviousValue
    capabilities: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    description: str = ""
    status: str = "CREATE_COMPLETE"  # CREATE_COMPLETE | FAILED
    status_reason: str = ""
    execution_status: str = "AVAILABLE"
    changes: tuple[JSON, ...] = ()  # Change records (plan.Change as dicts)
    shown_parameters: dict[str, str] = field(default_factory=dict)  # NoEcho masked

    @property
    def key(self) -> str:
        return f"{self.account_id}/{self.region}/{self.stack_name}/{self.name}"

    def evolve(self, **changes: Any) -> ChangeSet:
        return replace(self, **changes)

    def to_json(self) -> JSON:
        body = asdict(self)
        body["use_previous"] = list(self.use_previous)
        body["capabilities"] = list(self.capabilities)
        body["changes"] = list(self.changes)
        return body

    @classmethod
    def from_json(cls, data: JSON) -> ChangeSet:
        return cls(
            **{
                **data,
                "use_previous": tuple(data.get("use_previous") or ()),
                "capabilities": tuple(data.get("capabilities") or ()),
                "changes": tuple(data.get("changes") or ()),
            }
        )


class StackRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- stacks ----
    async def get(self, account_id: str, region: str, name: str) -> Stack | None:
        doc = await self.store.get(KIND, f"{account_id}/{region}/{name}")
        return None if doc is None else Stack.from_json(doc.value, revision=doc.revision)

    async def put(self, stack: Stack) -> Stack:
        """Save if unchanged since read (``stack.revision``); StackError if not."""
        try:
            doc = await self.store.put(KIND, stack.key, stack.to_json(), expect=stack.revision)
        except ConflictError:
            raise StackError(f"stack {stack.name} was changed by another deployment") from None
        return stack.evolve(revision=doc.revision)

    async def delete(self, stack: Stack) -> None:
        """Forget a stack; it stays visible by id as DELETE_COMPLETE, as in AWS."""
        gone = stack.evolve(status=StackStatus.DELETE_COMPLETE, resources={}, pending=())
        prefix = f"{stack.account_id}/{stack.region}/"
        await self.store.put(DELETED, prefix + _id_key(stack.id), gone.to_json())
        try:
            await self.store.delete(KIND, stack.key, expect=stack.revision or None)
        except ConflictError:
            raise StackError(f"stack {stack.name} was changed meanwhile") from None
        for cs in await self.change_sets(stack.account_id, stack.region, stack.name):
            await self.store.delete(CHANGE_SETS, cs.key)
        kept = await self.store.scan(DELETED, prefix)
        if len(kept) > MAX_DELETED:
            oldest = sorted(kept, key=lambda d: float(d.value.get("updated_at") or 0))
            for doc in oldest[: len(kept) - MAX_DELETED]:
                await self.store.delete(DELETED, doc.key)

    async def stacks(self, account_id: str, region: str) -> list[Stack]:
        docs = await self.store.scan(KIND, f"{account_id}/{region}/")
        return [Stack.from_json(d.value, revision=d.revision) for d in docs]

    async def deleted(self, account_id: str, region: str) -> list[Stack]:
        docs = await self.store.scan(DELETED, f"{account_id}/{region}/")
        return [Stack.from_json(d.value) for d in docs]

    async def find(self, account_id: str, region: str, name_or_id: str) -> Stack | None:
        """A live stack by name or id, or a deleted one by id."""
        if not name_or_id.startswith("arn:"):
            return await self.get(account_id, region, name_or_id)
        parts = name_or_id.split(":", 5)
        if len(parts) < 6 or not parts[5].startswith("stack/"):
            return None
        name = parts[5].split("/")[1] if parts[5].count("/") >= 2 else ""
        live = await self.get(account_id, region, name) if name else None
        if live is not None and live.id == name_or_id:
            return live
        doc = await self.store.get(DELETED, f"{account_id}/{region}/{_id_key(name_or_id)}")
        return None if doc is None else Stack.from_json(doc.value)

    async def exports(self, account_id: str, region: str) -> dict[str, tuple[str, str]]:
        """Export name -> (value, exporting stack id) across the region's stacks."""
        out: dict[str, tuple[str, str]] = {}
        for stack in await self.stacks(account_id, region):
            for name, value in stack.exports().items():
                out[name] = (value, stack.id)
        return out

    async def all_in_progress(self) -> list[Stack]:
        docs = await self.store.scan(KIND, "")
        stacks = [Stack.from_json(d.value, revision=d.revision) for d in docs]
        return [s for s in stacks if s.status.in_progress]

    # ---- change sets ----
    async def put_change_set(self, cs: ChangeSet) -> None:
        await self.store.put(CHANGE_SETS, cs.key, cs.to_json())

    async def get_change_set(
        self, account_id: str, region: str, stack_name: str, name: str
    ) -> ChangeSet | None:
        doc = await self.store.get(CHANGE_SETS, f"{account_id}/{region}/{stack_name}/{name}")
        return None if doc is None else ChangeSet.from_json(doc.value)

    async def change_set_by_id(self, account_id: str, region: str, cs_id: str) -> ChangeSet | None:
        for doc in await self.store.scan(CHANGE_SETS, f"{account_id}/{region}/"):
            if doc.value.get("id") == cs_id:
                return ChangeSet.from_json(doc.value)
        return None

    async def change_sets(self, account_id: str, region: str, stack_name: str) -> list[ChangeSet]:
        docs = await self.store.scan(CHANGE_SETS, f"{account_id}/{region}/{stack_name}/")
        return sorted((ChangeSet.from_json(d.value) for d in docs), key=lambda c: c.created_at)

    async def delete_change_set(self, cs: ChangeSet) -> None:
        await self.store.delete(CHANGE_SETS, cs.key)


def _id_key(stack_id: str) -> str:
    """The part of a stack ARN after ``stack/``: ``name/uuid`` (no region or account)."""
    return stack_id.rsplit(":", 1)[-1].removeprefix("stack/")


class ThreadStackStore:
    """The engine's ``StackStore`` for one account, called from a worker thread: each call
    runs on the server's event loop and waits for it."""

    def __init__(
        self, repo: StackRepository, account_id: str, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.repo = repo
        self.account_id = account_id
        self.loop = loop

    def _wait(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run on the loop and wait; StackError when the server is stopping (its loop
        would never answer, and the thread would keep the process from exiting)."""
        if not self.loop.is_running():
            coro.close()
            raise StackError("the server is stopping")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout=WAIT_S)
        except TimeoutError:
            future.cancel()
            raise StackError("the store did not answer (is the server stopping?)") from None

    def get(self, region: str, name: str) -> Stack | None:
        return self._wait(self.repo.get(self.account_id, region, name))

    def put(self, stack: Stack) -> Stack:
        return self._wait(self.repo.put(stack))

    def delete(self, stack: Stack) -> None:
        self._wait(self.repo.delete(stack))

    def list(self, region: str) -> builtins.list[Stack]:
        return self._wait(self.repo.stacks(self.account_id, region))
