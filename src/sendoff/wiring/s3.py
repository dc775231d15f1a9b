"""Wire the S3 service: the domain object (every process, so code-from-S3 and the S3
destination can read and write objects) and its REST-XML edge (servers), which the main
application hands every request :func:`sendoff.api.s3.addressing.s3_target` claims."""

from __future__ import annotations

from sendoff.api.s3.api import S3Api
from sendoff.services.s3.extents import GRACE_S, SWEEP_INTERVAL_S
from sendoff.services.s3.service import S3Service
from sendoff.wiring.services import Services, built


def install(services: Services) -> None:
    """Set ``services.objects``; its sweep of unreferenced bytes runs with the process."""
    settings = services.settings
    objects = S3Service(
        services.store,
        account_id=settings.account_id,
        region=settings.region,
        grace_s=GRACE_S * settings.time_scale,
    )
    services.objects = objects

    async def start() -> None:
        objects.extents.start(SWEEP_INTERVAL_S * settings.time_scale)

    services.startup_hooks.append(start)
    services.shutdown_hooks.append(objects.extents.stop)


def install_http(services: Services) -> None:
    """Set ``services.s3_api``: the edge SendoffApp dispatches S3 requests to."""
    settings = services.settings
    objects = built(services.objects, "the S3 service")
    services.s3_api = S3Api(objects, account_id=settings.account_id, default_region=settings.region)
