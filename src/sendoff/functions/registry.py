"""Functions, versions, aliases and concurrency, persisted as documents in the store.

Keys: ``function``  ``ACCOUNT/REGION/NAME``
      ``version``   ``ACCOUNT/REGION/NAME/00000001``   (zero-padded so scans come in order)
      ``alias``     ``ACCOUNT/REGION/NAME/ALIAS``
A function's other documents (``event-invoke-config``, ``function-policy``) are keyed
``ACCOUNT/REGION/NAME/QUALIFIER`` and deleted with the function, version or alias.
"""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from sendoff.errors import ConflictError
from sendoff.functions.code_source import S3CodeFetch
from sendoff.functions.errors import (
    InvalidParameterValue,
    PreconditionFailed,
    ResourceConflict,
    ResourceNotFound,
)
from sendoff.functions.lifecycle import (
    ACTIVE,
    IN_PROGRESS,
    PENDING,
    SUCCESSFUL,
    Failure,
    Transitions,
    check_can_change,
    finished,
    settled,
)
from sendoff.functions.permissions import ExecutionRoleCheck, InvokeCheck
from sendoff.model.arn import ALIAS_RE, FunctionRef, parse_function_name
from sendoff.model.clock import Clock, system_clock
from sendoff.model.digits import is_digits
from sendoff.model.function import LATEST, AliasConfig, FunctionConfig
from sendoff.model.scope import Scope
from sendoff.store import Doc, Store
from sendoff.store.cache import DocCache

ACCOUNT_CONCURRENCY = 1000
MIN_UNRESERVED = 100


@dataclass(frozen=True, kw_only=True)
class FunctionState:
    """The $LATEST configuration plus function-level settings."""

    latest: FunctionConfig
    next_version: int = 1
    reserved_concurrency: int | None = None
    recursive_loop: str = "Terminate"
    tags: dict[str, str] | None = None
    revision: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "latest": self.latest.to_json(),
            "next_version": self.next_version,
            "reserved_concurrency": self.reserved_concurrency,
            "recursive_loop": self.recursive_loop,
            "tags": self.tags or {},
        }

    @classmethod
    def from_doc(cls, doc: Doc) -> FunctionState:
        v = doc.value
        return cls(
            latest=FunctionConfig.from_json(v["latest"]),
            next_version=v["next_version"],
            reserved_concurrency=v.get("reserved_concurrency"),
            recursive_loop=v.get("recursive_loop", "Terminate"),
            tags=v.get("tags") or {},
            revision=doc.revision,
        )


@dataclass(frozen=True, kw_only=True)
class Resolved:
    """What an invoke (or config call) of some qualifier of a function refers to."""

    scope: Scope
    state: FunctionState
    config: FunctionConfig  # the configuration that will run
    qualifier: str  # as invoked: $LATEST, a version number or an alias name
    alias: AliasConfig | None

    @property
    def executed_version(self) -> str:
        return self.config.version

    @property
    def qualified_arn(self) -> str:
        return self.scope.function_arn(self.config.name, self.qualifier)

    @property
    def unqualified_arn(self) -> str:
        return self.scope.function_arn(self.config.name)


def new_revision_id() -> str:
    return str(uuid.uuid4())


