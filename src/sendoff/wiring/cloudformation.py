"""Wire the CloudFormation API (query protocol, signing name ``cloudformation``) into a
server: the stack repository (the same store ``sendoff deploy`` uses), the runner of
background deployments, the recovery of stacks a stopped server left IN_PROGRESS, and the
TemplateURL reader (the built-in S3, when the server has one)."""

from __future__ import annotations

from sendoff.iac.server_templates import ObjectReader
from sendoff.wiring.services import Services


def install_http(services: Services) -> None:
    from sendoff.iac.cfn_api import CloudFormationApi
    from sendoff.iac.cloudformation import CloudFormation
    from sendoff.iac.repository import StackRepository
    from sendoff.iac.runner import Runner

    settings = services.settings
    repo = StackRepository(services.store)
    runner = Runner(repo, endpoint_url=settings.endpoint_url)
    service = CloudFormation(repo, runner, read_object=_s3_reader(services))
    api = CloudFormationApi(
        service, services.auth, account_id=settings.account_id, default_region=settings.region
    )
    services.router.add_query_service("cloudformation", api.actions, api.endpoint)

    async def recover() -> None:
        await service.recover()

    services.startup_hooks.append(recover)
    services.shutdown_hooks.append(runner.stop)


def _s3_reader(services: Services) -> ObjectReader | None:
    """``(account, bucket, key) -> bytes | None`` from the built-in S3, or None without one."""
    objects = services.objects
    if objects is None:
        return None

    async def read(account_id: str, bucket: str, key: str) -> bytes | None:
        from sendoff.services.s3.errors import S3Error

        try:
            _, data = await objects.get_object_bytes(account_id, bucket, key)
        except S3Error:  # no such bucket or key: the API says so in its own words
            return None
        return data

    return read
