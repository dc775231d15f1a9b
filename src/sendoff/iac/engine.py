"""Carry out a plan: create, update, replace and delete resources, or roll back.

Like CloudFormation, a deployment walks the resources in dependency order, resolving
each one's properties from what is already deployed: a resource whose properties did not
change is kept; a change of a create-only property creates a new resource (the old one is
deleted at the end, in the clean-up); other changes update in place. Resources no longer
in the template are deleted in the clean-up too, in reverse dependency order, honouring
``DeletionPolicy: Retain``. If anything fails, every step taken is undone in reverse
(created resources deleted, updated ones updated back) and the stack keeps its previous
template, parameters and outputs: the previous version keeps working.

Every step is an event; the stack document is saved after each one, so a crash leaves a
record of every resource that exists.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sendoff.iac.errors import IacError, Problem, ResourceFailed, StackError, format_path
from sendoff.iac.intrinsics import IntrinsicError, resolve
from sendoff.iac.plan import Plan
from sendoff.iac.resources import RESOURCE_TYPES, Applied, Cloud, ResourceType
from sendoff.iac.resources.base import aws_message, check_properties
from sendoff.iac.state import (
    EMPTY_STATES,
    Output,
    ResourceState,
    ResourceStatus,
    Stack,
    StackEvent,
    StackStatus,
    StackStore,
    new_stack_id,
)
from sendoff.model.json_types import JSON

STACK_TYPE = "AWS::CloudFormation::Stack"
REPLACING = "Requested update requires the creation of a new physical resource; hence creating one."


def _failure(logical_id: str, problems: list[Problem]) -> ResourceFailed:
    """A resource's property problems found during deployment, as one failure."""
    if len(problems) == 1:
        prop = format_path(problems[0].path[3:]) or None
        return ResourceFailed(logical_id, problems[0].message, prop=prop)
    return ResourceFailed(logical_id, "; ".join(str(p) for p in problems))


def _rollback_reason(run: _Run, reason: str) -> str:
    """The rollback event's reason as CloudFormation words it, naming the failed resources
    (the stack's own reason keeps the error itself); ``reason`` when no resource failed."""
    if not run.failed:
        return reason
    verb = run.failed[0][1]
    names = ", ".join(logical_id for logical_id, _ in run.failed)
    return f"The following resource(s) failed to {verb}: [{names}]. Rollback requested by user."


class Listener(Protocol):
    def event(self, event: StackEvent) -> None: ...


class NullListener:
    def event(self, event: StackEvent) -> None:
        return None


@dataclass(kw_only=True)
class _Run:
    """The mutable state of one deployment."""

    stack: Stack
    live: dict[str, ResourceState] = field(default_factory=dict)
    journal: list[tuple[str, ResourceState | None, ResourceState]] = field(default_factory=list)
    replaced: dict[str, ResourceState] = field(default_factory=dict)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (logical id, create|update)


class LiveLookup:
    """Resources as deployed so far in this deployment."""

    def __init__(
        self,
        resources: Mapping[str, JSON],
        live: Mapping[str, ResourceState],
        types: Mapping[str, ResourceType],
    ) -> None:
        self.resources = resources
        self.live = live
        self.types = types

    def has(self, name: str) -> bool:
        return name in self.resources

    def ref(self, name: str) -> Any:
        return self.live[name].ref

    def get_att(self, name: str, attribute: str) -> Any:
        state = self.live[name]
        if attribute not in self.types[state.type].attributes or attribute not in state.attributes:
            raise LookupError(f"{name} ({state.type}) has no attribute {attribute!r}")
        return state.attributes[attribute]


