"""S3 buckets whose notification configuration invokes the function."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from sendoff.console.triggers import Trigger, TriggerSource, names_function

if TYPE_CHECKING:
    from sendoff.console.context import Console


class BucketNotifications(TriggerSource):
    rank = 25

    async def find(self, console: Console, function_name: str, function_arn: str) -> list[Trigger]:
        objects, notifier = console.services.objects, console.services.s3_notifier
        if objects is None or notifier is None:
            return []
        from sendoff.services.s3.notifier import BucketRef

        found: list[Trigger] = []
        for bucket in await objects.list_buckets(console.account_id):
            ref = BucketRef(name=bucket.name, account=bucket.account, region=bucket.region)
            for target in (await notifier.get(ref)).targets:
                if target.kind == "lambda" and names_function(target.arn, function_arn):
                    found.append(Trigger(
                        kind="S3 bucket", name=bucket.name, detail=", ".join(target.events),
                        url=f"/console/buckets/{quote(bucket.name, safe='')}",
                    ))  # fmt: skip
        return found


SOURCE = BucketNotifications()
