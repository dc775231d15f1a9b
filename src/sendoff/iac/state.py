"""What sendoff remembers about a stack, and where it keeps it.

A ``Stack`` is one JSON document (kind ``stack``, key ``account/region/name``) in the
server's store, read and written through ``/_sendoff/stacks``: the template as submitted,
the processed template that was applied, parameter values, each resource's physical id,
applied properties and attributes, the outputs, the status and the event history.
``StackStore`` is the seam: ``HttpStackStore`` (in :mod:`sendoff.iac.remote`) for the CLI,
``MemoryStackStore`` for tests.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

from sendoff.iac.errors import StackError
from sendoff.model.json_types import JSON

MAX_EVENTS = 500


def new_stack_id(account_id: str, region: str, name: str) -> str:
    """A stack's ARN, as CloudFormation makes them: a new one for every stack created."""
    return f"arn:aws:cloudformation:{region}:{account_id}:stack/{name}/{uuid.uuid4()}"


class StackStatus(enum.StrEnum):
    CREATE_IN_PROGRESS = "CREATE_IN_PROGRESS"
    CREATE_COMPLETE = "CREATE_COMPLETE"
    ROLLBACK_IN_PROGRESS = "ROLLBACK_IN_PROGRESS"
    ROLLBACK_COMPLETE = "ROLLBACK_COMPLETE"
    ROLLBACK_FAILED = "ROLLBACK_FAILED"
    UPDATE_IN_PROGRESS = "UPDATE_IN_PROGRESS"
    UPDATE_COMPLETE_CLEANUP_IN_PROGRESS = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
    UPDATE_COMPLETE = "UPDATE_COMPLETE"
    UPDATE_ROLLBACK_IN_PROGRESS = "UPDATE_ROLLBACK_IN_PROGRESS"
    UPDATE_ROLLBACK_COMPLETE = "UPDATE_ROLLBACK_COMPLETE"
    UPDATE_ROLLBACK_FAILED = "UPDATE_ROLLBACK_FAILED"
    DELETE_IN_PROGRESS = "DELETE_IN_PROGRESS"
    DELETE_COMPLETE = "DELETE_COMPLETE"
    DELETE_FAILED = "DELETE_FAILED"
    REVIEW_IN_PROGRESS = "REVIEW_IN_PROGRESS"  # made by a CREATE change set: nothing runs

    @property
    def in_progress(self) -> bool:
        """A deployment is running (REVIEW_IN_PROGRESS waits for one: it is not)."""
        return self.value.endswith("_IN_PROGRESS") and self is not StackStatus.REVIEW_IN_PROGRESS


# states after which a deployment left nothing of its own (a failed first deployment, or a
# stack a CREATE change set made and nothing deployed yet)
EMPTY_STATES = frozenset(
    {StackStatus.ROLLBACK_COMPLETE, StackStatus.DELETE_COMPLETE, StackStatus.REVIEW_IN_PROGRESS}
)
FAILED_STATES = frozenset(
    {
        StackStatus.ROLLBACK_COMPLETE, StackStatus.ROLLBACK_FAILED,
        StackStatus.UPDATE_ROLLBACK_COMPLETE, StackStatus.UPDATE_ROLLBACK_FAILED,
        StackStatus.DELETE_FAILED,
    }
)  # fmt: skip


class ResourceStatus(enum.StrEnum):
    CREATE_IN_PROGRESS = "CREATE_IN_PROGRESS"
    CREATE_COMPLETE = "CREATE_COMPLETE"
    CREATE_FAILED = "CREATE_FAILED"
    UPDATE_IN_PROGRESS = "UPDATE_IN_PROGRESS"
    UPDATE_COMPLETE = "UPDATE_COMPLETE"
    UPDATE_FAILED = "UPDATE_FAILED"
    DELETE_IN_PROGRESS = "DELETE_IN_PROGRESS"
    DELETE_COMPLETE = "DELETE_COMPLETE"
    DELETE_FAILED = "DELETE_FAILED"
    DELETE_SKIPPED = "DELETE_SKIPPED"


@dataclass(frozen=True, kw_only=True)
class ResourceState:
    logical_id: str
    type: str
    physical_id: str
    ref: str  # what Ref returns
    properties: JSON  # as applied, every intrinsic resolved
    attributes: JSON = field(default_factory=dict)  # what Fn::GetAtt returns
    status: ResourceStatus = ResourceStatus.CREATE_COMPLETE
    deletion_policy: str = "Delete"

    def to_json(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JSON) -> ResourceState:
        return cls(**{**data, "status": ResourceStatus(data["status"])})


@dataclass(frozen=True, kw_only=True)
class StackEvent:
    timestamp: float
    logical_id: str
    type: str
    status: str
    physical_id: str = ""
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class Output:
    value: str
    description: str = ""
    export: str | None = None


