"""Wire the event-bus service into the server: domain object, JSON 1.1 endpoint, the
``/_sendoff/buses`` overview, the ``lambda-event`` delivery transport (``events`` comes with
the EventBridge destination kind, sendoff.destinations.kinds.events), and the
failed-delivery hook that counts ``FailedInvocations`` per rule."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sendoff.api.events import EventsApi
from sendoff.services.events.service import EventBusService
from sendoff.services.events.targets import LAMBDA_SCHEME
from sendoff.services.events.transports import EventInvoker, LambdaEventTransport

if TYPE_CHECKING:
    from sendoff.wiring.services import Services


def install(services: Services) -> None:
    """Register this service's protocol endpoint and domain object on services."""
    service = EventBusService(services.store, services.deliveries)
    services.buses = service
    api = EventsApi(
        service,
        account_id=services.settings.account_id,
        default_region=services.settings.region,
    )
    services.router.add_json_target("AWSEvents", api.endpoint)
    services.routes += api.routes()

    def lambda_async() -> EventInvoker | None:
        invoker: EventInvoker | None = services.lambda_async
        return invoker

    services.deliveries.register(LAMBDA_SCHEME, LambdaEventTransport(lambda_async))
    services.deliveries.on_failed(service.failures.on_failed)
