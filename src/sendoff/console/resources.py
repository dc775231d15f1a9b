"""Resources across the built-in services, as the console shows and links them.

* :func:`describe_arn` names what an ARN points at and where its console page is.
* :func:`destination_choices` lists existing queues, topics, functions and buses that
  can receive execution records (the "Destination" picker).
* :func:`triggers_of` finds what invokes a function: SNS subscriptions, EventBridge
  rule targets naming it, S3 buckets notifying it, and event source mappings (SQS
  queues) with their state and last processing result.
* :func:`exists` tells whether an ARN names a resource sendoff hosts (for warnings).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sendoff.destinations.registry import kind_for, kinds
from sendoff.functions.errors import ResourceNotFound
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


@dataclass(frozen=True, kw_only=True)
class Trigger:
    kind: str  # "SNS topic" | "EventBridge rule" | "SQS queue"
    name: str
    detail: str
    url: str
    mapping: str | None = None  # an event source mapping's UUID (it can be toggled)
    enabled: bool = True
    last_result: str | None = None


def describe_arn(arn: str, *, account_id: str, region: str) -> ResourceLink:
    parsed = parse_arn(arn)
    if parsed is None:
        return ResourceLink(arn=arn, service="", kind="Unknown", name=arn, url=None)
    service = parsed.service
    # an S3 ARN names no account or region (bucket names are global)
    local = (parsed.account_id, parsed.region) in ((account_id, region), ("", ""))
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
    """ARNs of existing resources per destination type (the picker's suggestions)."""
    s = console.services
    out: dict[str, list[str]] = {key: [] for key, _ in DESTINATION_TYPES}
    if s.queues is not None:
        from sendoff.services.sqs.model import Scope as SqsScope

        queues = await s.queues.list_queues(
            SqsScope(account_id=console.account_id, region=console.region)
        )
        out["sqs"] = [q.arn for q in queues]
    if s.topics is not None:
        for topic in await s.topics.summary(console.account_id, console.region):
            out["sns"].append(topic["arn"])
    states, _ = await s.registry.list_functions(console.scope, marker=None, limit=1000)
    out["lambda"] = [
        console.scope.arn(st.latest.name) for st in states if st.latest.name != exclude_function
    ]
    if s.buses is not None:
        from sendoff.services.events.model import Scope as EventsScope
        from sendoff.services.events.model import bus_arn

        scope = EventsScope(account_id=console.account_id, region=console.region)
        page = await s.buses.list_event_buses(scope)
        out["events"] = [bus_arn(scope, b.name) for b in page.items]
    if s.objects is not None and "s3" in out:
        out["s3"] = [f"arn:aws:s3:::{b.name}" for b in await s.objects.list_buckets(
            console.account_id)]  # fmt: skip
    return out


async def triggers_of(console: Console, function_name: str) -> list[Trigger]:
    s = console.services
    arn = console.scope.arn(function_name)
    found: list[Trigger] = []

    def names_function(target: str) -> bool:
        return target == arn or target.startswith(arn + ":")

    if s.topics is not None:
        for topic in await s.topics.summary(console.account_id, console.region):
            for sub in topic["subscriptions"]:
                if sub["protocol"] == "lambda" and names_function(sub["endpoint"]):
                    found.append(Trigger(
                        kind="SNS topic", name=topic["name"],
                        detail="subscription" + (" (pending)" if sub["pending"] else ""),
                        url=f"/console/topics/{quote(topic['name'], safe='')}",
                    ))  # fmt: skip
    if s.buses is not None:
        from sendoff.services.events.model import Scope as EventsScope

        scope = EventsScope(account_id=console.account_id, region=console.region)
        for bus in (await s.buses.list_event_buses(scope)).items:
            for rule in await s.buses.repo.rules_of(scope, bus.name):
                if any(names_function(t.arn) for t in rule.targets):
                    found.append(Trigger(
                        kind="EventBridge rule", name=rule.name,
                        detail=f"on bus {bus.name}" + (
                            "" if rule.state.value == "ENABLED" else f" ({rule.state.value})"
                        ),
                        url=f"/console/buses/{quote(bus.name, safe='')}#rule-{rule.name}",
                    ))  # fmt: skip
    found += await _bucket_triggers(console, names_function)
    pollers = s.event_sources
    if pollers is not None:
        for mapping in await pollers.mappings.in_scope(console.scope, function_name=function_name):
            queue = mapping.event_source_arn.rsplit(":", 1)[-1]
            result, _ = await pollers.mappings.last_result(mapping)
            found.append(Trigger(
                kind="SQS queue", name=queue,
                detail=f"batch size {mapping.batch_size}, {mapping.state}",
                url=f"/console/queues/{quote(queue, safe='')}",
                mapping=mapping.uuid, enabled=mapping.enabled, last_result=result,
            ))  # fmt: skip
    return found


async def _bucket_triggers(console: Console, names_function: Any) -> list[Trigger]:
    """Buckets whose notification configuration names the function."""
    s = console.services
    if s.objects is None or s.s3_notifier is None:
        return []
    from sendoff.services.s3.notifier import BucketRef

    found: list[Trigger] = []
    for bucket in await s.objects.list_buckets(console.account_id):
        ref = BucketRef(name=bucket.name, account=bucket.account, region=bucket.region)
        config = await s.s3_notifier.get(ref)
        for target in config.targets:
            if target.kind == "lambda" and names_function(target.arn):
                found.append(Trigger(
                    kind="S3 bucket", name=bucket.name, detail=", ".join(target.events),
                    url=f"/console/buckets/{quote(bucket.name, safe='')}",
                ))  # fmt: skip
    return found


async def exists(console: Console, arn: str) -> bool | None:
    """True/False when sendoff can tell (its own services), None for anything else."""
    link = describe_arn(arn, account_id=console.account_id, region=console.region)
    s = console.services
    if link.url is None:
        return None
    if link.service == "sqs" and s.queues is not None:
        return await s.queues.get_queue(arn) is not None
    if link.service == "sns" and s.topics is not None:
        topics = await s.topics.summary(console.account_id, console.region)
        return any(t["arn"] == arn for t in topics)
    if link.service == "lambda":
        try:
            await s.registry.resolve(console.scope, arn)
        except ResourceNotFound:
            return False
        return True
    if link.service == "events" and s.buses is not None:
        from sendoff.services.events.model import Scope as EventsScope

        scope = EventsScope(account_id=console.account_id, region=console.region)
        return await s.buses.repo.get_bus(scope, link.name) is not None
    if link.service == "s3" and s.objects is not None:
        info = await s.objects.bucket(link.name)
        return info is not None and info.account == console.account_id
    return None
