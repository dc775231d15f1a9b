"""Wire CloudWatch Logs: the domain objects over the store (every process; the pruner
applies groups' retention policies) and the ``Logs_20140328`` JSON 1.1 target (servers)."""

from __future__ import annotations

from sendoff.api.logs import TARGET_PREFIX, LogsApi
from sendoff.services.logs.events import LogEvents
from sendoff.services.logs.groups import LogGroups
from sendoff.services.logs.retention import expire_by_policy
from sendoff.store.retention import Pruner
from sendoff.wiring.services import Services, built


def install(services: Services, pruner: Pruner) -> None:
    """Set ``services.log_groups``; the pruner also honours groups' retention policies."""
    groups = LogGroups(services.store, services.invoker.log_writer)
    services.log_groups = groups
    max_s = services.settings.log_retention_s

    async def expire(now: float) -> int:
        return await expire_by_policy(services.store, groups, now=now, max_retention_s=max_s)

    pruner.extra_log_passes.append(expire)


def install_http(services: Services) -> None:
    """Register the ``Logs_20140328`` JSON target."""
    groups = built(services.log_groups, "the CloudWatch Logs service")
    settings = services.settings
    api = LogsApi(
        groups, LogEvents(services.store, groups),
        account_id=settings.account_id, default_region=settings.region,
    )  # fmt: skip
    services.router.add_json_target(TARGET_PREFIX, api)