class Engine:
    def __init__(
        self,
        *,
        cloud: Cloud,
        store: StackStore,
        listener: Listener | None = None,
        types: Mapping[str, ResourceType] = RESOURCE_TYPES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cloud = cloud
        self.store = store
        self.listener = listener or NullListener()
        self.types = types
        self.clock = clock

    # ---- events and saving ----
    def _emit(
        self,
        run: _Run,
        logical_id: str,
        type_name: str,
        status: str,
        physical_id: str = "",
        reason: str = "",
    ) -> None:
        event = StackEvent(
            timestamp=self.clock(),
            logical_id=logical_id,
            type=type_name,
            status=status,
            physical_id=physical_id,
            reason=reason,
        )
        self.listener.event(event)
        run.stack = run.stack.with_event(event)

    def _save(self, run: _Run, **changes: Any) -> None:
        run.stack = self.store.put(run.stack.evolve(updated_at=self.clock(), **changes))

    def _stack_status(
        self, run: _Run, status: StackStatus, reason: str = "", *, event_reason: str | None = None
    ) -> None:
        """Save the stack's status and reason; its event says ``event_reason`` if given."""
        said = reason if event_reason is None else event_reason
        self._emit(run, run.stack.name, STACK_TYPE, status.value, run.stack.id, said)
        self._save(run, status=status, reason=reason)

    # ---- deploy ----
    def deploy(self, plan: Plan, *, claimed: Stack | None = None) -> Stack:
        """Apply a plan; returns the final stack (check its status: rolled back or not).

        ``claimed`` is the stack already saved as CREATE_IN_PROGRESS or UPDATE_IN_PROGRESS
        by the caller (the CloudFormation API answers before the deployment runs)."""
        previous = plan.previous
        if claimed is None and previous is not None and previous.status.in_progress:
            raise StackError(
                f"stack {plan.stack_name} is {previous.status.value}: another deployment is "
                "running (or was interrupted; `sendoff stacks delete` removes what it made)"
            )
        fresh = previous is None or previous.status in EMPTY_STATES
        before = {} if fresh or previous is None else dict(previous.resources)
        if claimed is not None:
            run = _Run(stack=claimed)
        else:
            start = self.starting(
                plan.stack_name, plan.region, plan.account_id, previous, plan.context.stack_id
            )
            run = _Run(stack=start.evolve(runner=""))  # run here, by a client
            self._stack_status(
                run, StackStatus.CREATE_IN_PROGRESS if fresh else StackStatus.UPDATE_IN_PROGRESS
            )
        try:
            for logical_id in plan.graph.order:
                self._apply(plan, run, logical_id, before)
            outputs = self._outputs(plan, run)
        except (IacError, KeyboardInterrupt) as exc:
            reason = str(exc) if isinstance(exc, IacError) else "cancelled by the user"
            return self._roll_back(plan, run, before, fresh=fresh, reason=reason)
        final = StackStatus.CREATE_COMPLETE if fresh else StackStatus.UPDATE_COMPLETE
        self._save(
            run,
            template=plan.template.body,
            template_text=plan.template.text,
            processed=plan.processed,
            template_path=plan.template.source,
            parameters=dict(plan.parameters.given),
            no_echo=tuple(sorted(plan.parameters.no_echo)),
            outputs=outputs,
            resources={**before, **run.live},
        )
        if not fresh:
            self._stack_status(run, StackStatus.UPDATE_COMPLETE_CLEANUP_IN_PROGRESS)
            self._clean_up(run, before)
        self._stack_status(run, final)
        return run.stack

    def starting(
        self,
        name: str,
        region: str,
        account_id: str,
        previous: Stack | None,
        stack_id: str = "",
    ) -> Stack:
        """The stack a deployment starts from: a new one (``stack_id``, the one the plan's
        ``AWS::StackId`` gave, or a new id) unless it updates one."""
        now = self.clock()
        if previous is not None and previous.status not in EMPTY_STATES:
            return previous
        keep = previous is not None and previous.status is StackStatus.REVIEW_IN_PROGRESS
        base = previous or Stack(
            name=name,
            region=region,
            account_id=account_id,
            status=StackStatus.CREATE_IN_PROGRESS,
            created_at=now,
        )
        return base.evolve(
            created_at=now,
            stack_id=base.stack_id if keep else stack_id or new_stack_id(account_id, region, name),
            resources={},
            outputs={},
            events=base.events if keep else (),
            change_set_id=base.change_set_id if keep else "",
        )

    def _apply(
        self, plan: Plan, run: _Run, logical_id: str, before: Mapping[str, ResourceState]
    ) -> None:
        resource = plan.resources[logical_id]
        type_name = resource["Type"]
        rtype = self.types[type_name]
        old = before.get(logical_id)
        lookup = LiveLookup(plan.resources, run.live, self.types)
        path = ("Resources", logical_id, "Properties")
        try:
            props = resolve(
                resource.get("Properties") or {}, plan.context.with_resources(lookup), path
            )
        except IntrinsicError as exc:
            failure = _failure(logical_id, [exc.problem])
            status = "CREATE_FAILED" if old is None else "UPDATE_FAILED"
            self._emit(run, logical_id, type_name, status, reason=failure.reason)
            raise failure from None
        props, problems, _ = check_properties(rtype, props, path)
        policy = str(resource.get("DeletionPolicy", "Delete"))
        if old is not None and old.type == type_name and old.properties == props and not problems:
            run.live[logical_id] = replace(old, deletion_policy=policy)
            return
        replacing = old is not None and (
            old.type != type_name or rtype.needs_replacement(old.properties, props)
        )
        creating = old is None or replacing
        verb = "CREATE" if creating else "UPDATE"
        self._emit(
            run,
            logical_id,
            type_name,
            f"{verb}_IN_PROGRESS",
            old.physical_id if old and not creating else "",
            REPLACING if replacing else "",
        )
        try:
            if problems:
                raise _failure(logical_id, problems)
            if replacing and old is not None:
                self._check_rename(rtype, logical_id, old, props)
            if creating:
                applied = self._call(
                    logical_id, lambda: rtype.create(self.cloud, logical_id, props)
                )
            else:
                assert old is not None
                applied = self._call(logical_id, lambda: rtype.update(self.cloud, old, props))
        except ResourceFailed as exc:
            self._emit(run, logical_id, type_name, f"{verb}_FAILED", reason=exc.reason)
            run.failed.append((logical_id, verb.lower()))
            if old is not None and not creating:
                attempted = replace(old, properties=props)
                run.journal.append(("update", old, attempted))
            raise
        state = ResourceState(
            logical_id=logical_id,
            type=type_name,
            physical_id=applied.physical_id,
            ref=applied.ref,
            properties=props,
            attributes=applied.attributes,
            deletion_policy=policy,
            status=ResourceStatus(f"{verb}_COMPLETE"),
        )
        run.live[logical_id] = state
        run.journal.append(("create" if creating else "update", old, state))
        if replacing and old is not None:
            run.replaced[logical_id] = old
        self._emit(run, logical_id, type_name, f"{verb}_COMPLETE", state.physical_id)
        self._save(run, resources={**before, **run.live}, pending=tuple(run.replaced.values()))

    def _check_rename(
        self, rtype: ResourceType, logical_id: str, old: ResourceState, props: JSON
    ) -> None:
        prop = rtype.name_property
        if prop and props.get(prop) is not None and props.get(prop) == old.properties.get(prop):
            changed = ", ".join(rtype.needs_replacement(old.properties, props))
            raise ResourceFailed(
                logical_id,
                f"changing {changed} needs a new resource, but its {prop} {props[prop]!r} is "
                f"fixed: change (or remove) {prop} as well, and deploy again",
                prop=prop,
            )

    @staticmethod
    def _call(logical_id: str, action: Callable[[], Applied]) -> Applied:
        try:
            return action()
        except IacError:
            raise
        except Exception as exc:
            raise ResourceFailed(logical_id, aws_message(exc)) from exc

    def _outputs(self, plan: Plan, run: _Run) -> dict[str, Output]:
        lookup = LiveLookup(plan.resources, run.live, self.types)
        ctx = plan.context.with_resources(lookup)
        outputs: dict[str, Output] = {}
        for name, spec in plan.template.with_body(plan.processed).outputs.items():
            condition = spec.get("Condition")
            if condition is not None and not plan.context.conditions.get(condition, False):
                continue
            try:
                value = resolve(spec.get("Value"), ctx, ("Outputs", name, "Value"))
                export = resolve(
                    (spec.get("Export") or {}).get("Name"), ctx, ("Outputs", name, "Export")
                )
            except IntrinsicError as exc:
                raise IacError(str(exc.problem)) from None
            text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
            outputs[name] = Output(
                value=text,
                description=str(spec.get("Description", "")),
                export=str(export) if export else None,
            )
        return outputs

    def _delete_one(self, run: _Run, state: ResourceState, *, retain: bool = True) -> bool:
        """Delete a resource with events; False if it failed (the event says why)."""
        if retain and state.deletion_policy.startswith("Retain"):
            self._emit(
                run,
                state.logical_id,
                state.type,
                "DELETE_SKIPPED",
                state.physical_id,
                "DeletionPolicy Retain",
            )
            return True
        self._emit(run, state.logical_id, state.type, "DELETE_IN_PROGRESS", state.physical_id)
        try:
            self._call(state.logical_id, lambda: self._do_delete(state))
        except ResourceFailed as exc:
            self._emit(
                run, state.logical_id, state.type, "DELETE_FAILED", state.physical_id, exc.reason
            )
            return False
        self._emit(run, state.logical_id, state.type, "DELETE_COMPLETE", state.physical_id)
        return True

    def _do_delete(self, state: ResourceState) -> Applied:
        rtype = self.types.get(state.type)
        if rtype is not None:
            rtype.delete(self.cloud, state)
        return Applied(physical_id=state.physical_id, ref=state.ref)

    def _clean_up(self, run: _Run, before: Mapping[str, ResourceState]) -> None:
        for logical_id in reversed(list(before)):
            old = before[logical_id]
            if logical_id in run.replaced:
                self._delete_one(run, run.replaced[logical_id])
            elif logical_id not in run.live:
                self._delete_one(run, old)
        self._save(run, resources=dict(run.live), pending=())

    def _roll_back(
        self,
        plan: Plan,
        run: _Run,
        before: Mapping[str, ResourceState],
        *,
        fresh: bool,
        reason: str,
    ) -> Stack:
        status = (
            StackStatus.ROLLBACK_IN_PROGRESS if fresh else StackStatus.UPDATE_ROLLBACK_IN_PROGRESS
        )
        self._stack_status(run, status, reason, event_reason=_rollback_reason(run, reason))
        stuck: dict[str, ResourceState] = {}  # could not be undone: still tracked
        stuck_new: list[ResourceState] = []  # replacements that could not be deleted
        for kind, old, new in reversed(run.journal):
            if kind == "create":
                if not self._delete_one(run, new, retain=False):
                    if old is None:
                        stuck[new.logical_id] = new
                    else:
                        stuck_new.append(new)
            elif old is not None and not self._undo_update(run, old, new):
                stuck[new.logical_id] = new
        failed = bool(stuck or stuck_new)
        if fresh:
            final = StackStatus.ROLLBACK_FAILED if failed else StackStatus.ROLLBACK_COMPLETE
            resources: dict[str, ResourceState] = dict(stuck)
        else:
            final = (
                StackStatus.UPDATE_ROLLBACK_FAILED
                if failed
                else StackStatus.UPDATE_ROLLBACK_COMPLETE
            )
            resources = {**before, **stuck}
        self._save(run, resources=resources, pending=tuple(stuck_new))
        self._stack_status(run, final, reason, event_reason="")
        return run.stack

    def _undo_update(self, run: _Run, old: ResourceState, new: ResourceState) -> bool:
        self._emit(
            run, new.logical_id, new.type, "UPDATE_IN_PROGRESS", new.physical_id, "rolling back"
        )
        rtype = self.types[new.type]
        try:
            self._call(new.logical_id, lambda: rtype.update(self.cloud, new, old.properties))
        except ResourceFailed as exc:
            self._emit(run, new.logical_id, new.type, "UPDATE_FAILED", new.physical_id, exc.reason)
            return False
        self._emit(run, new.logical_id, new.type, "UPDATE_COMPLETE", new.physical_id)
        return True

    # ---- delete ----
    def delete(self, stack: Stack, *, claimed: bool = False) -> Stack:
        """Delete every resource of a stack, then the stack; DELETE_FAILED keeps the rest.
        ``claimed``: the caller already saved the stack as DELETE_IN_PROGRESS."""
        run = _Run(stack=stack)
        if not claimed:
            self._stack_status(run, StackStatus.DELETE_IN_PROGRESS)
        remaining: dict[str, ResourceState] = {}
        for state in reversed([*stack.resources.values(), *stack.pending]):
            if not self._delete_one(run, state):
                remaining[state.logical_id] = state
        if remaining:
            self._save(run, resources=remaining, pending=())
            self._stack_status(run, StackStatus.DELETE_FAILED, "some resources were not deleted")
            return run.stack
        self._emit(run, stack.name, STACK_TYPE, StackStatus.DELETE_COMPLETE.value, stack.id)
        self.store.delete(run.stack)
        return run.stack.evolve(status=StackStatus.DELETE_COMPLETE, resources={})
