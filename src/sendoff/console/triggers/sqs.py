"""SQS queues polled into the function by an event source mapping, with its state and
last processing result (a mapping can be toggled from the page)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from sendoff.console.triggers import Trigger, TriggerSource
from sendoff.model.arn import parse_arn

if TYPE_CHECKING:
    from sendoff.console.context import Console


class QueueMappings(TriggerSource):
    rank = 30

    async def find(self, console: Console, function_name: str, function_arn: str) -> list[Trigger]:
        pollers = console.services.event_sources
        if pollers is None:
            return []
        found: list[Trigger] = []
        for mapping in await pollers.mappings.in_scope(console.scope, function_name=function_name):
            source = parse_arn(mapping.event_source_arn)
            queue = source.resource if source is not None else mapping.event_source_arn
            result, _ = await pollers.mappings.last_result(mapping)
            found.append(Trigger(
                kind="SQS queue", name=queue,
                detail=f"batch size {mapping.batch_size}, {mapping.state}",
                url=f"/console/queues/{quote(queue, safe='')}",
                mapping=mapping.uuid, enabled=mapping.enabled, last_result=result,
            ))  # fmt: skip
        return found


SOURCE = QueueMappings()