class FunctionRegistry:
    def __init__(self, store: Store, *, clock: Clock = system_clock) -> None:
        self.store = store
        self.docs = DocCache(store)  # hot lookups; every write below goes through it
        self.clock = clock
        # checks the execution role's permissions (functions.permissions); set by the IAM
        # wiring under --iam enforce, None otherwise
        self.role_check: ExecutionRoleCheck | None = None
        # checks a caller from another account against the function's resource policy
        # (functions.policy_access); set by the IAM wiring under --iam enforce
        self.invoke_check: InvokeCheck | None = None
        # reads a code package from S3 (functions.code_source); set by the S3 wiring
        self.s3_code: S3CodeFetch | None = None
        # the Pending -> Active / InProgress -> Successful transitions (functions.lifecycle);
        # None: changes take effect at once (functions are Active from the start)
        self.transitions: Transitions | None = None

    def enable_transitions(self, prepare: Callable[[str], Awaitable[object]]) -> Transitions:
        self.transitions = Transitions(self, prepare)
        return self.transitions

    # ---- naming ----
    def parse(
        self, scope: Scope, function_name: str, qualifier: str | None = None
    ) -> tuple[Scope, FunctionRef]:
        ref = parse_function_name(function_name)
        if ref is None:
            raise _bad_name(function_name)
        if qualifier is not None and ref.qualifier is not None and qualifier != ref.qualifier:
            raise InvalidParameterValue(
                "The derived qualifier from the function name does not match the specified"
                " qualifier."
            )
        scope = Scope(
            account_id=ref.account_id or scope.account_id, region=ref.region or scope.region
        )
        if qualifier is not None and ref.qualifier is None:
            ref = replace(ref, qualifier=qualifier)
        return scope, ref

    # ---- functions ----
    async def load(self, scope: Scope, name: str, *, qualifier: str | None = None) -> FunctionState:
        key = f"{scope.key}/{name}"
        state = await self.docs.get_decoded("function", key, FunctionState.from_doc)
        if state is None:
            raise ResourceNotFound(f"Function not found: {scope.function_arn(name, qualifier)}")
        return state

    async def save(self, scope: Scope, state: FunctionState) -> FunctionState:
        try:
            doc = await self.docs.put(
                "function",
                f"{scope.key}/{state.latest.name}",
                state.to_json(),
                expect=state.revision,
            )
        except ConflictError as exc:
            if state.revision == 0:
                raise ResourceConflict(f"Function already exist: {state.latest.name}") from exc
            raise ResourceConflict(
                "The operation cannot be performed at this time. An update is in progress for"
                f" resource: {scope.function_arn(state.latest.name)}"
            ) from exc
        return replace(state, revision=doc.revision)

    async def create(
        self,
        scope: Scope,
        config: FunctionConfig,
        code: bytes,
        *,
        tags: dict[str, str],
        start: bool = True,
    ) -> FunctionState:
        """Save a new function; with transitions on, it is Pending and its preparation
        starts now, or, with ``start=False``, when the caller calls :meth:`start` (after
        publishing a version from it, so that the preparation settles that version too)."""
        await self.store.put_blob(config.code_sha256, code)
        config = replace(config, last_modified=self.clock(), revision_id=new_revision_id())
        if self.transitions is not None:
            config = replace(config, state=PENDING, last_update="")
        state = await self.save(scope, FunctionState(latest=config, tags=tags))
        if start:
            self.start(scope, state.latest)
        return state

    def start(self, scope: Scope, latest: FunctionConfig) -> None:
        """Start preparing what a create or update saved (functions.lifecycle)."""
        if self.transitions is not None and not settled(latest):
            self.transitions.begin(scope, latest)

    async def update_latest(
        self,
        scope: Scope,
        name: str,
        changes: dict[str, Any],
        *,
        code: bytes | None = None,
        revision_id: str | None = None,
        start: bool = True,
    ) -> FunctionState:
        state = await self._load_for_change(scope, name)
        _check_revision(state.latest.revision_id, revision_id)
        check_can_change(scope.function_arn(name), state.latest)
        if code is not None:
            await self.store.put_blob(changes["code_sha256"], code)
        latest = replace(
            state.latest, **changes, last_modified=self.clock(), revision_id=new_revision_id()
        )
        if self.transitions is not None:
            latest = replace(latest, last_update=IN_PROGRESS)
        state = await self.save(scope, replace(state, latest=latest))
        if start:
            self.start(scope, state.latest)
        return state

    async def _load_for_change(self, scope: Scope, name: str) -> FunctionState:
        """The function as a change must see it: an unsettled state may be a cached copy
        another process has settled since, so that one is read again from the store."""
        state = await self.load(scope, name)
        if settled(state.latest):
            return state
        self.docs.forget("function", f"{scope.key}/{name}")
        return await self.load(scope, name)

    async def settle(
        self, scope: Scope, name: str, revision_id: str, *, failure: Failure | None = None
    ) -> None:
        """End the transition $LATEST at `revision_id` is in (a newer change has its own),
        and that of the versions published from it meanwhile (first, so that a caller who
        sees $LATEST settled finds its versions settled too)."""
        for _ in range(10):
            self.docs.forget("function", f"{scope.key}/{name}")
            try:
                state = await self.load(scope, name)
            except ResourceNotFound:
                return  # deleted meanwhile
            latest = state.latest
            if latest.revision_id != revision_id or settled(latest):
                return
            await self._settle_versions(scope, name, latest.code_sha256, failure)
            try:
                await self.save(
                    scope, replace(state, latest=finished(latest, failure, new_revision_id()))
                )
                return
            except ResourceConflict:
                continue  # a settings change raced this one: read again

    async def _settle_versions(
        self, scope: Scope, name: str, code_sha256: str, failure: Failure | None
    ) -> None:
        for doc in await self.store.scan("version", f"{scope.key}/{name}/"):
            version = FunctionConfig.from_json(doc.value)
            if version.state != PENDING or version.code_sha256 != code_sha256:
                continue
            done = finished(version, failure, new_revision_id())
            with contextlib.suppress(ConflictError):
                await self.docs.put("version", doc.key, done.to_json(), expect=doc.revision)

    def nudge(self, scope: Scope, latest: FunctionConfig) -> None:
        """Restart the transition of a $LATEST left unsettled for long (functions.lifecycle)."""
        if self.transitions is not None:
            self.transitions.nudge(scope, latest)

    async def refresh(self, scope: Scope, name: str, qualifier: str | None) -> None:
        """Forget the cached documents behind `name[:qualifier]` (another process may have
        settled them since they were read)."""
        self.docs.forget("function", f"{scope.key}/{name}")
        if qualifier is not None and is_digits(qualifier):
            self.docs.forget("version", _version_key(scope, name, qualifier))

    async def set_function_settings(self, scope: Scope, name: str, **changes: Any) -> FunctionState:
        state = await self.load(scope, name)
        return await self.save(scope, replace(state, **changes))

    async def delete(self, scope: Scope, name: str, qualifier: str | None) -> None:
        state = await self.load(scope, name)
        if qualifier in (None, LATEST):
            if qualifier == LATEST:
                raise InvalidParameterValue(
                    "$LATEST version cannot be deleted without deleting the function."
                )
            for kind in ("version", "alias", "event-invoke-config", "function-policy"):
                for doc in await self.store.scan(kind, f"{scope.key}/{name}/"):
                    await self.docs.delete(kind, doc.key)
            await self.docs.delete("function", f"{scope.key}/{name}")
            return
        assert qualifier is not None
        if not is_digits(qualifier):
            raise InvalidParameterValue("Deletion of aliases is not supported")
        for alias in await self.list_aliases(scope, name):
            if alias.function_version == qualifier or qualifier in alias.additional_weights:
                raise ResourceConflict(
                    f"Unable to delete version because the following aliases reference it:"
                    f" [{alias.name}]"
                )
        await self.docs.delete("version", _version_key(scope, name, qualifier))
        await self.docs.delete("function-policy", f"{scope.key}/{name}/{qualifier}")
        del state

    async def code_in_use(self, code_sha256: str) -> bool:
        """Whether any function's $LATEST or published version, in any account, runs this code.

        The unpacked code cache and the stored blob are shared by content hash, so a copy
        may be deleted only when this is false. A full scan: deletes are rare.
        """
        for kind, pick in (("function", "latest"), ("version", None)):
            after: str | None = None
            while True:
                docs = await self.store.scan(kind, "", after=after, limit=1000)
                for doc in docs:
                    config = doc.value[pick] if pick else doc.value
                    if config.get("code_sha256") == code_sha256:
                        return True
                if len(docs) < 1000:
                    break
                after = docs[-1].key
        return False

    async def all_code_in_use(self) -> set[str]:
        """Every code hash any function's $LATEST or published version runs (one scan)."""
        hashes: set[str] = set()
        for kind, pick in (("function", "latest"), ("version", None)):
            after: str | None = None
            while True:
                docs = await self.store.scan(kind, "", after=after, limit=1000)
                for doc in docs:
                    config = doc.value[pick] if pick else doc.value
                    if config.get("code_sha256"):
                        hashes.add(config["code_sha256"])
                if len(docs) < 1000:
                    break
                after = docs[-1].key
        return hashes

    async def code_of(self, scope: Scope, name: str, qualifier: str | None) -> set[str]:
        """The code hashes that deleting `name` (or one version of it) may leave unused."""
        if qualifier is not None and is_digits(qualifier):
            return {(await self.get_version(scope, name, qualifier)).code_sha256}
        return {config.code_sha256 for config in await self.list_versions(scope, name)}

    # ---- listing ----
    async def list_functions(
        self, scope: Scope, *, marker: str | None, limit: int
    ) -> tuple[list[FunctionState], str | None]:
        docs = await self.store.scan("function", f"{scope.key}/", after=marker, limit=limit + 1)
        more = len(docs) > limit
        docs = docs[:limit]
        states = [FunctionState.from_doc(d) for d in docs]
        return states, (docs[-1].key if more else None)

    # ---- versions ----
    async def get_version(self, scope: Scope, name: str, version: str) -> FunctionConfig:
        doc = await self.docs.get("version", _version_key(scope, name, version))
        if doc is None:
            raise ResourceNotFound(f"Function not found: {scope.function_arn(name, version)}")
        return FunctionConfig.from_json(doc.value)

    async def list_versions(self, scope: Scope, name: str) -> list[FunctionConfig]:
        state = await self.load(scope, name)
        docs = await self.store.scan("version", f"{scope.key}/{name}/")
        return [state.latest, *(FunctionConfig.from_json(d.value) for d in docs)]

    async def publish(
        self,
        scope: Scope,
        name: str,
        *,
        description: str | None,
        code_sha256: str | None,
        revision_id: str | None,
        during_update: bool = False,
    ) -> FunctionConfig:
        state = await (self.load if during_update else self._load_for_change)(scope, name)
        latest = state.latest
        _check_revision(latest.revision_id, revision_id)
        if code_sha256 is not None and code_sha256 != latest.code_sha256:
            raise InvalidParameterValue(
                f"CodeSHA256 ({code_sha256}) is different from current CodeSHA256 in"
                f" $LATEST ({latest.code_sha256})."
                " Please try again with the CodeSHA256 in $LATEST."
            )
        if not during_update:
            check_can_change(scope.function_arn(name), latest)
        versions = await self.store.scan("version", f"{scope.key}/{name}/")
        if versions:
            last = FunctionConfig.from_json(versions[-1].value)
            if _same_settings(last, latest):
                return last
        number = str(state.next_version)
        # a version published by UpdateFunctionCode(Publish=True) is Pending until the code
        # is prepared (test_lambda_api TestLambdaVersions::test_publish_with_update)
        ready = settled(latest)
        published = replace(
            latest,
            version=number,
            description=latest.description if description is None else description,
            last_modified=self.clock(),
            revision_id=new_revision_id(),
            state=ACTIVE if ready else PENDING,
            last_update=SUCCESSFUL if ready else "",
            state_reason="",
            state_reason_code="",
        )
        await self.save(scope, replace(state, next_version=state.next_version + 1))
        await self.docs.put(
            "version", _version_key(scope, name, number), published.to_json(), expect=0
        )
        return published

    # ---- aliases ----
    async def get_alias(self, scope: Scope, name: str, alias: str) -> AliasConfig:
        doc = await self.docs.get("alias", f"{scope.key}/{name}/{alias}")
        if doc is None:
            raise ResourceNotFound(f"Cannot find alias arn: {scope.function_arn(name, alias)}")
        return AliasConfig.from_json(doc.value)

    async def list_aliases(self, scope: Scope, name: str) -> list[AliasConfig]:
        await self.load(scope, name)
        docs = await self.store.scan("alias", f"{scope.key}/{name}/")
        return [AliasConfig.from_json(d.value) for d in docs]

    async def _check_alias_targets(
        self, scope: Scope, name: str, version: str, weights: dict[str, float]
    ) -> None:
        for target in (version, *weights):
            if target != LATEST:
                await self.get_version(scope, name, target)

    async def put_alias(
        self, scope: Scope, alias: AliasConfig, *, create: bool, revision_id: str | None = None
    ) -> AliasConfig:
        name = alias.function_name
        await self.load(scope, name)
        if not ALIAS_RE.match(alias.name):
            raise InvalidParameterValue(f"Invalid alias name: {alias.name}")
        await self._check_alias_targets(
            scope, name, alias.function_version, alias.additional_weights
        )
        key = f"{scope.key}/{name}/{alias.name}"
        alias = replace(alias, revision_id=new_revision_id())
        if create:
            try:
                await self.docs.put("alias", key, alias.to_json(), expect=0)
            except ConflictError as exc:
                raise ResourceConflict(
                    f"Alias already exists: {scope.function_arn(name, alias.name)}"
                ) from exc
            return alias
        existing = await self.get_alias(scope, name, alias.name)
        _check_revision(existing.revision_id, revision_id)
        await self.docs.put("alias", key, alias.to_json())
        return alias

    async def delete_alias(self, scope: Scope, name: str, alias: str) -> None:
        await self.load(scope, name)
        await self.docs.delete("alias", f"{scope.key}/{name}/{alias}")
        await self.docs.delete("event-invoke-config", f"{scope.key}/{name}/{alias}")
        await self.docs.delete("function-policy", f"{scope.key}/{name}/{alias}")

    # ---- resolution ----
    async def resolve(
        self,
        scope: Scope,
        function_name: str,
        qualifier: str | None = None,
        *,
        latest_in_errors: bool = False,
    ) -> Resolved:
        """Resolve a function and qualifier. Invoke's not-found message names ``:$LATEST``
        for unqualified calls (``latest_in_errors``); the management calls' do not."""
        scope, ref = self.parse(scope, function_name, qualifier)
        qual = ref.qualifier or LATEST
        shown = ref.qualifier or (LATEST if latest_in_errors else None)
        state = await self.load(scope, ref.name, qualifier=shown)
        alias = None
        if qual == LATEST:
            config = state.latest
        elif is_digits(qual):
            config = await self.get_version(scope, ref.name, qual)
        else:
            try:
                alias = await self.get_alias(scope, ref.name, qual)
            except ResourceNotFound:
                raise ResourceNotFound(
                    f"Function not found: {scope.function_arn(ref.name, qual)}"
                ) from None
            version = _route(alias)
            config = (
                state.latest
                if version == LATEST
                else await self.get_version(scope, ref.name, version)
            )
        return Resolved(scope=scope, state=state, config=config, qualifier=qual, alias=alias)

    async def reserved_total(self, scope: Scope, *, excluding: str) -> int:
        total = 0
        for doc in await self.store.scan("function", f"{scope.key}/"):
            state = FunctionState.from_doc(doc)
            if state.latest.name != excluding and state.reserved_concurrency:
                total += state.reserved_concurrency
        return total


