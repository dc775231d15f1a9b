"""Publishing: FIFO ordering and deduplication, filter policies, and the fan-out of one
message into one durable delivery job per matching, confirmed subscription.

Every job is in the outbox before ``publish`` returns, so an accepted message is never lost.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass

from sendoff.delivery import Deliveries
from sendoff.model.arn import parse_arn
from sendoff.model.clock import Clock
from sendoff.model.scope import Scope
from sendoff.services.sns.attributes import subscription_filter
from sendoff.services.sns.envelope import Links, Notification
from sendoff.services.sns.errors import InvalidParameter, topic_not_found
from sendoff.services.sns.jobs import SCHEME_LAMBDA, SCHEME_SQS, Job, notification_job
from sendoff.services.sns.messages import OutgoingMessage
from sendoff.services.sns.model import Subscription, Topic
from sendoff.services.sns.repository import SnsRepository

log = logging.getLogger("sendoff.sns")

DEDUP_WINDOW_S = 300.0
_SEQUENCE_BASE = 10**19


@dataclass(frozen=True, kw_only=True)
class PublishResult:
    message_id: str
    sequence_number: str | None = None


class Publisher:
    def __init__(
        self, repo: SnsRepository, deliveries: Deliveries, *, links: Links, clock: Clock
    ) -> None:
        self.repo = repo
        self.deliveries = deliveries
        self.links = links
        self.clock = clock

    async def publish(self, topic: Topic, msg: OutgoingMessage) -> PublishResult:
        message_id = str(uuid.uuid4())
        dedup_id: str | None = None
        sequence: str | None = None
        if topic.fifo:
            dedup_id = self._fifo_dedup_id(topic, msg)
            sequence = await self._next_sequence(topic)
            earlier = await self.repo.claim_dedup(
                topic.name,
                self._dedup_key(topic, msg, dedup_id),
                now=self.clock(),
                window_s=DEDUP_WINDOW_S,
                result={"message_id": message_id, "sequence_number": sequence},
            )
            if earlier is not None:  # accepted, but not delivered again
                return PublishResult(
                    message_id=earlier["message_id"], sequence_number=earlier["sequence_number"]
                )
        elif msg.dedup_id is not None:
            raise InvalidParameter(
                "MessageDeduplicationId Reason: The request includes MessageDeduplicationId "
                "parameter that is not valid for this topic type"
            )
        now = self.clock()
        for sub in await self.repo.subscriptions_of(topic.name):
            if sub.pending or not _matches(sub, msg):
                continue
            notification = Notification(
                message_id=message_id,
                topic_arn=topic.name.arn,
                subscription_arn=sub.arn,
                message=msg.text_for(sub.protocol),
                subject=msg.subject,
                timestamp=now,
                attributes=msg.attributes,
                sequence_number=sequence,
            )
            job = notification_job(
                sub, topic, notification, links=self.links, group_id=msg.group_id, dedup_id=dedup_id
            )
            if msg.trace_header and job.scheme == SCHEME_LAMBDA:
                job.payload["trace_header"] = msg.trace_header
            elif msg.trace_header and job.scheme == SCHEME_SQS:  # the lineage rides along
                job.payload["system_attributes"] = {
                    "AWSTraceHeader": {"DataType": "String", "StringValue": msg.trace_header}
                }
            await self.submit(job)
        return PublishResult(message_id=message_id, sequence_number=sequence)

    async def submit(self, job: Job) -> str:
        topic = parse_arn(job.source["topic_arn"])  # a job's topic ARN is always whole
        assert topic is not None, job.source
        return await self.deliveries.submit(
            scheme=job.scheme,
            target=job.target,
            payload=job.payload,
            scope_key=Scope(account_id=topic.account_id, region=topic.region).key,
            source=job.source,
        )

    def _fifo_dedup_id(self, topic: Topic, msg: OutgoingMessage) -> str:
        if msg.group_id is None:
            raise InvalidParameter("The MessageGroupId parameter is required for FIFO topics")
        if msg.dedup_id is not None:
            return msg.dedup_id
        if topic.attributes.get("ContentBasedDeduplication") == "true":
            return hashlib.sha256(msg.message.encode()).hexdigest()
        raise InvalidParameter(
            "The topic should either have ContentBasedDeduplication enabled or "
            "MessageDeduplicationId provided explicitly"
        )

    @staticmethod
    def _dedup_key(topic: Topic, msg: OutgoingMessage, dedup_id: str) -> str:
        scope = topic.attributes.get("FifoThroughputScope", "Topic")
        text = f"{msg.group_id}\n{dedup_id}" if scope == "MessageGroup" else dedup_id
        return hashlib.sha256(text.encode()).hexdigest()

    async def _next_sequence(self, topic: Topic) -> str:
        updated = await self.repo.update_topic(
            topic.name, lambda t: t.evolve(sequence=t.sequence + 1)
        )
        if updated is None:
            raise topic_not_found()
        return str(_SEQUENCE_BASE + updated.sequence)


def _matches(sub: Subscription, msg: OutgoingMessage) -> bool:
    try:
        policy = subscription_filter(sub)
    except InvalidParameter:
        log.warning("subscription %s has an invalid filter policy; skipping it", sub.arn)
        return False
    if policy is None:
        return True
    if policy.scope == "MessageBody":
        return policy.matches_body(msg.text_for(sub.protocol))
    return policy.matches_attributes(msg.attributes)
