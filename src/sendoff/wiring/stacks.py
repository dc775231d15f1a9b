"""Wire the stacks API (``/_sendoff/stacks``) into the server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sendoff.iac.stacks_api import StacksApi

if TYPE_CHECKING:
    from sendoff.wiring.services import Services


def install(services: Services) -> None:
    """Register the routes where ``sendoff deploy`` keeps its stacks."""
    settings = services.settings
    api = StacksApi(services.store, account_id=settings.account_id, default_region=settings.region)
    services.routes += api.routes()
