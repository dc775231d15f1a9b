"""Wire the queue service: the domain object (every process) and its JSON protocol
(servers). Its ``sqs`` delivery transport comes with the SQS destination kind
(sendoff.destinations.kinds.sqs)."""

from __future__ import annotations

from sendoff.api.sqs import SqsApi
from sendoff.services.sqs.service import PURGE_INTERVAL_S, QueueService
from sendoff.wiring.services import Services, built


def install(services: Services) -> None:
    """Set ``services.queues``, started and stopped with the process."""
    settings = services.settings
    queues = QueueService(
        services.store,
        account_id=settings.account_id,
        region=settings.region,
        # the purge window is a delay like the async ones: --time-scale shrinks it for tests
        purge_interval_s=PURGE_INTERVAL_S * settings.time_scale,
    )
    services.queues = queues

    async def start() -> None:
        queues.start()

    services.startup_hooks.append(start)
    services.shutdown_hooks.append(queues.stop)


def install_http(services: Services) -> None:
    """Register the ``AmazonSQS`` JSON target."""
    settings = services.settings
    queues = built(services.queues, "the SQS service")
    api = SqsApi(queues, account_id=settings.account_id, default_region=settings.region)
    services.router.add_json_target("AmazonSQS", api)
