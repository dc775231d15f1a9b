"""The built services of one process, typed: what the installs fill in and the console reads.

``build_services`` (``sendoff.server``) creates it with the core objects; each
``sendoff.wiring.<service>.install`` sets its domain object and adds its routes and hooks.
Fields of services a process does not build stay ``None``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from starlette.routing import BaseRoute

from sendoff.api.app import Endpoint
from sendoff.api.protocols import ProtocolRouter
from sendoff.api.s3.api import S3Api
from sendoff.auth.gate import Authenticator
from sendoff.auth.urls import CodeUrls
from sendoff.config.settings import Settings
from sendoff.delivery import Deliveries
from sendoff.errors import ConfigError
from sendoff.executor import Executor
from sendoff.functions.event_config import EventConfigs
from sendoff.functions.invoker import Invoker
from sendoff.functions.registry import FunctionRegistry
from sendoff.metrics import Metrics
from sendoff.scheduler import Scheduler
from sendoff.scheduler.invocations import AsyncInvocations
from sendoff.services.events.service import EventBusService
from sendoff.services.iam.service import RoleService
from sendoff.services.logs.groups import LogGroups
from sendoff.services.s3.notifier import S3Notifier
from sendoff.services.s3.service import S3Service
from sendoff.services.sns.service import TopicService
from sendoff.services.sqs.service import QueueService
from sendoff.sources.pollers import Pollers
from sendoff.store import Store

Hook = Callable[[], Awaitable[None]]
T = TypeVar("T")


@dataclass(kw_only=True)
class Services:
    settings: Settings
    store: Store
    registry: FunctionRegistry
    executor: Executor
    invoker: Invoker
    router: ProtocolRouter
    scheduler: Scheduler
    deliveries: Deliveries
    metrics: Metrics
    auth: Authenticator
    code_urls: CodeUrls
    routes: list[BaseRoute] = field(default_factory=list)
    fast_routes: list[tuple[str, Endpoint]] = field(default_factory=list)  # api.app.SendoffApp
    extra_health: dict[str, object] = field(default_factory=dict)
    # domain objects of the built-in services, set by their ``install`` hooks
    queues: QueueService | None = None
    topics: TopicService | None = None
    buses: EventBusService | None = None
    lambda_async: AsyncInvocations | None = None  # accepts and runs Event invokes
    event_configs: EventConfigs | None = None
    roles: RoleService | None = None
    log_groups: LogGroups | None = None  # CloudWatch Logs (sendoff.wiring.logs)
    event_sources: Pollers | None = None  # event source mappings' pollers (worker role)
    objects: S3Service | None = None  # S3 buckets and objects (sendoff.wiring.s3)
    s3_notifier: S3Notifier | None = None  # bucket notifications (sendoff.wiring.s3_events)
    s3_api: S3Api | None = None  # S3's REST-XML edge, dispatched by api.app.SendoffApp
    startup_hooks: list[Hook] = field(default_factory=list)
    shutdown_hooks: list[Hook] = field(default_factory=list)


def built(value: T | None, what: str) -> T:
    """``value``, which an earlier install must have set (ConfigError naming it if not)."""
    if value is None:
        raise ConfigError(f"{what} is not built: install it first (sendoff.server)")
    return value
