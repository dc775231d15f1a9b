"""Wire the console into the server (placeholder until it lands)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sendoff.server import Services


def install(services: Services) -> None:
    """Register the console's routes on ``services.routes``."""
