"""The CloudFormation API's operations on stacks (the domain side; change sets:
change_sets.py).

Each operation checks and plans at once (a bad template, missing capabilities or a stack
in the wrong state is an error of the call itself, as in AWS), saves the stack in its new
``*_IN_PROGRESS`` state, hands the deployment to the :class:`~sendoff.iac.runner.Runner`
and returns: CreateStack answers with the StackId before anything is created. The runner
runs the same :class:`~sendoff.iac.engine.Engine` as ``sendoff deploy``, in a worker
thread, calling the server's own APIs as the caller (their credentials, their account),
so a caller can create through a stack only what it could create directly.

Stack states (a CREATE change set makes a REVIEW_IN_PROGRESS stack)::

    REVIEW_IN_PROGRESS ─┐
                        ▼
    CreateStack ─► CREATE_IN_PROGRESS ─► CREATE_COMPLETE ─► UpdateStack ─► UPDATE_IN_PROGRESS
                        │                                     ┌──────────────────┴──────┐
                        ▼                                     ▼                         ▼
          ROLLBACK_IN_PROGRESS ─► ROLLBACK_COMPLETE    UPDATE_COMPLETE   UPDATE_ROLLBACK_* ─►
                                  (ROLLBACK_FAILED)                      UPDATE_ROLLBACK_COMPLETE
    DeleteStack ─► DELETE_IN_PROGRESS ─► DELETE_COMPLETE (kept by id) | DELETE_FAILED

A server that stops mid-deployment leaves no stack IN_PROGRESS for long: each deployment
records its runner (the server's ``identity``: host name and port), and ``recover`` marks
failed (ROLLBACK_FAILED, UPDATE_ROLLBACK_FAILED or DELETE_FAILED, with the reason) every
stack IN_PROGRESS that this server was running when it stopped (on start), or that nothing
has advanced for ``STALE_AFTER_S`` (its runner, another server or a ``sendoff deploy``
client, is gone; checked every minute). DeleteStack then removes what it made.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sendoff.iac import capabilities
from sendoff.iac.cfn_errors import (
    AlreadyExists,
    InsufficientCapabilities,
    LimitExceeded,
    ValidationError,
    stack_not_found,
)
from sendoff.iac.errors import IacError, TemplateError, UnsupportedError
from sendoff.iac.plan import Plan, prepare
from sendoff.iac.remote import Keys
from sendoff.iac.repository import StackRepository
from sendoff.iac.runner import Runner
from sendoff.iac.server_templates import (
    MAX_BODY,
    MAX_URL_TEMPLATE,
    ObjectReader,
    load_body,
    parse_s3_url,
)
from sendoff.iac.state import Stack, StackEvent, StackStatus, new_stack_id
from sendoff.iac.template import Template
from sendoff.model.json_types import JSON

log = logging.getLogger("sendoff.iac.cloudformation")

STACK_TYPE = "AWS::CloudFormation::Stack"
STACK_NAME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]{0,127}$")
CHANGE_SET_NAME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]{0,127}$")
NO_CHANGES = (
    "The submitted information didn't contain changes. "
    "Submit different information to create a change set."
)
UPDATABLE = frozenset(
    {
        StackStatus.CREATE_COMPLETE, StackStatus.UPDATE_COMPLETE,
        StackStatus.UPDATE_ROLLBACK_COMPLETE, StackStatus.UPDATE_ROLLBACK_FAILED,
    }
)  # fmt: skip
INTERRUPTED = {
    StackStatus.CREATE_IN_PROGRESS: StackStatus.ROLLBACK_FAILED,
    StackStatus.ROLLBACK_IN_PROGRESS: StackStatus.ROLLBACK_FAILED,
    StackStatus.UPDATE_IN_PROGRESS: StackStatus.UPDATE_ROLLBACK_FAILED,
    StackStatus.UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: StackStatus.UPDATE_ROLLBACK_FAILED,
    StackStatus.UPDATE_ROLLBACK_IN_PROGRESS: StackStatus.UPDATE_ROLLBACK_FAILED,
    StackStatus.DELETE_IN_PROGRESS: StackStatus.DELETE_FAILED,
}
ANSWER_WITHIN_S = 10.0
"""ExecuteChangeSet and DeleteStack answer when the work is done or after this long,
whichever comes first. The AWS CLI polls every 30 s after them (``aws cloudformation
deploy``, ``wait stack-delete-complete``): answering at once would make a one-second
deployment take half a minute. CreateStack and UpdateStack answer at once, as in AWS."""
STALE_AFTER_S = 900.0
"""An IN_PROGRESS stack with no event for this long has lost its runner (a resource waits
at most 120 s for the server's answer)."""
INTERRUPTED_REASON = (
    "the deployment stopped (its server or client went away) while this operation ran: "
    "delete the stack to remove what it made, or update it again"
)


@dataclass(frozen=True, kw_only=True)
class Caller:
    """Who calls, where, and the credentials the deployment signs its own calls with."""

    account_id: str
    region: str
    keys: Keys


@dataclass(frozen=True, kw_only=True)
class TemplateInput:
    body: str | None = None
    url: str | None = None
    use_previous: bool = False


@dataclass(frozen=True, kw_only=True)
class StackRequest:
    """What CreateStack, UpdateStack and CreateChangeSet are given."""

    stack_name: str
    template: TemplateInput
    parameters: Mapping[str, str] = field(default_factory=dict)
    use_previous: tuple[str, ...] = ()  # parameters with UsePreviousValue=true
    capabilities: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    description: str = ""


def user_event(stack: Stack, status: StackStatus, now: float) -> StackEvent:
    return StackEvent(
        timestamp=now,
        logical_id=stack.name,
        type=STACK_TYPE,
        status=status.value,
        physical_id=stack.id,
        reason="User Initiated",
    )


class ImportsSeen(dict[str, str]):
    """The region's exports, remembering which ones a template's Fn::ImportValue read."""

    def __init__(self, exports: Mapping[str, str]) -> None:
        super().__init__(exports)
        self.seen: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.seen.add(name)
        return super().__getitem__(name)


def imports_of(plan: Plan) -> tuple[str, ...]:
    exports = plan.context.exports
    return tuple(sorted(exports.seen)) if isinstance(exports, ImportsSeen) else ()


def shown_parameters(values: Mapping[str, str], no_echo: Sequence[str]) -> dict[str, str]:
    return {k: "****" if k in no_echo else v for k, v in values.items()}


class CloudFormation:
    def __init__(
        self,
        repo: StackRepository,
        runner: Runner,
        *,
        read_object: ObjectReader | None = None,
        clock: Callable[[], float] = time.time,
        answer_within_s: float = ANSWER_WITHIN_S,
        identity: str = "",
    ) -> None:
        self.identity = identity  # this server, as ``Stack.runner`` names it
        self.answer_within_s = answer_within_s
        self.repo = repo
        self.runner = runner
        self.read_object = read_object  # the built-in S3, when there is one
        self.clock = clock

    def _room(self) -> None:
        if self.runner.full:
            raise LimitExceeded(
                "Too many stack operations are in progress on this server; try again later."
            )

    # ---- lookups ----
    async def stack(self, caller: Caller, name_or_id: str) -> Stack:
        found = await self.repo.find(caller.account_id, caller.region, name_or_id)
        if found is None:
            raise stack_not_found(name_or_id)
        return found

    # ---- templates ----
    async def template_text(self, caller: Caller, given: TemplateInput) -> str:
        if given.body is not None:
            if len(given.body.encode()) > MAX_BODY:
                raise ValidationError(
                    "1 validation error detected: Value at 'templateBody' failed to satisfy "
                    f"constraint: Member must have length less than or equal to {MAX_BODY}"
                )
            return given.body
        if given.url is None:
            raise ValidationError("Either Template URL or Template Body must be specified.")
        located = parse_s3_url(given.url)
        if located is None:
            raise ValidationError(
                "TemplateURL must be a supported URL (an object in the built-in S3)."
            )
        data = (
            None
            if self.read_object is None
            else await self.read_object(caller.account_id, located[0], located[1])
        )
        if data is None:
            raise ValidationError(
                f"S3 error: Unable to get object at {given.url}: the object does not exist "
                "(the built-in S3 has no such bucket or key)"
            )
        if len(data) > MAX_URL_TEMPLATE:
            raise ValidationError(f"Template may not exceed {MAX_URL_TEMPLATE} bytes in size.")
        try:
            return data.decode()
        except UnicodeDecodeError:
            raise ValidationError("Template format error: the template is not UTF-8") from None

    @staticmethod
    def parse(text: str) -> tuple[Template, JSON]:
        try:
            return load_body(text)
        except TemplateError as exc:
            raise ValidationError(f"Template format error: {exc}") from None

    async def plan(
        self,
        caller: Caller,
        request: StackRequest,
        previous: Stack | None,
        *,
        change_set: bool,
        stack_id: str = "",
    ) -> Plan:
        """Check and plan a deployment of ``request`` over ``previous`` (None: a new stack,
        whose id ``AWS::StackId`` gives); a ValidationError or
        InsufficientCapabilities says what is wrong."""
        self._room()
        given = request.template
        if given.use_previous:
            if previous is None or (not previous.template_text and not previous.template):
                raise ValidationError("UsePreviousTemplate needs a stack with a template")
            text = previous.template_text or _json_text(previous.template)
        else:
            text = await self.template_text(caller, given)
        overrides = dict(request.parameters)
        for name in request.use_previous:
            if previous is not None and name in previous.parameters:
                overrides[name] = previous.parameters[name]
        exports = await self.repo.exports(caller.account_id, caller.region)

        def plan_it() -> Plan:  # parsing and planning a large template takes a while
            template, processed = self.parse(text)
            try:
                return prepare(
                    template,
                    processed,
                    stack_name=request.stack_name,
                    region=caller.region,
                    account_id=caller.account_id,
                    overrides=overrides,
                    previous=previous,
                    exports=ImportsSeen({k: v for k, (v, _) in exports.items()}),
                    previous_parameters=False,
                    stack_id=stack_id,
                )
            except UnsupportedError as exc:
                kinds = ", ".join(sorted(exc.unsupported))
                raise ValidationError(
                    f"Template format error: Unrecognized resource types: [{kinds}]"
                ) from None
            except TemplateError as exc:
                raise ValidationError(f"Template format error: {exc}") from None

        plan = await asyncio.to_thread(plan_it)
        template, processed = plan.template, plan.processed
        need = capabilities.required(
            processed, transformed=bool(template.transforms), change_set=change_set
        )
        lacking = capabilities.missing(need, request.capabilities)
        if lacking:
            raise InsufficientCapabilities(capabilities.message(lacking))
        return plan

    # ---- stacks ----
    async def create_stack(self, caller: Caller, request: StackRequest) -> str:
        check_name(request.stack_name)
        existing = await self.repo.get(caller.account_id, caller.region, request.stack_name)
        if existing is not None:
            raise AlreadyExists(f"Stack [{request.stack_name}] already exists")
        stack_id = new_stack_id(caller.account_id, caller.region, request.stack_name)
        plan = await self.plan(caller, request, None, change_set=False, stack_id=stack_id)
        now = self.clock()
        stack = Stack(
            name=request.stack_name,
            region=caller.region,
            account_id=caller.account_id,
            status=StackStatus.CREATE_IN_PROGRESS,
            stack_id=stack_id,
            created_at=now,
            updated_at=now,
            runner=self.identity,
        )
        stack = self.with_request(stack, plan, request)
        stack = stack.with_event(user_event(stack, StackStatus.CREATE_IN_PROGRESS, now))
        try:
            stack = await self.repo.put(stack)
        except IacError:
            raise AlreadyExists(f"Stack [{request.stack_name}] already exists") from None
        self.runner.deploy(caller.keys, plan, stack)
        return stack.id

    @staticmethod
    def with_request(stack: Stack, plan: Plan, request: StackRequest) -> Stack:
        return stack.evolve(
            template=plan.template.body,
            template_text=plan.template.text,
            processed=plan.processed,
            parameters=dict(plan.parameters.given),
            no_echo=tuple(sorted(plan.parameters.no_echo)),
            capabilities=tuple(request.capabilities),
            tags=dict(request.tags),
            imports=imports_of(plan),
        )

    async def update_stack(self, caller: Caller, request: StackRequest) -> str:
        stack = await self.updatable(caller, request.stack_name)
        plan = await self.plan(caller, request, stack, change_set=False)
        same_tags = not request.tags or dict(request.tags) == dict(stack.tags)  # none: kept
        if unchanged(plan, stack) and same_tags:
            raise ValidationError("No updates are to be performed.")
        claimed = await self.claim_update(stack, request, plan)
        self.runner.deploy(caller.keys, plan, claimed, then=self.settle_imports(plan))
        return stack.id

    async def updatable(self, caller: Caller, name_or_id: str) -> Stack:
        stack = await self.repo.find(caller.account_id, caller.region, name_or_id)
        if stack is None or stack.status is StackStatus.REVIEW_IN_PROGRESS:
            raise ValidationError(f"Stack [{name_or_id}] does not exist")
        if stack.status not in UPDATABLE:
            raise ValidationError(
                f"Stack:{stack.id} is in {stack.status.value} state and can not be updated."
            )
        return stack

    def settle_imports(self, plan: Plan) -> Callable[[Stack], Awaitable[None]]:
        """After an update: the stack imports what its new template imports (while it
        ran, and after a rollback, it kept the old imports too)."""

        async def settle(final: Stack) -> None:
            if final.status is not StackStatus.UPDATE_COMPLETE:
                return
            try:
                await self.repo.put(final.evolve(imports=imports_of(plan)))
            except IacError:  # changed meanwhile: the next deployment sets them
                return

        return settle

    async def claim_update(self, stack: Stack, request: StackRequest, plan: Plan) -> Stack:
        now = self.clock()
        imports = tuple(sorted({*stack.imports, *imports_of(plan)}))
        claimed = stack.evolve(
            status=StackStatus.UPDATE_IN_PROGRESS,
            reason="",
            updated_at=now,
            runner=self.identity,
            imports=imports,
        )
        claimed = claimed.with_event(user_event(stack, StackStatus.UPDATE_IN_PROGRESS, now))
        if request.capabilities or request.tags:
            claimed = claimed.evolve(
                capabilities=tuple(request.capabilities) or claimed.capabilities,
                tags=dict(request.tags) or dict(claimed.tags),
            )
        try:
            return await self.repo.put(claimed)
        except IacError:
            raise ValidationError(
                f"Stack:{stack.id} is in UPDATE_IN_PROGRESS state and can not be updated."
            ) from None

    async def delete_stack(self, caller: Caller, name_or_id: str) -> None:
        stack = await self.repo.find(caller.account_id, caller.region, name_or_id)
        if stack is None or stack.status in (
            StackStatus.DELETE_COMPLETE,
            StackStatus.DELETE_IN_PROGRESS,
        ):
            return  # AWS answers a delete of a missing or deleting stack with success
        if stack.status.in_progress:
            raise ValidationError(
                f"Stack [{stack.name}] cannot be deleted while in status {stack.status.value}"
            )
        self._room()
        await self._not_imported(caller, stack)
        now = self.clock()
        claimed = stack.evolve(
            status=StackStatus.DELETE_IN_PROGRESS, reason="", updated_at=now, runner=self.identity
        )
        claimed = claimed.with_event(user_event(stack, StackStatus.DELETE_IN_PROGRESS, now))
        claimed = await self.repo.put(claimed)
        await asyncio.wait([self.runner.delete(caller.keys, claimed)], timeout=self.answer_within_s)

    async def importers(self, caller: Caller, export: str) -> list[str]:
        """The stacks that import ``export`` (ListImports)."""
        stacks = await self.repo.stacks(caller.account_id, caller.region)
        return sorted(s.name for s in stacks if export in s.imports)

    async def _not_imported(self, caller: Caller, stack: Stack) -> None:
        for export in stack.exports():
            users = [n for n in await self.importers(caller, export) if n != stack.name]
            if users:
                raise ValidationError(
                    f"Export {export} cannot be deleted as it is in use by {', '.join(users)}"
                )

    async def list_stacks(self, caller: Caller, statuses: Sequence[str]) -> list[Stack]:
        live = await self.repo.stacks(caller.account_id, caller.region)
        gone = await self.repo.deleted(caller.account_id, caller.region)
        stacks = sorted([*live, *gone], key=lambda s: s.created_at, reverse=True)
        return [s for s in stacks if not statuses or s.status.value in statuses]

    async def describe_stacks(self, caller: Caller, name_or_id: str | None) -> list[Stack]:
        if name_or_id:
            return [await self.stack(caller, name_or_id)]
        stacks = await self.repo.stacks(caller.account_id, caller.region)
        return sorted(stacks, key=lambda s: s.created_at, reverse=True)

    async def exports(self, caller: Caller) -> dict[str, tuple[str, str]]:
        return await self.repo.exports(caller.account_id, caller.region)

    # ---- after a restart ----
    async def recover(self, *, starting: bool) -> int:
        """Mark failed the stacks left IN_PROGRESS by a runner that is gone: this server's
        own (``starting``: it just started, so it runs none) and any not advanced for
        ``STALE_AFTER_S``. Returns how many."""
        count = 0
        now = self.clock()
        for stack in await self.repo.all_in_progress():
            status = INTERRUPTED.get(stack.status)
            mine = starting and bool(self.identity) and stack.runner == self.identity
            if status is None or not (mine or now - stack.updated_at > STALE_AFTER_S):
                continue
            failed = stack.evolve(status=status, reason=INTERRUPTED_REASON, updated_at=now)
            failed = failed.with_event(
                StackEvent(
                    timestamp=now,
                    logical_id=stack.name,
                    type=STACK_TYPE,
                    status=status.value,
                    physical_id=stack.id,
                    reason=INTERRUPTED_REASON,
                )
            )
            try:
                await self.repo.put(failed)
            except IacError:  # it moved on meanwhile: not stuck after all
                continue
            log.warning("stack %s was %s with no runner: now %s",
                        stack.key, stack.status.value, status.value)  # fmt: skip
            count += 1
        return count


def check_name(name: str) -> None:
    if not STACK_NAME.match(name):
        raise ValidationError(
            f"1 validation error detected: Value '{name}' at 'stackName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "[a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*"
        )


def unchanged(plan: Plan, previous: Stack) -> bool:
    return (
        not plan.has_changes
        and previous.processed == plan.processed
        and dict(previous.parameters) == dict(plan.parameters.given)
    )


def _json_text(body: JSON) -> str:
    return json.dumps(body, indent=2)
