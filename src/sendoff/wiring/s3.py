"""Wire the S3 service: the domain object (every process, so code-from-S3 and the S3
destination can read and write objects) and its REST-XML edge (servers), which the main
application hands every request :func:`sendoff.api.s3.addressing.s3_target` claims."""

from __future__ import annotations

from sendoff.api.s3.api import S3Api
from sendoff.services.s3.service import S3Service
from sendoff.wiring.services import Services, built


def install(services: Services) -> None:
    """Set ``services.objects``."""
    settings = services.settings
    services.objects = S3Service(
        services.store, account_id=settings.account_id, region=settings.region
    )


def install_http(services: Services) -> None:
    """Set ``services.s3_api``: the edge SendoffApp dispatches S3 requests to."""
    settings = services.settings
    objects = built(services.objects, "the S3 service")
    services.s3_api = S3Api(objects, account_id=settings.account_id, default_region=settings.region)
