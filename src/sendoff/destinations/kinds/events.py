"""EventBridge buses as destinations: one event with source ``lambda``, detail-type
``Lambda Function Invocation Result - Success|Failure``, resources ``[bus ARN, qualified
function ARN]`` and the record as detail (facts §5)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sendoff.destinations.kind import DestinationKind, Origin, RecordSend, SamType
from sendoff.model.arn import Arn

if TYPE_CHECKING:
    from sendoff.delivery.outbox import Transport
    from sendoff.destinations.kind import BuiltServices
    from sendoff.model.scope import Scope

SUCCESS_DETAIL_TYPE = "Lambda Function Invocation Result - Success"
FAILURE_DETAIL_TYPE = "Lambda Function Invocation Result - Failure"


class EventBusKind(DestinationKind):
    service = "events"
    label = "EventBridge event bus"
    with_article = "an EventBridge event bus"
    rank = 40
    iam_action = "events:PutEvents"
    operation = "PutEvents"
    sam = SamType(name="EventBridge", action="events:PutEvents")

    async def validate_arn(self, arn: str, origin: Origin) -> str | None:
        return None

    def build_payload(self, send: RecordSend) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "source": "lambda",
            "detail_type": SUCCESS_DETAIL_TYPE if send.success else FAILURE_DETAIL_TYPE,
            "detail": send.record,
            "resources": [send.destination, send.function_arn],
        }
        if send.trace_header:
            payload["trace_header"] = send.trace_header
        return payload

    def console_link(self, arn: str, parsed: Arn) -> tuple[str, str | None]:
        name = parsed.resource.removeprefix("event-bus/")
        return name, f"/console/buses/{quote(name, safe='')}"

    async def console_choices(self, services: BuiltServices, scope: Scope) -> list[str]:
        if services.buses is None:
            return []
        from sendoff.services.events.model import bus_arn

        page = await services.buses.list_event_buses(scope)
        return [bus_arn(scope, bus.name) for bus in page.items]

    async def console_exists(
        self, services: BuiltServices, scope: Scope, arn: str, parsed: Arn
    ) -> bool | None:
        if services.buses is None:
            return None
        name = parsed.resource.removeprefix("event-bus/")
        return await services.buses.repo.get_bus(scope, name) is not None

    def transport(self, services: BuiltServices) -> Transport | None:
        from sendoff.services.events.transports import BusTransport

        return None if services.buses is None else BusTransport(services.buses)


KIND = EventBusKind()
