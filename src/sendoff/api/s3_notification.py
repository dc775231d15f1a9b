"""``/<bucket>?notification``: Put/GetBucketNotificationConfiguration (REST-XML).

A handler the S3 edge routes the ``notification`` subresource to
(``S3Api.add_subresource``). GET answers the stored configuration (an empty
``<NotificationConfiguration/>`` when none); PUT replaces it (an empty document removes
it), checking targets unless ``x-amz-skip-destination-validation: true``. Only the
bucket's owner may do either (``S3Service.owned_bucket``: NoSuchBucket / AccessDenied).
Its errors are S3's (``services.s3.errors``), rendered by the S3 edge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import Response

from sendoff.api.s3.bodies import raw_stream, read_all
from sendoff.api.s3.responses import empty, request_headers
from sendoff.services.s3.errors import MethodNotAllowed
from sendoff.services.s3.notification_config import MAX_BODY_BYTES, render_xml
from sendoff.services.s3.notifier import BucketRef, S3Notifier
from sendoff.services.s3.service import S3Service

if TYPE_CHECKING:
    from sendoff.api.s3.api import S3Request

SKIP_HEADER = "x-amz-skip-destination-validation"


class NotificationApi:
    def __init__(self, service: S3Service, notifier: S3Notifier) -> None:
        self.service = service
        self.notifier = notifier

    async def handle(self, s3: S3Request) -> Response:
        assert s3.bucket is not None
        info = await self.service.owned_bucket(s3.account_id, s3.bucket)
        bucket = BucketRef(name=info.name, account=info.account, region=info.region)
        if s3.method == "GET":
            config = await self.notifier.get(bucket)
            return Response(render_xml(config), 200, request_headers(s3.request_id),
                            media_type="application/xml")  # fmt: skip
        if s3.method == "PUT":
            body = await read_all(raw_stream(s3.receive), MAX_BODY_BYTES)
            skip = s3.headers.get(SKIP_HEADER, "").lower() == "true"
            await self.notifier.put(bucket, body, skip_validation=skip, request_id=s3.request_id)
            return empty(s3.request_id)
        raise MethodNotAllowed("The specified method is not allowed against this resource.",
                               Method=s3.method, ResourceType="BUCKET")  # fmt: skip
