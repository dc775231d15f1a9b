"""EventInvokeConfig: per-qualifier retry, age and destination settings (facts §3).

Stored as documents of kind ``event-invoke-config`` under ``ACCOUNT/REGION/NAME/QUALIFIER``.
Put replaces, Update merges and never creates; unset values stay unset (omitted on the
wire); each qualifier has its own config and nothing is inherited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sendoff.functions.destination_rules import DestinationLookup, Origin
from sendoff.functions.errors import InvalidParameterValue, ResourceNotFound, validation_error
from sendoff.functions.permissions import check_destination
from sendoff.functions.registry import FunctionRegistry
from sendoff.functions.validation import check_range
from sendoff.model.arn import arn_service, parse_arn
from sendoff.model.clock import Clock, system_clock
from sendoff.model.function import LATEST
from sendoff.model.policy import RetryPolicy
from sendoff.model.scope import Scope

DESTINATION_PATTERN = (
    r"$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:"
    r"((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)"
)
_DESTINATION_RE = re.compile(f"^(?:{DESTINATION_PATTERN})$")
NO_SETTINGS = "You must specify at least one of error handling or destination setting."


@dataclass(frozen=True, kw_only=True)
class EventInvokeConfig:
    qualifier: str
    last_modified: float
    max_retry_attempts: int | None = None
    max_event_age_s: int | None = None
    on_success: str | None = None
    on_failure: str | None = None

    @property
    def policy(self) -> RetryPolicy:
        defaults = RetryPolicy()
        return RetryPolicy(
            max_retry_attempts=(
                defaults.max_retry_attempts
                if self.max_retry_attempts is None
                else self.max_retry_attempts
            ),
            max_event_age_s=(
                defaults.max_event_age_s if self.max_event_age_s is None else self.max_event_age_s
            ),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "qualifier": self.qualifier,
            "last_modified": self.last_modified,
            "max_retry_attempts": self.max_retry_attempts,
            "max_event_age_s": self.max_event_age_s,
            "on_success": self.on_success,
            "on_failure": self.on_failure,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EventInvokeConfig:
        return cls(**data)

    def shape(self, scope: Scope, name: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "LastModified": round(self.last_modified, 3),
            "FunctionArn": scope.function_arn(name, self.qualifier),
        }
        if self.max_retry_attempts is not None:
            out["MaximumRetryAttempts"] = self.max_retry_attempts
        if self.max_event_age_s is not None:
            out["MaximumEventAgeInSeconds"] = self.max_event_age_s
        out["DestinationConfig"] = {
            "OnSuccess": {"Destination": self.on_success} if self.on_success else {},
            "OnFailure": {"Destination": self.on_failure} if self.on_failure else {},
        }
        return out


@dataclass(frozen=True, kw_only=True)
class ConfigInput:
    """A parsed, shape-validated Put/Update body. ``None`` means "not given"."""

    max_retry_attempts: int | None
    max_event_age_s: int | None
    destination_config: dict[str, str | None] | None  # keys on_success/on_failure


def parse_input(body: dict[str, Any]) -> ConfigInput:
    retries = body.get("MaximumRetryAttempts")
    age = body.get("MaximumEventAgeInSeconds")
    dest = body.get("DestinationConfig")
    if retries is None and age is None and dest is None:
        raise InvalidParameterValue(NO_SETTINGS)
    if retries is not None:
        check_range(retries, "maximumRetryAttempts", 0, 2)
    if age is not None:
        check_range(age, "maximumEventAgeInSeconds", 60, 21600)
    parsed: dict[str, str | None] | None = None
    if dest is not None:
        parsed = {}
        for key, path in (("OnSuccess", "onSuccess"), ("OnFailure", "onFailure")):
            value = (dest.get(key) or {}).get("Destination")
            if value is not None and (
                not isinstance(value, str) or len(value) > 350 or not _DESTINATION_RE.match(value)
            ):
                raise validation_error(
                    value,
                    f"destinationConfig.{path}.destination",
                    f"Member must satisfy regular expression pattern: {DESTINATION_PATTERN}",
                )
            parsed["on_success" if key == "OnSuccess" else "on_failure"] = value or None
    return ConfigInput(max_retry_attempts=retries, max_event_age_s=age, destination_config=parsed)


def _invalid_config(on_success: str | None, on_failure: str | None) -> InvalidParameterValue:
    def part(kind: str, arn: str | None) -> str:
        return "null" if arn is None else f"{kind}(destination={arn})"

    return InvalidParameterValue(
        "The provided destination config DestinationConfig(onSuccess="
        f"{part('OnSuccess', on_success)}, onFailure={part('OnFailure', on_failure)}) is invalid."
    )


class EventConfigs:
    def __init__(
        self,
        registry: FunctionRegistry,
        *,
        destinations: DestinationLookup,
        clock: Clock = system_clock,
    ) -> None:
        self.registry = registry
        self.destinations = destinations  # sendoff.destinations.registry.kind_for
        self.store = registry.store
        self.docs = registry.docs
        self.clock = clock

    @staticmethod
    def key(scope: Scope, name: str, qualifier: str) -> str:
        return f"{scope.key}/{name}/{qualifier}"

    async def get(self, scope: Scope, name: str, qualifier: str) -> EventInvokeConfig | None:
        doc = await self.docs.get("event-invoke-config", self.key(scope, name, qualifier))
        return None if doc is None else EventInvokeConfig.from_json(doc.value)

    async def _target_exists(self, scope: Scope, name: str, qualifier: str) -> bool:
        try:
            await self.registry.resolve(scope, name, qualifier)
        except ResourceNotFound:
            return False
        return True

    async def _function_exists(self, account_id: str, region: str, name: str, qual: str) -> bool:
        return await self._target_exists(Scope(account_id=account_id, region=region), name, qual)

    async def _check_destinations(
        self,
        scope: Scope,
        name: str,
        qualifier: str,
        on_success: str | None,
        on_failure: str | None,
    ) -> None:
        origin = Origin(
            account_id=scope.account_id,
            region=scope.region,
            function_name=name,
            function_exists=self._function_exists,
        )
        for arn in (on_success, on_failure):
            if arn is None:
                continue
            parsed = parse_arn(arn)
            kind = self.destinations(parsed.service) if parsed is not None else None
            if kind is None or (arn == on_success and kind.on_failure_only):
                raise _invalid_config(on_success, on_failure)
            problem = await kind.validate_arn(arn, origin)
            if problem is not None:
                raise InvalidParameterValue(problem)
        if self.registry.role_check is None:
            return
        role = (await self.registry.resolve(scope, name, qualifier)).config.role
        for arn in (on_success, on_failure):
            if arn is not None:  # the execution role must allow the send (functions.permissions)
                kind = self.destinations(arn_service(arn))
                actions = (kind.iam_action, kind.operation) if kind is not None else None
                resource = kind.iam_resource(arn, name) if kind is not None else arn
                await check_destination(
                    self.registry.role_check, role, resource, actions, shown=arn
                )

    async def put(
        self, scope: Scope, name: str, qualifier: str, given: ConfigInput, *, merge: bool
    ) -> EventInvokeConfig:
        if not await self._target_exists(scope, name, qualifier):
            raise ResourceNotFound("The function doesn't exist.")
        current = await self.get(scope, name, qualifier)
        if merge and current is None:
            arn = scope.function_arn(name, qualifier)
            raise ResourceNotFound(f"The function {arn} doesn't have an EventInvokeConfig")
        base = current if merge and current is not None else None
        dest = given.destination_config
        on_success = dest.get("on_success") if dest is not None else (base and base.on_success)
        on_failure = dest.get("on_failure") if dest is not None else (base and base.on_failure)
        await self._check_destinations(
            scope, name, qualifier, on_success or None, on_failure or None
        )
        config = EventInvokeConfig(
            qualifier=qualifier,
            last_modified=self.clock(),
            max_retry_attempts=(
                given.max_retry_attempts
                if given.max_retry_attempts is not None or base is None
                else base.max_retry_attempts
            ),
            max_event_age_s=(
                given.max_event_age_s
                if given.max_event_age_s is not None or base is None
                else base.max_event_age_s
            ),
            on_success=on_success or None,
            on_failure=on_failure or None,
        )
        await self.docs.put(
            "event-invoke-config", self.key(scope, name, qualifier), config.to_json()
        )
        return config

    async def require(self, scope: Scope, name: str, qualifier: str) -> EventInvokeConfig:
        config = await self.get(scope, name, qualifier)
        if config is None:
            arn = scope.function_arn(name, qualifier)
            raise ResourceNotFound(f"The function {arn} doesn't have an EventInvokeConfig")
        return config

    async def delete(self, scope: Scope, name: str, qualifier: str) -> None:
        await self.require(scope, name, qualifier)
        await self.docs.delete("event-invoke-config", self.key(scope, name, qualifier))

    async def list(self, scope: Scope, name: str) -> list[EventInvokeConfig]:
        if not await self._target_exists(scope, name, LATEST):
            raise ResourceNotFound("The function doesn't exist.")
        docs = await self.store.scan("event-invoke-config", f"{scope.key}/{name}/")
        return [EventInvokeConfig.from_json(d.value) for d in docs]
