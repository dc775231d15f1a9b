"""Buses and rules in the store: reads, compare-and-swap updates, and paging.

Rules keep their targets inside the rule document, so PutTargets, RemoveTargets and PutRule
are each one conditional write (no half-applied target lists, and the five-target limit
holds under concurrency). A write that keeps losing its race fails with
:class:`ConcurrentModification`, as EventBridge does.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Final

from sendoff.errors import ConflictError
from sendoff.model.scope import Scope
from sendoff.services.events.errors import (
    ConcurrentModification,
    ResourceAlreadyExists,
    ValidationFailed,
    bus_not_found,
    rule_not_found,
)
from sendoff.services.events.model import (
    DEFAULT_BUS,
    EventBus,
    Rule,
    bus_from_doc,
    bus_key,
    bus_to_doc,
    rule_from_doc,
    rule_key,
    rule_to_doc,
)
from sendoff.store import Store

BUS_KIND: Final = "events-bus"
RULE_KIND: Final = "events-rule"
_CAS_ATTEMPTS: Final = 20

RuleChange = Callable[[Rule | None], Rule | None]
"""Given the current rule (or None), the rule to store (or None to leave it unchanged)."""


def encode_token(last: str) -> str:
    return base64.urlsafe_b64encode(last.encode()).decode()


def decode_token(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValidationFailed("The NextToken provided is invalid.") from None


class EventsRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- buses ----
    async def get_bus(self, scope: Scope, name: str) -> EventBus | None:
        if name == DEFAULT_BUS:
            return EventBus(name=DEFAULT_BUS)
        doc = await self.store.get(BUS_KIND, bus_key(scope, name))
        return None if doc is None else bus_from_doc(doc.value)

    async def require_bus(self, scope: Scope, name: str) -> EventBus:
        bus = await self.get_bus(scope, name)
        if bus is None:
            raise bus_not_found(name)
        return bus

    async def create_bus(self, scope: Scope, bus: EventBus) -> None:
        if bus.name == DEFAULT_BUS:
            raise ResourceAlreadyExists(f"Event bus {bus.name} already exists.")
        try:
            await self.store.put(BUS_KIND, bus_key(scope, bus.name), bus_to_doc(bus), expect=0)
        except ConflictError:
            raise ResourceAlreadyExists(f"Event bus {bus.name} already exists.") from None

    async def delete_bus(self, scope: Scope, name: str) -> bool:
        """Delete a custom bus and every rule on it; False if there was no such bus."""
        for doc in await self.store.scan(RULE_KIND, rule_key(scope, name, "")):
            await self.store.delete(RULE_KIND, doc.key)
        return await self.store.delete(BUS_KIND, bus_key(scope, name))

    async def list_buses(self, scope: Scope, prefix: str = "") -> list[EventBus]:
        """All buses of the scope whose name starts with ``prefix``, by name."""
        docs = await self.store.scan(BUS_KIND, bus_key(scope, prefix))
        buses = [bus_from_doc(doc.value) for doc in docs]
        if DEFAULT_BUS.startswith(prefix):
            buses.append(EventBus(name=DEFAULT_BUS))
        return sorted(buses, key=lambda b: b.name)

    # ---- rules ----
    async def get_rule(self, scope: Scope, bus: str, name: str) -> Rule | None:
        doc = await self.store.get(RULE_KIND, rule_key(scope, bus, name))
        return None if doc is None else rule_from_doc(doc.value)

    async def require_rule(self, scope: Scope, bus: str, name: str) -> Rule:
        rule = await self.get_rule(scope, bus, name)
        if rule is None:
            await self.require_bus(scope, bus)
            raise rule_not_found(name, bus)
        return rule

    async def list_rules(
        self, scope: Scope, bus: str, *, prefix: str = "", after: str | None = None, limit: int
    ) -> list[Rule]:
        """Rules of one bus by name, names starting with ``prefix``, after the name ``after``."""
        after_key = rule_key(scope, bus, after) if after is not None else None
        docs = await self.store.scan(
            RULE_KIND, rule_key(scope, bus, prefix), after=after_key, limit=limit
        )
        return [rule_from_doc(doc.value) for doc in docs]

    async def rules_of(self, scope: Scope, bus: str) -> list[Rule]:
        docs = await self.store.scan(RULE_KIND, rule_key(scope, bus, ""))
        return [rule_from_doc(doc.value) for doc in docs]

    async def update_rule(
        self, scope: Scope, bus: str, name: str, change: RuleChange
    ) -> Rule | None:
        """Apply ``change`` to the stored rule with compare-and-swap; the stored result."""
        key = rule_key(scope, bus, name)
        for _ in range(_CAS_ATTEMPTS):
            doc = await self.store.get(RULE_KIND, key)
            current = None if doc is None else rule_from_doc(doc.value)
            updated = change(current)
            if updated is None:
                return current
            try:
                await self.store.put(
                    RULE_KIND, key, rule_to_doc(updated), expect=doc.revision if doc else 0
                )
            except ConflictError:
                continue
            return updated
        raise ConcurrentModification(f"Rule {name} was modified concurrently; try again.")

    async def delete_rule(
        self, scope: Scope, bus: str, name: str, check: Callable[[Rule], Awaitable[None]]
    ) -> bool:
        """Delete a rule after ``check`` accepts it; False if there was none."""
        key = rule_key(scope, bus, name)
        for _ in range(_CAS_ATTEMPTS):
            doc = await self.store.get(RULE_KIND, key)
            if doc is None:
                return False
            await check(rule_from_doc(doc.value))
            try:
                return await self.store.delete(RULE_KIND, key, expect=doc.revision)
            except ConflictError:
                continue
        raise ConcurrentModification(f"Rule {name} was modified concurrently; try again.")
