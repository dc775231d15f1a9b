"""Change sets: what an update would do, shown before it is done, and done on request.

CreateChangeSet plans at once (a change set is ``CREATE_COMPLETE``, or ``FAILED`` with AWS's
"didn't contain changes" reason, in the call's answer); a ``CREATE`` change set makes the
stack in ``REVIEW_IN_PROGRESS``. ExecuteChangeSet plans again against the stack as it is
then, and deploys like UpdateStack (or CreateStack); the executed change set stays
``EXECUTE_COMPLETE`` (``EXECUTE_FAILED``) and the stack's other change sets are deleted.
"""

from __future__ import annotations

import asyncio
import uuid

from sendoff.iac.cfn_errors import (
    AlreadyExists,
    ChangeSetNotFound,
    InvalidChangeSetStatus,
    ValidationError,
)
from sendoff.iac.cloudformation import (
    CHANGE_SET_NAME,
    NO_CHANGES,
    UPDATABLE,
    Caller,
    CloudFormation,
    StackRequest,
    TemplateInput,
    check_name,
    shown_parameters,
    unchanged,
    user_event,
)
from sendoff.iac.plan import Action, Change
from sendoff.iac.repository import ChangeSet
from sendoff.iac.resources import RESOURCE_TYPES
from sendoff.iac.state import Stack, StackStatus, new_stack_id
from sendoff.model.json_types import JSON


