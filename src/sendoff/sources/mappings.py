"""The mappings as store documents: create, get, update, delete, list.

Writes answer AWS's transitional state (Creating, Updating, Enabling, Disabling,
Deleting) and store the settled one (Enabled or Disabled); pollers pick a change up within
their refresh interval (``Pollers.refresh_s``) or at once in the process that made it.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sendoff.functions.errors import InvalidParameterValue, ResourceConflict, ResourceNotFound
from sendoff.functions.registry import FunctionRegistry
from sendoff.model.clock import Clock, system_clock
from sendoff.model.scope import Scope
from sendoff.sources.mapping import (
    DOC_KIND,
    NO_RECORDS,
    STATUS_KIND,
    EventSourceMapping,
    MappingInput,
    State,
    apply,
    check_source_arn,
    check_sqs_rules,
)
from sendoff.store import Store

NOT_FOUND = "The resource you requested does not exist."
NO_QUEUE = (
    "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue."
    " SQS Error Message: The specified queue does not exist."
)
DEFAULT_MAX_ITEMS = 100


class Mappings:
    def __init__(
        self,
        store: Store,
        registry: FunctionRegistry,
        queues: Any,  # sendoff.services.sqs.QueueService
        *,
        clock: Clock = system_clock,
    ) -> None:
        self.store = store
        self.registry = registry
        self.queues = queues
        self.clock = clock
        self.on_change: list[Callable[[], None]] = []  # in-process pollers re-read at once

    def _changed(self) -> None:
        for callback in self.on_change:
            callback()

    async def _function(self, scope: Scope, name: str) -> tuple[str, str, str | None]:
        """The FunctionArn a mapping shows, the function's name and the qualifier."""
        fn_scope, ref = self.registry.parse(scope, name)
        if fn_scope != scope:  # accounts are disjoint; a mapping stays in its region
            raise InvalidParameterValue("Function does not exist")
        try:
            resolved = await self.registry.resolve(fn_scope, name)
        except ResourceNotFound:
            raise InvalidParameterValue("Function does not exist") from None
        return fn_scope.function_arn(ref.name, ref.qualifier), resolved.config.name, ref.qualifier

    async def _queue_is_fifo(self, scope: Scope, arn: str) -> bool:
        queue = await self.queues.get_queue(arn)
        if queue is None or (queue.account_id, queue.region) != (scope.account_id, scope.region):
            # another account's queue is as good as missing (accounts are disjoint)
            raise InvalidParameterValue(NO_QUEUE)
        return bool(queue.is_fifo)

    async def create(self, scope: Scope, given: MappingInput) -> EventSourceMapping:
        if given.destination_config:
            raise InvalidParameterValue(
                "Unsupported DestinationConfig parameter for given event source mapping type."
            )
        check_source_arn(given.event_source_arn)
        assert given.event_source_arn is not None
        if not given.function_name:
            raise InvalidParameterValue("Function does not exist")
        mapping = EventSourceMapping(
            uuid=str(uuidlib.uuid4()),
            account_id=scope.account_id,
            region=scope.region,
            function_arn="",
            function_name="",
            qualifier=None,
            event_source_arn=given.event_source_arn,
            tags=dict(given.tags or {}),
        )
        mapping = apply(mapping, given, now=self.clock())
        fifo = given.event_source_arn.endswith(".fifo")
        check_sqs_rules(mapping, given, fifo=fifo)
        arn, name, qualifier = await self._function(scope, given.function_name)
        mapping = replace(mapping, function_arn=arn, function_name=name, qualifier=qualifier)
        await self._queue_is_fifo(scope, given.event_source_arn)
        await self._check_unique(scope, mapping)
        await self.store.put(DOC_KIND, mapping.key, mapping.to_doc(), expect=0)
        self._changed()
        return mapping

    async def _check_unique(self, scope: Scope, mapping: EventSourceMapping) -> None:
        """One mapping per queue and (qualified) function."""
        for other in await self.in_scope(scope):
            if (
                other.uuid != mapping.uuid
                and other.event_source_arn == mapping.event_source_arn
                and other.function_arn == mapping.function_arn
            ):
                raise ResourceConflict(
                    f'An event source mapping with SQS arn (" {other.event_source_arn} ") and'
                    f' function (" {mapping.function_name} ") already exists. Please update or'
                    f" delete the existing mapping with UUID {other.uuid}"
                )

    async def get(self, scope: Scope, uuid: str) -> EventSourceMapping:
        doc = await self.store.get(DOC_KIND, f"{scope.key}/{uuid}")
        if doc is None:
            raise ResourceNotFound(NOT_FOUND)
        return EventSourceMapping.from_doc(doc.value)

    async def update(
        self, scope: Scope, uuid: str, given: MappingInput
    ) -> tuple[EventSourceMapping, str]:
        """The updated mapping and the state the answer shows."""
        doc = await self.store.get(DOC_KIND, f"{scope.key}/{uuid}")
        if doc is None:
            raise ResourceNotFound(NOT_FOUND)
        old = EventSourceMapping.from_doc(doc.value)
        mapping = apply(old, given, now=self.clock())
        fifo = old.event_source_arn.endswith(".fifo")
        check_sqs_rules(mapping, given, fifo=fifo)
        if given.function_name:
            arn, name, qualifier = await self._function(scope, given.function_name)
            mapping = replace(mapping, function_arn=arn, function_name=name, qualifier=qualifier)
            await self._check_unique(scope, mapping)
        await self.store.put(DOC_KIND, mapping.key, mapping.to_doc(), expect=doc.revision)
        self._changed()
        if given.enabled is True and not old.enabled:
            return mapping, State.ENABLING
        if given.enabled is False and old.enabled:
            return mapping, State.DISABLING
        return mapping, State.UPDATING

    async def delete(self, scope: Scope, uuid: str) -> EventSourceMapping:
        mapping = await self.get(scope, uuid)
        await self.store.delete(DOC_KIND, mapping.key)
        await self.store.delete(STATUS_KIND, mapping.key)
        self._changed()
        return mapping

    async def last_result(self, mapping: EventSourceMapping) -> tuple[str, float | None]:
        """What the pollers last reported (the console's "Last processing result") and
        since when: "OK", "PROBLEM: ..." or "No records processed"."""
        doc = await self.store.get(STATUS_KIND, mapping.key)
        if doc is None:
            return NO_RECORDS, None
        return str(doc.value.get("result", NO_RECORDS)), doc.value.get("at")

    async def in_scope(
        self,
        scope: Scope,
        *,
        function_name: str | None = None,
        source_arn: str | None = None,
    ) -> list[EventSourceMapping]:
        """Mappings of a scope in UUID order, filtered by function and/or source."""
        wanted: tuple[str, str | None] | None = None
        if function_name:
            _, ref = self.registry.parse(scope, function_name)
            wanted = (ref.name, ref.qualifier)
        out = []
        for doc in await self.store.scan(DOC_KIND, f"{scope.key}/"):
            mapping = EventSourceMapping.from_doc(doc.value)
            if source_arn and mapping.event_source_arn != source_arn:
                continue
            if wanted is not None and (
                mapping.function_name != wanted[0]
                or (wanted[1] is not None and mapping.qualifier != wanted[1])
            ):
                continue
            out.append(mapping)
        return out

    async def everywhere(self) -> list[EventSourceMapping]:
        """Every mapping of every account and region (the pollers' view)."""
        return [EventSourceMapping.from_doc(d.value) for d in await self.store.scan(DOC_KIND)]