@dataclass(frozen=True, kw_only=True)
class Stack:
    name: str
    region: str
    account_id: str
    status: StackStatus
    reason: str = ""
    stack_id: str = ""  # the ARN (stacks saved before it existed: see ``id``)
    template: JSON = field(default_factory=dict)  # as submitted
    template_text: str = ""  # the template as written (GetTemplate returns it)
    capabilities: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    change_set_id: str = ""  # the change set last executed
    runner: str = ""  # the server running the deployment in progress ("": a client)
    imports: tuple[str, ...] = ()  # export names its template imports (Fn::ImportValue)
    processed: JSON = field(default_factory=dict)  # after transforms: what was applied
    template_path: str = ""
    parameters: Mapping[str, str] = field(default_factory=dict)
    no_echo: tuple[str, ...] = ()
    resources: Mapping[str, ResourceState] = field(default_factory=dict)
    pending: tuple[ResourceState, ...] = ()  # replaced, not yet deleted (during an update)
    outputs: Mapping[str, Output] = field(default_factory=dict)
    events: tuple[StackEvent, ...] = ()
    created_at: float = 0.0
    updated_at: float = 0.0
    revision: int = 0  # the store's revision; 0 for a stack not saved yet

    @property
    def key(self) -> str:
        return f"{self.account_id}/{self.region}/{self.name}"

    @property
    def id(self) -> str:
        """The stack's ARN; for a stack saved without one, a stable one derived from it."""
        if self.stack_id:
            return self.stack_id
        derived = uuid.uuid5(uuid.NAMESPACE_URL, f"{self.key}/{self.created_at}")
        return f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.name}/{derived}"

    def evolve(self, **changes: Any) -> Stack:
        return replace(self, **changes)

    def with_event(self, event: StackEvent) -> Stack:
        return replace(self, events=(*self.events, event)[-MAX_EVENTS:])

    def to_json(self) -> JSON:
        return {
            "name": self.name,
            "region": self.region,
            "account_id": self.account_id,
            "status": self.status.value,
            "reason": self.reason,
            "stack_id": self.stack_id,
            "template": self.template,
            "template_text": self.template_text,
            "capabilities": list(self.capabilities),
            "tags": dict(self.tags),
            "change_set_id": self.change_set_id,
            "runner": self.runner,
            "imports": list(self.imports),
            "processed": self.processed,
            "template_path": self.template_path,
            "parameters": dict(self.parameters),
            "no_echo": list(self.no_echo),
            "resources": {k: v.to_json() for k, v in self.resources.items()},
            "pending": [r.to_json() for r in self.pending],
            "outputs": {k: asdict(v) for k, v in self.outputs.items()},
            "events": [asdict(e) for e in self.events],
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_json(cls, data: JSON, *, revision: int = 0) -> Stack:
        return cls(
            name=data["name"],
            region=data["region"],
            account_id=data["account_id"],
            status=StackStatus(data["status"]),
            reason=data.get("reason", ""),
            stack_id=data.get("stack_id", ""),
            template=data.get("template") or {},
            template_text=data.get("template_text", ""),
            capabilities=tuple(data.get("capabilities") or ()),
            tags=data.get("tags") or {},
            change_set_id=data.get("change_set_id", ""),
            runner=data.get("runner", ""),
            imports=tuple(data.get("imports") or ()),
            processed=data.get("processed") or {},
            template_path=data.get("template_path", ""),
            parameters=data.get("parameters") or {},
            no_echo=tuple(data.get("no_echo") or ()),
            resources={
                k: ResourceState.from_json(v) for k, v in (data.get("resources") or {}).items()
            },
            pending=tuple(ResourceState.from_json(r) for r in data.get("pending") or ()),
            outputs={k: Output(**v) for k, v in (data.get("outputs") or {}).items()},
            events=tuple(StackEvent(**e) for e in data.get("events") or ()),
            created_at=data.get("created_at", 0.0),
            updated_at=data.get("updated_at", 0.0),
            revision=revision,
        )

    def summary(self) -> JSON:
        return {
            "name": self.name,
            "region": self.region,
            "status": self.status.value,
            "reason": self.reason,
            "resources": len(self.resources),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    def exports(self) -> dict[str, str]:
        return {o.export: o.value for o in self.outputs.values() if o.export}


class StackStore(Protocol):
    """Where stacks live. ``put`` is a compare-and-swap on ``stack.revision``."""

    def get(self, region: str, name: str) -> Stack | None: ...

    def put(self, stack: Stack) -> Stack:
        """Save; returns the stack with its new revision. StackError if it changed since."""
        ...

    def delete(self, stack: Stack) -> None: ...

    def list(self, region: str) -> list[Stack]: ...


class MemoryStackStore:
    """Stacks in a dict: for tests and for dry runs."""

    def __init__(self) -> None:
        self.docs: dict[tuple[str, str], Stack] = {}

    def get(self, region: str, name: str) -> Stack | None:
        return self.docs.get((region, name))

    def put(self, stack: Stack) -> Stack:
        current = self.docs.get((stack.region, stack.name))
        if (current.revision if current else 0) != stack.revision:
            raise StackError(f"stack {stack.name} was changed by another deployment")
        saved = replace(stack, revision=stack.revision + 1)
        self.docs[(stack.region, stack.name)] = saved
        return saved

    def delete(self, stack: Stack) -> None:
        self.docs.pop((stack.region, stack.name), None)

    def list(self, region: str) -> list[Stack]:
        return [s for (r, _), s in sorted(self.docs.items()) if r == region]
