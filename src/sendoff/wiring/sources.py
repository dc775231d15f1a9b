"""Wire event source mappings into the server: the API routes and the worker-role pollers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sendoff.api.lambda_common import LambdaEdge
from sendoff.api.lambda_event_sources import EventSourcesApi
from sendoff.sources.mappings import Mappings
from sendoff.sources.metrics import SourceMetrics
from sendoff.sources.pollers import Pollers
from sendoff.sources.runner import Deps

if TYPE_CHECKING:
    from sendoff.wiring.services import Services

DEFAULT_POLLERS = 5


def install(services: Services, edge: LambdaEdge) -> Pollers:
    """Register the routes; return the pollers, which the worker role starts and stops
    (``server.build_asgi`` with ``--workers`` > 0, ``server.work``). Needs the SQS service
    (install it first)."""
    mappings = Mappings(services.store, services.registry, services.queues)
    services.routes += EventSourcesApi(edge, mappings).routes()
    deps = Deps(
        store=services.store,
        queues=services.queues,
        registry=services.registry,
        invoker=services.invoker,
        metrics=services.metrics,
        source_metrics=SourceMetrics(services.metrics),
        default_pollers=DEFAULT_POLLERS,
        max_pollers=services.settings.concurrency,
    )
    return Pollers(mappings, deps)
