"""Wire S3 event notifications and code from S3 (after ``wiring.s3``, SQS, SNS and
EventBridge): the notifier listens to every committed object change (every process that
writes objects), its ``s3-lambda`` transport invokes functions asynchronously, and the
Lambda registry reads code packages from buckets; servers also route the bucket
``?notification`` subresource to its API."""

from __future__ import annotations

from sendoff.executor.codecache import UNZIPPED_MESSAGE
from sendoff.functions.code_source import access_denied, get_object_error
from sendoff.functions.errors import InvalidParameterValue, ResourceNotFound
from sendoff.model.json_types import JSON
from sendoff.model.scope import Scope
from sendoff.services.s3.errors import NoSuchKey, S3Error
from sendoff.services.s3.notifier import SCHEME_LAMBDA, SUBRESOURCE, S3Notifier, TargetChecks
from sendoff.services.s3.service import BUCKET_CONFIG, S3Service
from sendoff.store.cache import DocCache
from sendoff.wiring.services import Services, built

# the largest package read from S3: the unzipped-size quota (a zip is never bigger)
MAX_CODE_BYTES = 262_144_000


def install(services: Services) -> None:
    """Build the notifier, subscribe it to the S3 service, install code-from-S3."""
    objects = built(services.objects, "the S3 service")
    # every object change reads its bucket's configuration: cached for a second (a change
    # made here is seen at once, one made by another process within the second)
    cache = DocCache(services.store)

    async def load(account: str, bucket: str) -> JSON | None:
        doc = await cache.get(BUCKET_CONFIG, f"{bucket}/{SUBRESOURCE}")
        if doc is None or doc.value.get("owner") != account:
            return None  # none, or a deleted bucket's (its name now another account's)
        return doc.value

    async def save(account: str, bucket: str, doc: JSON | None) -> None:
        owned = None if doc is None else {**doc, "owner": account}
        await objects.put_bucket_subresource(account, bucket, SUBRESOURCE, owned)
        await cache.changed(BUCKET_CONFIG, f"{bucket}/{SUBRESOURCE}")

    notifier = S3Notifier(
        services.deliveries,
        load=load,
        save=save,
        checks=TargetChecks(
            queue_exists=lambda arn: _queue_exists(services, arn),
            topic_exists=lambda arn: _topic_exists(services, arn),
            function_allows=lambda arn, bucket, account: _function_allows(
                services, arn, bucket, account
            ),
        ),
    )
    services.s3_notifier = notifier
    objects.add_object_listener(notifier.on_object_event)
    # the same transport as SNS's lambda subscriptions: an Event invoke of {"event": ...}
    from sendoff.services.sns.transports import LambdaTransport

    services.deliveries.register(SCHEME_LAMBDA, LambdaTransport(lambda: services.lambda_async))

    async def fetch(account: str, bucket: str, key: str, version: str | None) -> bytes:
        return await _code(objects, account, bucket, key, version)

    services.registry.s3_code = fetch


def install_http(services: Services) -> None:
    """Route ``/<bucket>?notification`` to Put/GetBucketNotificationConfiguration."""
    from sendoff.api.s3_notification import NotificationApi

    api = NotificationApi(
        built(services.objects, "the S3 service"), built(services.s3_notifier, "notifier")
    )
    built(services.s3_api, "the S3 API").add_subresource(SUBRESOURCE, api.handle)


async def _queue_exists(services: Services, arn: str) -> bool:
    return services.queues is not None and await services.queues.get_queue(arn) is not None


async def _topic_exists(services: Services, arn: str) -> bool:
    if services.topics is None:
        return False
    from sendoff.services.sns.model import parse_topic_arn

    try:
        name = parse_topic_arn(arn)
    except Exception:
        return False
    return await services.topics.repo.get_topic(name) is not None


async def _function_allows(services: Services, arn: str, bucket_arn: str, account: str) -> bool:
    """The function exists and, under ``--iam enforce``, lets S3 invoke it for this bucket."""
    from sendoff.functions.policy_access import ResourcePolicyAccess
    from sendoff.model.arn import parse_function_name

    ref = parse_function_name(arn)
    if ref is None or ref.account_id is None or ref.region is None:
        return False
    try:
        await services.registry.resolve(Scope(account_id=ref.account_id, region=ref.region), arn)
    except ResourceNotFound:
        return False
    access = services.registry.invoke_check
    if not isinstance(access, ResourcePolicyAccess):
        return True  # --iam off: resource policies are not evaluated
    return await access.service_allowed(arn, "s3.amazonaws.com", bucket_arn, account)


async def _code(
    objects: S3Service, account: str, bucket: str, key: str, version: str | None
) -> bytes:
    try:
        info = await objects.bucket(bucket)
        if info is None:
            raise get_object_error("NoSuchBucket", "The specified bucket does not exist")
        if info.account != account:
            raise access_denied(bucket, key)
        head = await objects.head_object(account, bucket, key)
        if head.size > MAX_CODE_BYTES:
            raise InvalidParameterValue(UNZIPPED_MESSAGE)
        _, data = await objects.get_object_bytes(account, bucket, key, version)
    except NoSuchKey:
        raise get_object_error("NoSuchKey", "The specified key does not exist.") from None
    except S3Error as exc:
        raise get_object_error(exc.code, str(exc)) from None
    return data
