"""Typed access to the store documents of the SNS service (see :mod:`.model` for keys).

Read-modify-write goes through compare-and-swap loops, so concurrent publishers (FIFO
sequence numbers) and failure counters never lose an update.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sendoff.errors import ConflictError
from sendoff.model.scope import Scope
from sendoff.services.sns.model import (
    ATTEMPT,
    DEDUP,
    SUBSCRIPTION,
    TOPIC,
    UNSUBSCRIBED,
    Subscription,
    SubscriptionName,
    Topic,
    TopicName,
    scope_of_key,
)
from sendoff.store import Store

_CAS_ATTEMPTS = 50


class SnsRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- topics ----
    async def get_topic(self, name: TopicName) -> Topic | None:
        doc = await self.store.get(TOPIC, name.key)
        return None if doc is None else Topic.from_json(name.scope, doc.value)

    async def create_topic(self, topic: Topic) -> tuple[Topic, bool]:
        """Create the topic, or return the one that already exists under that name;
        the flag tells whether it was created now."""
        for _ in range(_CAS_ATTEMPTS):
            try:
                await self.store.put(TOPIC, topic.name.key, topic.to_json(), expect=0)
            except ConflictError:
                existing = await self.get_topic(topic.name)
                if existing is not None:
                    return existing, False
                continue
            return topic, True
        raise ConflictError(f"topic {topic.name.arn} is too busy to create")

    async def update_topic(self, name: TopicName, change: Callable[[Topic], Topic]) -> Topic | None:
        for _ in range(_CAS_ATTEMPTS):
            doc = await self.store.get(TOPIC, name.key)
            if doc is None:
                return None
            updated = change(Topic.from_json(name.scope, doc.value))
            try:
                await self.store.put(TOPIC, name.key, updated.to_json(), expect=doc.revision)
            except ConflictError:
                continue
            return updated
        raise ConflictError(f"topic {name.arn} is too busy to update")

    async def delete_topic(self, name: TopicName) -> None:
        for sub in await self.subscriptions_of(name):
            await self.store.delete(SUBSCRIPTION, sub.name.key)
        for sub in await self.unsubscribed_of(name):
            await self.store.delete(UNSUBSCRIBED, sub.name.key)
        await self.store.delete(TOPIC, name.key)

    async def list_topics(self, scope: Scope, *, after: str | None, limit: int) -> list[Topic]:
        docs = await self.store.scan(TOPIC, scope.key_prefix, after=after, limit=limit)
        return [Topic.from_json(scope, doc.value) for doc in docs]

    async def all_topics(self, account_id: str) -> list[Topic]:
        """Every topic of an account, all regions."""
        docs = await self.store.scan(TOPIC, f"{account_id}/")
        return [Topic.from_json(scope_of_key(doc.key), doc.value) for doc in docs]

    # ---- subscriptions ----
    async def get_subscription(self, name: SubscriptionName) -> Subscription | None:
        doc = await self.store.get(SUBSCRIPTION, name.key)
        return None if doc is None else Subscription.from_json(name.topic.scope, doc.value)

    async def put_subscription(self, sub: Subscription) -> None:
        await self.store.put(SUBSCRIPTION, sub.name.key, sub.to_json())

    async def update_subscription(
        self, name: SubscriptionName, change: Callable[[Subscription], Subscription]
    ) -> Subscription | None:
        for _ in range(_CAS_ATTEMPTS):
            doc = await self.store.get(SUBSCRIPTION, name.key)
            if doc is None:
                return None
            updated = change(Subscription.from_json(name.topic.scope, doc.value))
            try:
                await self.store.put(SUBSCRIPTION, name.key, updated.to_json(), expect=doc.revision)
            except ConflictError:
                continue
            return updated
        raise ConflictError(f"subscription {name.arn} is too busy to update")

    async def delete_subscription(self, name: SubscriptionName) -> bool:
        return await self.store.delete(SUBSCRIPTION, name.key)

    # ---- subscriptions removed by their UnsubscribeURL (restorable by token) ----
    async def put_unsubscribed(self, sub: Subscription) -> None:
        await self.store.put(UNSUBSCRIBED, sub.name.key, sub.to_json())

    async def unsubscribed_of(self, topic: TopicName) -> list[Subscription]:
        docs = await self.store.scan(UNSUBSCRIBED, f"{topic.key}/")
        return [Subscription.from_json(topic.scope, doc.value) for doc in docs]

    async def restore_unsubscribed(self, sub: Subscription) -> bool:
        """Bring a removed subscription back (once: the tombstone goes)."""
        if not await self.store.delete(UNSUBSCRIBED, sub.name.key):
            return False
        await self.put_subscription(sub)
        return True

    async def subscriptions_of(self, topic: TopicName) -> list[Subscription]:
        docs = await self.store.scan(SUBSCRIPTION, f"{topic.key}/")
        return [Subscription.from_json(topic.scope, doc.value) for doc in docs]

    async def list_subscriptions(
        self, scope: Scope, *, after: str | None, limit: int
    ) -> list[Subscription]:
        docs = await self.store.scan(SUBSCRIPTION, scope.key_prefix, after=after, limit=limit)
        return [Subscription.from_json(scope_of_key(doc.key), doc.value) for doc in docs]

    async def list_subscriptions_of(
        self, topic: TopicName, *, after: str | None, limit: int
    ) -> list[Subscription]:
        docs = await self.store.scan(SUBSCRIPTION, f"{topic.key}/", after=after, limit=limit)
        return [Subscription.from_json(topic.scope, doc.value) for doc in docs]

    # ---- FIFO deduplication ----
    async def claim_dedup(
        self,
        topic: TopicName,
        dedup_key: str,
        *,
        now: float,
        window_s: float,
        result: dict[str, Any],
    ) -> dict[str, Any] | None:
        """Remember ``result`` under the deduplication id; if an unexpired entry exists,
        return its result instead (the message is a duplicate)."""
        key = f"{topic.key}/{dedup_key}"
        value = {"expires_at": now + window_s, "result": result}
        for _ in range(_CAS_ATTEMPTS):
            doc = await self.store.get(DEDUP, key)
            if doc is not None and float(doc.value["expires_at"]) > now:
                return dict(doc.value["result"])
            try:
                await self.store.put(DEDUP, key, value, expect=0 if doc is None else doc.revision)
            except ConflictError:
                continue
            return None
        raise ConflictError(f"deduplication id {dedup_key} is too busy")

    # ---- HTTP attempt counters ----
    async def count_attempt(self, scope_key: str, delivery_id: str) -> int:
        """Record one more delivery attempt; return how many have been made."""
        key = f"{scope_key}/{delivery_id}"
        doc = await self.store.get(ATTEMPT, key)
        attempts = (int(doc.value["attempts"]) if doc else 0) + 1
        await self.store.put(ATTEMPT, key, {"attempts": attempts})
        return attempts

    async def forget_attempts(self, scope_key: str, delivery_id: str) -> None:
        await self.store.delete(ATTEMPT, f"{scope_key}/{delivery_id}")
