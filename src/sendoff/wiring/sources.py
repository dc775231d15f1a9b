"""Wire event source mappings: the pollers (every process; the worker role starts them) and
the API routes (servers)."""

from __future__ import annotations

from sendoff.api.lambda_common import LambdaEdge
from sendoff.api.lambda_event_sources import EventSourcesApi
from sendoff.sources.mappings import Mappings
from sendoff.sources.metrics import SourceMetrics
from sendoff.sources.pollers import Pollers
from sendoff.sources.runner import Deps
from sendoff.wiring.services import Services, built

DEFAULT_POLLERS = 5


def install(services: Services) -> None:
    """Set ``services.event_sources``, which the worker role starts and stops
    (``wiring.lifecycle``). Needs the SQS service (install it first)."""
    queues = built(services.queues, "the SQS service")
    mappings = Mappings(services.store, services.registry, queues)
    deps = Deps(
        store=services.store,
        queues=queues,
        registry=services.registry,
        invoker=services.invoker,
        metrics=services.metrics,
        source_metrics=SourceMetrics(services.metrics),
        default_pollers=DEFAULT_POLLERS,
        max_pollers=services.settings.concurrency,
    )
    services.event_sources = Pollers(mappings, deps)


def install_http(services: Services, edge: LambdaEdge) -> None:
    """Register the event source mapping routes of the Lambda API."""
    pollers = built(services.event_sources, "the event source pollers")
    services.routes += EventSourcesApi(edge, pollers.mappings).routes()
