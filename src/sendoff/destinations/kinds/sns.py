"""SNS topics as destinations: the record is the Message, and the trace header goes on
to the topic's subscribers (facts §7.2); also a dead-letter target."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sendoff.destinations.kind import (
    DestinationKind,
    Origin,
    RecordSend,
    SamAutoCreate,
    SamType,
)
from sendoff.model.arn import Arn

if TYPE_CHECKING:
    from sendoff.delivery.outbox import Transport
    from sendoff.destinations.kind import BuiltServices
    from sendoff.model.scope import Scope


class SnsKind(DestinationKind):
    service = "sns"
    label = "SNS topic"
    with_article = "an SNS topic"
    rank = 20
    iam_action = "sns:Publish"
    operation = "Publish"
    sam = SamType(
        name="SNS",
        action="sns:publish",  # as SAM writes it
        auto_create=SamAutoCreate(
            resource_type="AWS::SNS::Topic", suffix="Topic", referable="DestinationTopic",
            arn_by="Ref",
        ),
    )  # fmt: skip
    dead_letter = True

    async def validate_arn(self, arn: str, origin: Origin) -> str | None:
        return None

    def build_payload(self, send: RecordSend) -> dict[str, Any]:
        payload: dict[str, Any] = {"message": send.body}
        if send.trace_header:  # the topic's subscribers carry the lineage on (facts §7.2)
            payload["trace_header"] = send.trace_header
        return payload

    def dead_letter_payload(
        self, event_payload: str, attributes: dict[str, dict[str, str]]
    ) -> dict[str, Any]:
        return {"message": event_payload, "attributes": attributes}

    def console_link(self, arn: str, parsed: Arn) -> tuple[str, str | None]:
        return parsed.resource, f"/console/topics/{quote(parsed.resource, safe='')}"

    async def console_choices(self, services: BuiltServices, scope: Scope) -> list[str]:
        if services.topics is None:
            return []
        return [
            topic["arn"] for topic in await services.topics.summary(scope.account_id, scope.region)
        ]

    async def console_exists(
        self, services: BuiltServices, scope: Scope, arn: str, parsed: Arn
    ) -> bool | None:
        if services.topics is None:
            return None
        return arn in await self.console_choices(services, scope)

    def transport(self, services: BuiltServices) -> Transport | None:
        from sendoff.services.sns.transports import TopicTransport

        return None if services.topics is None else TopicTransport(services.topics)


KIND = SnsKind()