class ChangeSets:
    def __init__(self, stacks: CloudFormation) -> None:
        self.stacks = stacks

    async def create(
        self, caller: Caller, request: StackRequest, *, name: str, kind: str
    ) -> ChangeSet:
        check_name(request.stack_name)
        if not CHANGE_SET_NAME.match(name):
            raise ValidationError(
                f"1 validation error detected: Value '{name}' at 'changeSetName' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: "
                "[a-zA-Z][-a-zA-Z0-9]*"
            )
        if kind not in ("CREATE", "UPDATE"):
            raise ValidationError(f"ChangeSetType {kind} is not supported (CREATE or UPDATE)")
        existing = await self.stacks.repo.get(caller.account_id, caller.region, request.stack_name)
        if kind == "CREATE":
            if existing is not None and existing.status is not StackStatus.REVIEW_IN_PROGRESS:
                raise ValidationError(
                    f"Stack [{request.stack_name}] already exists and cannot be created again "
                    f"with the changeSet [{name}]."
                )
            previous = None
        else:
            previous = await self.stacks.updatable(caller, request.stack_name)
        same = None
        if existing is not None:
            same = await self.stacks.repo.get_change_set(
                caller.account_id, caller.region, request.stack_name, name
            )
        # a FAILED or executed one of the same name is replaced: `aws cloudformation deploy`
        # names its change sets by the second, and two runs against a fast server share one
        if same is not None and same.execution_status in ("AVAILABLE", "EXECUTE_IN_PROGRESS"):
            raise AlreadyExists(f"ChangeSet [{name}] already exists")
        stack_id = (
            existing.id
            if existing is not None
            else new_stack_id(caller.account_id, caller.region, request.stack_name)
        )
        plan = await self.stacks.plan(caller, request, previous, change_set=True, stack_id=stack_id)
        now = self.stacks.clock()
        if existing is None:
            stack = Stack(
                name=request.stack_name,
                region=caller.region,
                account_id=caller.account_id,
                status=StackStatus.REVIEW_IN_PROGRESS,
                stack_id=stack_id,
                created_at=now,
                updated_at=now,
            )
            stack = stack.with_event(user_event(stack, StackStatus.REVIEW_IN_PROGRESS, now))
            stack = await self.stacks.repo.put(stack)
        else:
            stack = existing
        changes = tuple(change_json(c, stack) for c in plan.changes if c.action is not Action.NONE)
        cs = ChangeSet(
            id=f"arn:aws:cloudformation:{caller.region}:{caller.account_id}:changeSet/"
            f"{name}/{uuid.uuid4()}",
            name=name,
            stack_name=stack.name,
            stack_id=stack.id,
            account_id=caller.account_id,
            region=caller.region,
            type=kind,
            created_at=now,
            template_text=plan.template.text,
            parameters=dict(request.parameters),
            use_previous=request.use_previous,
            capabilities=request.capabilities,
            tags=dict(request.tags),
            description=request.description,
            changes=changes,
            shown_parameters=shown_parameters(
                plan.parameters.given, sorted(plan.parameters.no_echo)
            ),
        )
        if kind == "UPDATE" and previous is not None and unchanged(plan, previous):
            cs = cs.evolve(
                status="FAILED", status_reason=NO_CHANGES, execution_status="UNAVAILABLE"
            )
        await self.stacks.repo.put_change_set(cs)
        return cs

    async def get(self, caller: Caller, name_or_id: str, stack_name: str | None) -> ChangeSet:
        found: ChangeSet | None = None
        if name_or_id.startswith("arn:"):
            found = await self.stacks.repo.change_set_by_id(
                caller.account_id, caller.region, name_or_id
            )
        elif stack_name:
            stack = await self.stacks.repo.find(caller.account_id, caller.region, stack_name)
            if stack is None:
                raise ValidationError(f"Stack [{stack_name}] does not exist")
            found = await self.stacks.repo.get_change_set(
                caller.account_id, caller.region, stack.name, name_or_id
            )
        else:
            raise ValidationError(
                "StackName must be specified if ChangeSetName is not specified as an ARN."
            )
        if found is None:
            raise ChangeSetNotFound(f"ChangeSet [{name_or_id}] does not exist")
        return found

    async def list(self, caller: Caller, stack_name: str) -> list[ChangeSet]:
        stack = await self.stacks.stack(caller, stack_name)
        return await self.stacks.repo.change_sets(caller.account_id, caller.region, stack.name)

    async def delete(self, caller: Caller, name_or_id: str, stack: str | None) -> None:
        cs = await self.get(caller, name_or_id, stack)
        if cs.execution_status == "EXECUTE_IN_PROGRESS":
            raise InvalidChangeSetStatus(
                f"ChangeSet [{cs.id}] cannot be deleted in its current status of "
                "[EXECUTE_IN_PROGRESS]"
            )
        await self.stacks.repo.delete_change_set(cs)

    async def execute(self, caller: Caller, name_or_id: str, stack: str | None) -> None:
        cs = await self.get(caller, name_or_id, stack)
        if cs.execution_status != "AVAILABLE":
            raise InvalidChangeSetStatus(
                f"ChangeSet [{cs.id}] cannot be executed in its current execution status of "
                f"[{cs.execution_status}]"
            )
        current = await self.stacks.stack(caller, cs.stack_id)
        request = StackRequest(
            stack_name=cs.stack_name,
            template=TemplateInput(body=cs.template_text),
            parameters=cs.parameters,
            use_previous=cs.use_previous,
            capabilities=cs.capabilities,
            tags=cs.tags,
        )
        fresh = current.status is StackStatus.REVIEW_IN_PROGRESS
        if fresh:
            previous = None
        elif current.status in UPDATABLE:
            previous = current
        else:
            raise InvalidChangeSetStatus(
                f"ChangeSet [{cs.id}] cannot be executed: stack {current.name} is "
                f"{current.status.value}"
            )
        plan = await self.stacks.plan(
            caller, request, previous, change_set=True, stack_id=current.id
        )
        now = self.stacks.clock()
        if fresh:
            claimed = self.stacks.with_request(current, plan, request).evolve(
                status=StackStatus.CREATE_IN_PROGRESS,
                updated_at=now,
                change_set_id=cs.id,
                runner=self.stacks.identity,
            )
            claimed = claimed.with_event(user_event(claimed, StackStatus.CREATE_IN_PROGRESS, now))
            claimed = await self.stacks.repo.put(claimed)
        else:
            claimed = await self.stacks.claim_update(current, request, plan)
            claimed = await self.stacks.repo.put(claimed.evolve(change_set_id=cs.id))
        for other in await self.stacks.repo.change_sets(
            caller.account_id, caller.region, cs.stack_name
        ):
            if other.id != cs.id:
                await self.stacks.repo.delete_change_set(other)
        await self.stacks.repo.put_change_set(cs.evolve(execution_status="EXECUTE_IN_PROGRESS"))

        settle = self.stacks.settle_imports(plan)

        async def finished(final: Stack) -> None:
            await settle(final)
            ok = final.status in (StackStatus.CREATE_COMPLETE, StackStatus.UPDATE_COMPLETE)
            status = "EXECUTE_COMPLETE" if ok else "EXECUTE_FAILED"
            await self.stacks.repo.put_change_set(cs.evolve(execution_status=status))

        task = self.stacks.runner.deploy(caller.keys, plan, claimed, then=finished)
        await asyncio.wait([task], timeout=self.stacks.answer_within_s)


def change_json(change: Change, stack: Stack) -> JSON:
    """A plan's Change as DescribeChangeSet shows it (the edge renders it)."""
    old = stack.resources.get(change.logical_id)
    return {
        "action": change.action.value,
        "logical_id": change.logical_id,
        "physical_id": old.physical_id if old is not None and change.action != Action.ADD else "",
        "type": change.type,
        "replacement": change.replacement if change.action is Action.MODIFY else "",
        "properties": list(change.properties),
        "recreation": {
            p: ("Always" if change.replacement == "True" and _create_only(change.type, p)
                else "Conditionally" if change.replacement == "Conditional"
                and _create_only(change.type, p) else "Never")
            for p in change.properties
        },
    }  # fmt: skip


def _create_only(type_name: str, prop: str) -> bool:
    rtype = RESOURCE_TYPES.get(type_name)
    return rtype is not None and prop in rtype.schema and rtype.schema[prop].create_only
