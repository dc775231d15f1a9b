"""Wire the event-bus service: the domain object, the ``lambda-event`` delivery transport
and the failed-delivery hook that counts ``FailedInvocations`` per rule (every process);
the JSON 1.1 endpoint and the ``/_sendoff/buses`` overview (servers). The ``events``
transport comes with the EventBridge destination kind (sendoff.destinations.kinds.events)."""

from __future__ import annotations

from sendoff.api.events import EventsApi
from sendoff.services.events.service import EventBusService
from sendoff.services.events.targets import LAMBDA_SCHEME
from sendoff.services.events.transports import EventInvoker, LambdaEventTransport
from sendoff.wiring.services import Services, built


def install(services: Services) -> None:
    """Set ``services.buses`` and register its rule targets' transport and failure hook."""
    service = EventBusService(services.store, services.deliveries)
    services.buses = service

    def lambda_async() -> EventInvoker | None:
        invoker: EventInvoker | None = services.lambda_async
        return invoker

    services.deliveries.register(LAMBDA_SCHEME, LambdaEventTransport(lambda_async))
    services.deliveries.on_failed(service.failures.on_failed)


def install_http(services: Services) -> None:
    """Register the ``AWSEvents`` JSON target and the overview routes."""
    api = EventsApi(
        built(services.buses, "the EventBridge service"),
        account_id=services.settings.account_id,
        default_region=services.settings.region,
    )
    services.router.add_json_target("AWSEvents", api.endpoint)
    services.routes += api.routes()
