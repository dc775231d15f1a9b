"""The registry of destination kinds: the one place that knows which kinds exist.

:func:`kinds` imports every module in :mod:`sendoff.destinations.kinds` (each exposes
``KIND``) once, checks that each kind is complete, and returns them in the console's order.
Event invoke config validation, the router, the console, the SAM transform and the IAM
checks all ask here. :func:`install_transports` registers each kind's delivery transport at
start-up (``build_services``) and fails, naming the kind, when one cannot be had — so a kind
missing a piece stops the server from starting instead of failing a delivery later.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterable
from functools import cache
from typing import TYPE_CHECKING

from sendoff.destinations.kind import DestinationKind
from sendoff.errors import ConfigError

if TYPE_CHECKING:
    from sendoff.delivery.outbox import Deliveries
    from sendoff.destinations.kind import BuiltServices

KINDS_PACKAGE = "sendoff.destinations.kinds"


def discover(package: str = KINDS_PACKAGE) -> tuple[DestinationKind, ...]:
    """Import every module of ``package`` and return their ``KIND``\\ s, checked, by rank."""
    root = importlib.import_module(package)
    found: list[DestinationKind] = []
    for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda i: i.name):
        name = f"{package}.{info.name}"
        try:
            module = importlib.import_module(name)
            kind = getattr(module, "KIND", None)
        except TypeError as exc:  # an abstract method left out: KIND cannot be built
            raise ConfigError(f"destination kind {name} is incomplete: {exc}") from exc
        if not isinstance(kind, DestinationKind):
            raise ConfigError(f"destination kind {name} has no KIND (a DestinationKind)")
        found.append(kind)
    check(found)
    return tuple(sorted(found, key=lambda k: k.rank))


def check(kinds: Iterable[DestinationKind]) -> None:
    """Raise ConfigError for a kind with a piece missing, or two kinds for one service."""
    services: set[str] = set()
    for kind in kinds:
        missing = [attr for attr in DestinationKind.REQUIRED if not hasattr(kind, attr)]
        abstract = sorted(getattr(type(kind), "__abstractmethods__", ()))
        if missing or abstract or inspect.isabstract(type(kind)):
            pieces = ", ".join([*missing, *abstract])
            raise ConfigError(f"destination kind {type(kind).__name__} is missing {pieces}")
        if kind.service in services:
            raise ConfigError(f"two destination kinds for the service {kind.service!r}")
        services.add(kind.service)


@cache
def kinds() -> tuple[DestinationKind, ...]:
    """The destination kinds sendoff has, in the console's order."""
    return discover()


def kind_for(service: str) -> DestinationKind | None:
    """The kind whose ARNs have this service (``sqs``, ``lambda``...), if sendoff has it."""
    return next((k for k in kinds() if k.service == service), None)


def kind_for_sam_type(name: str) -> DestinationKind | None:
    """The kind a SAM ``DestinationConfig.*.Type`` names (``SQS``, ``EventBridge``...)."""
    return next((k for k in kinds() if k.sam.name == name), None)


def service_names() -> frozenset[str]:
    """The ARN services a destination may have."""
    return frozenset(k.service for k in kinds())


def destination_actions() -> dict[str, tuple[str, str]]:
    """Service -> (IAM action, operation) that the execution role must allow, per kind."""
    return {k.service: (k.iam_action, k.operation) for k in kinds()}


def destination_resources() -> dict[str, Callable[[str, str], str]]:
    """Service -> the kind's ``iam_resource(arn, function_name)``: what the execution role
    must be allowed to act on."""
    return {k.service: k.iam_resource for k in kinds()}


def install_transports(
    services: BuiltServices,
    deliveries: Deliveries,
    kinds_: Iterable[DestinationKind] | None = None,
) -> None:
    """Register each kind's transport under its service; ConfigError when a kind has
    none (its service is not built) or is incomplete."""
    chosen = list(kinds() if kinds_ is None else kinds_)
    check(chosen)
    for kind in chosen:
        try:
            transport = kind.transport(services)
        except Exception as exc:  # reported as the start-up failure it is
            raise ConfigError(f"destination kind {kind.service!r} has no transport: {exc}") from exc
        if transport is None:
            raise ConfigError(f"destination kind {kind.service!r} has no transport")
        deliveries.register(kind.service, transport)
