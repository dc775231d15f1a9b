"""Wire the S3 service: the domain object (every process, so code-from-S3 and the S3
destination can read and write objects) and its REST-XML edge (servers), which the main
application hands every request :func:`sendoff.api.s3.addressing.s3_target` claims."""

from __future__ import annotations

from sendoff.api.s3.api import S3Api
from sendoff.executor.codecache import UNZIPPED_LIMIT, UNZIPPED_MESSAGE
from sendoff.functions.code_source import S3CodeFetch, access_denied, get_object_error
from sendoff.functions.errors import InvalidParameterValue
from sendoff.services.s3.errors import S3Error
from sendoff.services.s3.service import S3Service
from sendoff.wiring.services import Services, built


def install(services: Services) -> None:
    """Set ``services.objects``, and the registry's reader of functions' code in S3."""
    settings = services.settings
    objects = S3Service(services.store, account_id=settings.account_id, region=settings.region)
    services.objects = objects
    services.registry.s3_code = code_fetch(objects)


def code_fetch(objects: S3Service) -> S3CodeFetch:
    """``Code.S3Bucket``/``S3Key`` of CreateFunction and UpdateFunctionCode, read as the
    caller's account (another account's bucket is NoSuchBucket: bucket policies are not
    evaluated), with Lambda's errors (sendoff.functions.code_source)."""

    async def fetch(account: str, bucket: str, key: str, version: str | None) -> bytes:
        try:
            info = await objects.head_object(account, bucket, key)
            if info.size >= UNZIPPED_LIMIT:
                raise InvalidParameterValue(UNZIPPED_MESSAGE)
            _, data = await objects.get_object_bytes(account, bucket, key, version)
        except S3Error as exc:
            if exc.code == "AccessDenied":
                raise access_denied(bucket, key) from None
            raise get_object_error(exc.code, exc.message) from None
        return data

    return fetch


def install_http(services: Services) -> None:
    """Set ``services.s3_api``: the edge SendoffApp dispatches S3 requests to."""
    settings = services.settings
    objects = built(services.objects, "the S3 service")
    services.s3_api = S3Api(objects, account_id=settings.account_id, default_region=settings.region)
