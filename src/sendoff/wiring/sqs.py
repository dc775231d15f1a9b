"""Wire the queue service into the server: domain object and JSON protocol (its ``sqs``
delivery transport comes with the SQS destination kind, sendoff.destinations.kinds.sqs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sendoff.api.sqs import SqsApi
from sendoff.services.sqs.service import PURGE_INTERVAL_S, QueueService

if TYPE_CHECKING:
    from sendoff.wiring.services import Services


def install(services: Services) -> None:
    """Register ``services.queues`` and the ``AmazonSQS`` JSON target."""
    settings = services.settings
    queues = QueueService(
        services.store,
        account_id=settings.account_id,
        region=settings.region,
        # the purge window is a delay like the async ones: --time-scale shrinks it for tests
        purge_interval_s=PURGE_INTERVAL_S * settings.time_scale,
    )
    services.queues = queues
    api = SqsApi(queues, account_id=settings.account_id, default_region=settings.region)
    services.router.add_json_target("AmazonSQS", api)

    async def start() -> None:
        queues.start()

    services.startup_hooks.append(start)
    services.shutdown_hooks.append(queues.stop)