def _route(alias: AliasConfig) -> str:
    """Weighted alias routing: additional versions get their weight, the rest the main one."""
    roll = random.random()
    for version, weight in alias.additional_weights.items():
        if roll < weight:
            return version
        roll -= weight
    return alias.function_version


def _version_key(scope: Scope, name: str, version: str) -> str:
    return (
        f"{scope.key}/{name}/{int(version):08d}"
        if is_digits(version)
        else f"{scope.key}/{name}/{version}"
    )


def _same_settings(a: FunctionConfig, b: FunctionConfig) -> bool:
    ignore = {
        "version", "last_modified", "revision_id", "description",
        "state", "last_update", "state_reason", "state_reason_code",
    }  # fmt: skip
    ja, jb = a.to_json(), b.to_json()
    return all(ja[k] == jb[k] for k in ja if k not in ignore)


def _check_revision(current: str, given: str | None) -> None:
    if given is not None and given != current:
        raise PreconditionFailed(
            "The Revision Id provided does not match the latest Revision Id. Call the"
            " GetFunction/GetAlias API to retrieve the latest Revision Id"
        )


def _bad_name(value: str) -> InvalidParameterValue:
    from sendoff.functions.errors import validation_error

    return validation_error(  # type: ignore[return-value]
        value,
        "functionName",
        "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?"
        r"((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?"
        r"([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?",
    )
