"""SNS topics with a ``lambda`` subscription to the function (pending ones marked)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from sendoff.console.triggers import Trigger, TriggerSource, names_function

if TYPE_CHECKING:
    from sendoff.console.context import Console


class TopicSubscriptions(TriggerSource):
    rank = 10

    async def find(self, console: Console, function_name: str, function_arn: str) -> list[Trigger]:
        topics = console.services.topics
        if topics is None:
            return []
        found: list[Trigger] = []
        for topic in await topics.summary(console.account_id, console.region):
            for sub in topic["subscriptions"]:
                if sub["protocol"] == "lambda" and names_function(sub["endpoint"], function_arn):
                    found.append(Trigger(
                        kind="SNS topic", name=topic["name"],
                        detail="subscription" + (" (pending)" if sub["pending"] else ""),
                        url=f"/console/topics/{quote(topic['name'], safe='')}",
                    ))  # fmt: skip
        return found


SOURCE = TopicSubscriptions()
