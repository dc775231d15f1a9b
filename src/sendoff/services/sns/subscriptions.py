"""Subscriptions: subscribe (idempotent), the confirmation flow, unsubscribe, listing and
attributes.

Which subscriptions start confirmed:

* ``sqs`` and ``lambda``: confirmed at once (same account, as on AWS).
* ``http``/``https``: pending; a SubscriptionConfirmation with a Token and SubscribeURL is
  POSTed to the endpoint; ConfirmSubscription(Token) or a GET of SubscribeURL confirms.
* ``email``/``email-json``: confirmed at once. AWS mails a confirmation link first; a local
  tool has no one to click it, and the user subscribing is the owner of the mailbox, so
  sendoff skips that mail and delivers notifications straight away (docs/sns.md).
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Mapping

from sendoff.model.clock import Clock
from sendoff.model.scope import Scope
from sendoff.services.sns.attributes import (
    render_subscription_attributes,
    set_subscription_attribute,
    validate_subscription_attributes,
)
from sendoff.services.sns.envelope import Links
from sendoff.services.sns.errors import InvalidParameter, subscription_not_found, topic_not_found
from sendoff.services.sns.fanout import Publisher
from sendoff.services.sns.jobs import confirmation_job, unsubscribe_confirmation_job
from sendoff.services.sns.model import (
    AUTHENTICATED_ON_SUBSCRIBE,
    NEEDS_CONFIRMATION,
    PENDING_ARN,
    Protocol,
    Subscription,
    SubscriptionName,
    Topic,
    parse_subscription_arn,
)
from sendoff.services.sns.paging import Page, decode_token, encode_token
from sendoff.services.sns.repository import SnsRepository
from sendoff.services.sns.topics import topic_in_scope

_SQS_ARN_RE = re.compile(r"^arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$")
_LAMBDA_ARN_RE = re.compile(
    r"^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$"
)
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")


def validate_endpoint(protocol: Protocol, endpoint: str | None, topic: Topic) -> str:
    endpoint = endpoint or ""
    if protocol is Protocol.SQS:
        if not _SQS_ARN_RE.match(endpoint):
            raise InvalidParameter("SQS endpoint ARN")
        if endpoint.endswith(".fifo") and not topic.fifo:
            raise InvalidParameter(  # AWS-recorded, "Invalid parameter: " twice
                "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to "
                "standard SNS topics"
            )
    elif topic.fifo:
        raise InvalidParameter(
            f"Invalid protocol type: {protocol.value} (FIFO topics deliver to SQS queues only)"
        )
    elif protocol is Protocol.LAMBDA:
        if not _LAMBDA_ARN_RE.match(endpoint):
            raise InvalidParameter("Lambda endpoint ARN")
    elif protocol in (Protocol.HTTP, Protocol.HTTPS):
        if not endpoint.lower().startswith(f"{protocol.value}://") or len(endpoint) < 10:
            raise InvalidParameter("Endpoint must match the specified protocol")
    elif not _EMAIL_RE.match(endpoint):
        raise InvalidParameter("Email address")
    return endpoint


def _with_token(subs: list[Subscription], token: str) -> Subscription | None:
    for sub in subs:
        if sub.token is not None and secrets.compare_digest(sub.token.encode(), token.encode()):
            return sub
    return None


class Subscriptions:
    def __init__(
        self,
        repo: SnsRepository,
        publisher: Publisher,
        *,
        links: Links,
        clock: Clock,
        page_size: int = 100,
    ) -> None:
        self.repo = repo
        self.publisher = publisher
        self.links = links
        self.clock = clock
        self.page_size = page_size

    async def subscribe(
        self,
        scope: Scope,
        topic_arn: str,
        protocol: str,
        endpoint: str | None,
        attributes: Mapping[str, str] | None = None,
        *,
        return_arn: bool = False,
        principal: str = "",
    ) -> str:
        """Subscribe; the ARN, or "pending confirmation" for an unconfirmed endpoint.
        ``principal`` is the caller's ARN (``SubscriptionPrincipal``)."""
        topic = await self._topic(scope, topic_arn)
        try:
            proto = Protocol(protocol)
        except ValueError:
            raise InvalidParameter(
                f"Amazon SNS does not support this protocol string: {protocol}"
            ) from None
        endpoint = validate_endpoint(proto, endpoint, topic)
        try:
            attrs = validate_subscription_attributes(attributes or {}, protocol=proto)
        except InvalidParameter as exc:  # Subscribe words them "Attributes Reason: ..."
            raise InvalidParameter(f"Attributes Reason: {exc.detail}") from None
        for existing in await self.repo.subscriptions_of(topic.name):
            if existing.protocol is proto and existing.endpoint == endpoint:
                if attributes and any(existing.attributes.get(k) != v for k, v in attrs.items()):
                    raise InvalidParameter(
                        "Attributes Reason: Subscription already exists with different attributes"
                    )
                if existing.pending:
                    await self._send_confirmation(existing, topic)
                return existing.arn if return_arn or not existing.pending else PENDING_ARN
        pending = proto in NEEDS_CONFIRMATION
        sub = Subscription(
            name=SubscriptionName(topic=topic.name, id=str(uuid.uuid4())),
            protocol=proto,
            endpoint=endpoint,
            owner=scope.account_id,
            pending=pending,
            token=secrets.token_hex(64) if pending else None,
            attributes=attrs,
            created_at=self.clock(),
            # confirmed by the owner's own signed Subscribe (as AWS reports sqs/lambda)
            confirmation_authenticated=proto in AUTHENTICATED_ON_SUBSCRIBE,
            principal=principal,
        )
        await self.repo.put_subscription(sub)
        if pending:
            await self._send_confirmation(sub, topic)
            return sub.arn if return_arn else PENDING_ARN
        return sub.arn

    async def confirm(
        self, scope: Scope, topic_arn: str, token: str, *, authenticated: bool = False
    ) -> str:
        """Confirm by token. As AWS records it, the token decides, not the topic name: a
        valid token under a topic ARN that names no topic still confirms its subscription
        in that region, and a token of another region is ``Invalid parameter: Topic``."""
        name = topic_in_scope(topic_arn, scope)
        topic = await self.repo.get_topic(name)
        subs = await self.repo.subscriptions_of(name) if topic is not None else []
        sub = _with_token(subs, token)
        if sub is None and topic is not None:  # an UnsubscribeConfirmation's token restores
            removed = _with_token(await self.repo.unsubscribed_of(name), token)
            if removed is not None and await self.repo.restore_unsubscribed(removed):
                return removed.arn
        if sub is None and topic is None:
            sub = _with_token(await self._account_subscriptions(scope), token)
            if sub is None:
                raise topic_not_found()
            if sub.name.topic.scope != scope:
                raise InvalidParameter("Topic")
        if sub is None:
            raise InvalidParameter("Token")
        if sub.pending or (authenticated and not sub.confirmation_authenticated):
            # confirming again may require authentication to unsubscribe, never drop it
            await self.repo.update_subscription(
                sub.name,
                lambda s: s.evolve(
                    pending=False,
                    confirmation_authenticated=s.confirmation_authenticated or authenticated,
                ),
            )
        return sub.arn

    async def _account_subscriptions(self, scope: Scope) -> list[Subscription]:
        """Every subscription of the scope's account, all regions (a rare error path)."""
        out: list[Subscription] = []
        for topic in await self.repo.all_topics(scope.account_id):
            out.extend(await self.repo.subscriptions_of(topic.name))
        return out

    async def unsubscribe(
        self, scope: Scope, subscription_arn: str, *, by_link: bool = False
    ) -> None:
        """Remove a subscription. ``by_link`` (an unsigned UnsubscribeURL): an HTTP/S
        endpoint then gets AWS's final UnsubscribeConfirmation, whose token restores it."""
        name = self._name(scope, subscription_arn)
        sub = await self.repo.get_subscription(name) if by_link else None
        if not await self.repo.delete_subscription(name):
            raise subscription_not_found()
        topic = await self.repo.update_topic(
            name.topic, lambda t: t.evolve(subscriptions_deleted=t.subscriptions_deleted + 1)
        )
        if sub is not None and topic is not None and sub.protocol in NEEDS_CONFIRMATION:
            removed = sub.evolve(token=secrets.token_hex(64))
            await self.repo.put_unsubscribed(removed)
            await self.publisher.submit(
                unsubscribe_confirmation_job(removed, topic, links=self.links, now=self.clock())
            )

    async def get(self, scope: Scope, subscription_arn: str) -> Subscription:
        sub = await self.repo.get_subscription(self._name(scope, subscription_arn))
        if sub is None:
            raise subscription_not_found()
        return sub

    async def attributes(self, scope: Scope, subscription_arn: str) -> dict[str, str]:
        sub = await self.get(scope, subscription_arn)
        return render_subscription_attributes(sub, await self.repo.get_topic(sub.name.topic))

    async def set_attribute(
        self, scope: Scope, subscription_arn: str, name: str, value: str
    ) -> None:
        sub = await self.get(scope, subscription_arn)
        attrs = set_subscription_attribute(sub.attributes, name, value, protocol=sub.protocol)
        if (
            await self.repo.update_subscription(sub.name, lambda s: s.evolve(attributes=attrs))
            is None
        ):
            raise subscription_not_found()

    async def list_page(self, scope: Scope, next_token: str | None = None) -> Page[Subscription]:
        after = decode_token(next_token, scope)
        subs = await self.repo.list_subscriptions(scope, after=after, limit=self.page_size + 1)
        return self._page(subs)

    async def list_by_topic(
        self, scope: Scope, topic_arn: str, next_token: str | None = None
    ) -> Page[Subscription]:
        topic = await self._topic(scope, topic_arn)
        after = decode_token(next_token, scope)
        subs = await self.repo.list_subscriptions_of(
            topic.name, after=after, limit=self.page_size + 1
        )
        return self._page(subs)

    def _page(self, subs: list[Subscription]) -> Page[Subscription]:
        more = len(subs) > self.page_size
        subs = subs[: self.page_size]
        return Page(items=subs, next_token=encode_token(subs[-1].name.key) if more else None)

    async def _topic(self, scope: Scope, topic_arn: str) -> Topic:
        topic = await self.repo.get_topic(topic_in_scope(topic_arn, scope))
        if topic is None:
            raise topic_not_found()
        return topic

    @staticmethod
    def _name(scope: Scope, subscription_arn: str) -> SubscriptionName:
        name = parse_subscription_arn(subscription_arn)
        if name.topic.scope != scope:
            raise InvalidParameter("SubscriptionArn")
        return name

    async def _send_confirmation(self, sub: Subscription, topic: Topic) -> None:
        await self.publisher.submit(
            confirmation_job(sub, topic, links=self.links, now=self.clock())
        )
