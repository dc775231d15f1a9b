"""Wire the store's retention pruner into a process (server or ``sendoff worker``)."""

from __future__ import annotations

from sendoff.store.retention import Pruner, RetentionPolicy
from sendoff.wiring.services import Services


def install(services: Services) -> Pruner:
    """Run a pruner in this process (server or ``sendoff worker``); health shows its view."""
    s = services.settings
    policy = RetentionPolicy(
        event_retention_s=s.event_retention_s,
        event_retention_max=s.event_retention_max,
        log_retention_s=s.log_retention_s,
        log_group_max_bytes=s.log_group_max_bytes,
    )
    pruner = Pruner(services.store, policy, metrics=services.metrics)
    services.extra_health["retention"] = pruner.health  # updated in place by each pass

    async def start() -> None:
        pruner.start()

    services.startup_hooks.append(start)
    services.shutdown_hooks.append(pruner.stop)
    return pruner
