"""Topics: create (idempotent, FIFO by name), delete, list, attributes and tags."""

from __future__ import annotations

from collections.abc import Mapping

from sendoff.model.clock import Clock
from sendoff.model.scope import Scope
from sendoff.services.sns.attributes import (
    render_topic_attributes,
    validate_topic_attribute,
    validate_topic_attributes,
)
from sendoff.services.sns.errors import (
    InvalidParameter,
    ResourceNotFound,
    topic_not_found,
)
from sendoff.services.sns.model import (
    FIFO_TOPIC_NAME_RE,
    TOPIC_NAME_RE,
    Topic,
    TopicName,
    parse_topic_arn,
)
from sendoff.services.sns.paging import Page, decode_token, encode_token
from sendoff.services.sns.repository import SnsRepository

MAX_TAGS = 50
FIFO_NAME_RULE = (
    "Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase "
    "ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 "
    "characters long."
)


def topic_in_scope(arn: str, scope: Scope, *, field_name: str = "TopicArn") -> TopicName:
    """Parse a topic ARN named by a caller in ``scope`` (another region is invalid)."""
    name = parse_topic_arn(arn, field_name=field_name)
    if name.scope != scope:
        raise InvalidParameter(field_name)
    return name


class Topics:
    def __init__(self, repo: SnsRepository, *, clock: Clock, page_size: int = 100) -> None:
        self.repo = repo
        self.clock = clock
        self.page_size = page_size

    async def create(
        self,
        scope: Scope,
        name: str,
        attributes: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Topic:
        attributes = dict(attributes or {})
        fifo_flag = attributes.get("FifoTopic", "false").lower()
        if fifo_flag not in ("true", "false"):
            raise InvalidParameter("FifoTopic: must be true or false")
        fifo = fifo_flag == "true"
        if fifo and not FIFO_TOPIC_NAME_RE.match(name):
            raise InvalidParameter(FIFO_NAME_RULE)
        if not fifo and not TOPIC_NAME_RE.match(name):
            raise InvalidParameter("Topic Name")
        validated = validate_topic_attributes(attributes, fifo=fifo)
        tags = _validate_tags(tags or {})
        topic_name = TopicName(scope=scope, name=name)
        topic, created = await self.repo.create_topic(
            Topic(name=topic_name, attributes=validated, tags=tags, created_at=self.clock())
        )
        if created:
            return topic
        given = {k: v for k, v in validated.items() if k in attributes}
        if any(topic.attributes.get(k, "") != v for k, v in given.items()):
            raise InvalidParameter(
                "Attributes Reason: Topic already exists with different attributes"
            )
        if any(topic.tags.get(k) != v for k, v in tags.items()):
            raise InvalidParameter("Tags Reason: Topic already exists with different tags")
        return topic

    async def delete(self, scope: Scope, arn: str) -> None:
        """Delete a topic and its subscriptions. Deleting a missing topic is no error."""
        await self.repo.delete_topic(topic_in_scope(arn, scope))

    async def get(self, scope: Scope, arn: str) -> Topic:
        topic = await self.repo.get_topic(topic_in_scope(arn, scope))
        if topic is None:
            raise topic_not_found()
        return topic

    async def list_page(self, scope: Scope, next_token: str | None = None) -> Page[Topic]:
        after = decode_token(next_token, scope)
        topics = await self.repo.list_topics(scope, after=after, limit=self.page_size + 1)
        more = len(topics) > self.page_size
        topics = topics[: self.page_size]
        token = encode_token(topics[-1].name.key) if more else None
        return Page(items=topics, next_token=token)

    async def attributes(self, scope: Scope, arn: str) -> dict[str, str]:
        topic = await self.get(scope, arn)
        subs = await self.repo.subscriptions_of(topic.name)
        pending = sum(1 for s in subs if s.pending)
        return render_topic_attributes(topic, confirmed=len(subs) - pending, pending=pending)

    async def set_attribute(self, scope: Scope, arn: str, name: str, value: str) -> None:
        topic = await self.get(scope, arn)
        if name == "FifoTopic":
            raise InvalidParameter("AttributeName Reason: FifoTopic can only be set at creation")
        value = validate_topic_attribute(name, value, fifo=topic.fifo)

        def change(t: Topic) -> Topic:
            attrs = dict(t.attributes)
            if value == "":
                attrs.pop(name, None)
            else:
                attrs[name] = value
            return t.evolve(attributes=attrs)

        if await self.repo.update_topic(topic.name, change) is None:
            raise topic_not_found()

    # ---- tags ----
    async def tag(self, scope: Scope, arn: str, tags: Mapping[str, str]) -> None:
        tags = _validate_tags(tags)
        topic = await self._tagged(scope, arn)
        if len({**topic.tags, **tags}) > MAX_TAGS:
            raise InvalidParameter(f"Tags Reason: a topic can have at most {MAX_TAGS} tags")
        await self.repo.update_topic(topic.name, lambda t: t.evolve(tags={**t.tags, **tags}))

    async def untag(self, scope: Scope, arn: str, keys: list[str]) -> None:
        topic = await self._tagged(scope, arn)
        await self.repo.update_topic(
            topic.name, lambda t: t.evolve(tags={k: v for k, v in t.tags.items() if k not in keys})
        )

    async def tags(self, scope: Scope, arn: str) -> dict[str, str]:
        return dict((await self._tagged(scope, arn)).tags)

    async def _tagged(self, scope: Scope, arn: str) -> Topic:
        topic = await self.repo.get_topic(topic_in_scope(arn, scope, field_name="ResourceArn"))
        if topic is None:
            raise ResourceNotFound("Resource does not exist")
        return topic


def _validate_tags(tags: Mapping[str, str]) -> dict[str, str]:
    if len(tags) > MAX_TAGS:
        raise InvalidParameter(f"Tags Reason: a topic can have at most {MAX_TAGS} tags")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise InvalidParameter("Tags Reason: tag keys are 1-128 and values 0-256 characters")
    return dict(tags)
