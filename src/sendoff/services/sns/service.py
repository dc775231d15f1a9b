"""The SNS-compatible topic service: one object the API edge, the CLI and other services
call (``services.topics``). Topic and subscription management live in :mod:`.topics` and
:mod:`.subscriptions`; publishing in :mod:`.fanout`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sendoff.delivery import Deliveries
from sendoff.model.clock import Clock, system_clock
from sendoff.model.scope import Scope
from sendoff.services.sns.envelope import Links
from sendoff.services.sns.errors import (
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    SnsError,
    TooManyEntriesInBatchRequest,
    topic_not_found,
)
from sendoff.services.sns.failures import DeliveryFailures
from sendoff.services.sns.fanout import Publisher, PublishResult
from sendoff.services.sns.messages import MAX_MESSAGE_BYTES, message_size, validate_message
from sendoff.services.sns.model import parse_topic_arn
from sendoff.services.sns.repository import SnsRepository
from sendoff.services.sns.subscriptions import Subscriptions
from sendoff.services.sns.topics import Topics, topic_in_scope
from sendoff.store import Store

MAX_BATCH_ENTRIES = 10
_BATCH_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


@dataclass(frozen=True, kw_only=True)
class BatchEntry:
    id: str
    message: str
    subject: str | None = None
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    structure: str | None = None
    group_id: str | None = None
    dedup_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class BatchFailure:
    id: str
    code: str
    message: str
    sender_fault: bool


@dataclass(frozen=True, kw_only=True)
class BatchResult:
    successful: list[tuple[str, PublishResult]] = field(default_factory=list)
    failed: list[BatchFailure] = field(default_factory=list)


class TopicService:
    def __init__(
        self,
        store: Store,
        deliveries: Deliveries,
        *,
        endpoint_url: str,
        clock: Clock = system_clock,
    ) -> None:
        self.repo = SnsRepository(store)
        self.links = Links(endpoint_url=endpoint_url)
        self.clock = clock
        self.publisher = Publisher(self.repo, deliveries, links=self.links, clock=clock)
        self.topics = Topics(self.repo, clock=clock)
        self.subscriptions = Subscriptions(self.repo, self.publisher, links=self.links, clock=clock)
        self.failures = DeliveryFailures(self.repo, deliveries)

    async def publish(
        self,
        topic_arn: str,
        message: str,
        *,
        subject: str | None = None,
        attributes: Mapping[str, Mapping[str, str]] | None = None,
        structure: str | None = None,
        group_id: str | None = None,
        dedup_id: str | None = None,
        scope: Scope | None = None,
        trace_header: str | None = None,
    ) -> PublishResult:
        """Publish one message to a topic; every matching delivery is durably queued before
        this returns. ``scope`` is the caller's account/region (None: the ARN's own)."""
        name = parse_topic_arn(topic_arn) if scope is None else topic_in_scope(topic_arn, scope)
        topic = await self.repo.get_topic(name)
        if topic is None:
            raise topic_not_found()
        msg = validate_message(
            message,
            subject=subject,
            attributes=attributes,
            structure=structure,
            group_id=group_id,
            dedup_id=dedup_id,
        )
        if trace_header:
            msg = replace(msg, trace_header=trace_header)
        return await self.publisher.publish(topic, msg)

    async def summary(self, account_id: str, region: str | None = None) -> list[dict[str, Any]]:
        """Topics of an account (one region, or all) with their subscriptions and failure
        counts: what ``sendoff topics list`` shows."""
        out: list[dict[str, Any]] = []
        for topic in await self.repo.all_topics(account_id):
            if region is not None and topic.name.scope.region != region:
                continue
            subs = await self.repo.subscriptions_of(topic.name)
            out.append(
                {
                    "arn": topic.name.arn,
                    "name": topic.name.name,
                    "region": topic.name.scope.region,
                    "fifo": topic.fifo,
                    "notifications_failed": topic.notifications_failed,
                    "subscriptions": [
                        {
                            "arn": sub.arn,
                            "protocol": sub.protocol.value,
                            "endpoint": sub.endpoint,
                            "pending": sub.pending,
                            "notifications_failed": sub.notifications_failed,
                        }
                        for sub in subs
                    ],
                }
            )
        return out

    async def publish_batch(
        self, scope: Scope, topic_arn: str, entries: Sequence[BatchEntry]
    ) -> BatchResult:
        if not entries:
            raise EmptyBatchRequest("The batch request doesn't contain any entries")
        if len(entries) > MAX_BATCH_ENTRIES:
            raise TooManyEntriesInBatchRequest(
                "The batch request contains more entries than permissible."
            )
        ids = [entry.id for entry in entries]
        if len(set(ids)) != len(ids):
            raise BatchEntryIdsNotDistinct(
                "Two or more batch entries in the request have the same Id."
            )
        if not all(_BATCH_ID_RE.match(i) for i in ids):
            raise InvalidBatchEntryId(
                "A batch entry id can only contain alphanumeric characters, hyphens and "
                "underscores. It can be at most 80 letters long."
            )
        if sum(message_size(e.message, e.attributes) for e in entries) > MAX_MESSAGE_BYTES:
            raise BatchRequestTooLong(
                "The length of all the messages put together is more than the limit."
            )
        topic = await self.repo.get_topic(topic_in_scope(topic_arn, scope))
        if topic is None:
            raise topic_not_found()
        result = BatchResult()
        for entry in entries:
            try:
                msg = validate_message(
                    entry.message,
                    subject=entry.subject,
                    attributes=entry.attributes,
                    structure=entry.structure,
                    group_id=entry.group_id,
                    dedup_id=entry.dedup_id,
                )
                result.successful.append((entry.id, await self.publisher.publish(topic, msg)))
            except SnsError as exc:
                result.failed.append(
                    BatchFailure(
                        id=entry.id,
                        code=exc.code,
                        message=exc.message,
                        sender_fault=exc.sender_fault,
                    )
                )
        return result
