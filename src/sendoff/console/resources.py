"""Resources across the built-in services, as the console shows and links them.

Each destination kind (:mod:`sendoff.destinations.kinds`) knows its own resources; this
module only asks every kind in turn, so a new kind appears here without a change.

* :func:`describe_arn` names what an ARN points at and where its console page is.
* :func:`destination_choices` lists existing resources of every kind that can receive
  execution records (the "Destination" picker).
* :func:`exists` tells whether an ARN names a resource sendoff hosts (for warnings).

What invokes a function (its "Triggers") is :mod:`sendoff.console.triggers`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sendoff.destinations.registry import kind_for, kinds
from sendoff.model.arn import parse_arn

if TYPE_CHECKING:
    from sendoff.console.context import Console

# (service, label) per destination kind, in the picker's order (sendoff.destinations)
DESTINATION_TYPES: tuple[tuple[str, str], ...] = tuple((k.service, k.label) for k in kinds())
TYPE_LABELS = dict(DESTINATION_TYPES)
WITH_ARTICLE = {k.service: k.with_article for k in kinds()}


@dataclass(frozen=True, kw_only=True)
class ResourceLink:
    arn: str
    service: str  # sqs, sns, lambda, events, or the ARN's service
    kind: str  # "SQS queue", ...
    name: str
    url: str | None  # the console page, when sendoff hosts it in the console's scope


def describe_arn(arn: str, *, account_id: str, region: str) -> ResourceLink:
    parsed = parse_arn(arn)
    if parsed is None:
        return ResourceLink(arn=arn, service="", kind="Unknown", name=arn, url=None)
    local = parsed.account_id == account_id and parsed.region == region
    service = parsed.service
    name = parsed.resource
    url: str | None = None
    kind = kind_for(service)
    if kind is not None:
        name, url = kind.console_link(arn, parsed)
    return ResourceLink(
        arn=arn, service=service, kind=TYPE_LABELS.get(service, service.upper() or "Unknown"),
        name=name, url=url if local else None,
    )  # fmt: skip


async def destination_choices(console: Console, *, exclude_function: str) -> dict[str, list[str]]:
    """ARNs of existing resources per destination type (the picker's suggestions); the
    function being configured is left out (it cannot be its own destination)."""
    scope = console.scope
    own = scope.function_arn(exclude_function) if exclude_function else None
    return {
        kind.service: [
            arn for arn in await kind.console_choices(console.services, scope) if arn != own
        ]
        for kind in kinds()
    }


async def exists(console: Console, arn: str) -> bool | None:
    """True/False when sendoff can tell (its own services), None for anything else."""
    parsed = parse_arn(arn)
    kind = kind_for(parsed.service) if parsed is not None else None
    if parsed is None or kind is None:
        return None
    if describe_arn(arn, account_id=console.account_id, region=console.region).url is None:
        return None
    return await kind.console_exists(console.services, console.scope, arn, parsed)
