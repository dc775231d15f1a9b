"""What happens when an SNS delivery fails for good (the outbox's ``on_failed`` hook):
the failure is counted on the topic and the subscription (``NumberOfNotificationsFailed``
in their attributes), and, when the subscription has a RedrivePolicy, the message is sent
to its dead-letter queue (itself a durable ``sqs`` delivery).
"""

from __future__ import annotations

import logging
from typing import Any

from sendoff.delivery import Deliveries
from sendoff.model.job import DeliveryJob
from sendoff.services.sns.errors import SnsError
from sendoff.services.sns.jobs import SCHEME_SQS
from sendoff.services.sns.model import parse_subscription_arn, parse_topic_arn
from sendoff.services.sns.repository import SnsRepository
from sendoff.store import EventRecord

log = logging.getLogger("sendoff.sns")


class DeliveryFailures:
    def __init__(self, repo: SnsRepository, deliveries: Deliveries) -> None:
        self.repo = repo
        self.deliveries = deliveries

    async def __call__(self, record: EventRecord) -> None:
        job = DeliveryJob.decode(record.body)
        source: dict[str, Any] = job.source
        if source.get("service") != "sns":
            return
        payload = job.payload if isinstance(job.payload, dict) else {}
        if source.get("delivery_id") and payload.get("scope"):
            await self.repo.forget_attempts(payload["scope"], source["delivery_id"])
        if source.get("confirmation"):
            log.warning("subscription confirmation to %s failed: %s", job.target, job.error)
            return
        try:
            topic = parse_topic_arn(source["topic_arn"])
            sub = parse_subscription_arn(source["subscription_arn"])
        except (KeyError, SnsError):
            return
        await self.repo.update_topic(
            topic, lambda t: t.evolve(notifications_failed=t.notifications_failed + 1)
        )
        await self.repo.update_subscription(
            sub, lambda s: s.evolve(notifications_failed=s.notifications_failed + 1)
        )
        redrive = source.get("redrive")
        if redrive:
            await self.deliveries.submit(
                scheme=SCHEME_SQS,
                target=redrive["target"],
                payload=redrive["payload"],
                scope_key=topic.scope.key,
                source={
                    "service": "sns-redrive",
                    "subscription_arn": sub.arn,
                    "message_id": source.get("message_id"),
                },
            )
