"""Wire the CloudFormation API (query protocol, signing name ``cloudformation``) into a
server: the stack repository (the same store ``sendoff deploy`` uses), the runner of
background deployments, the recovery of stacks a stopped server left IN_PROGRESS (on start,
and a sweep every minute for runners that are gone), and the TemplateURL reader (the
built-in S3, when the server has one)."""

from __future__ import annotations

import asyncio
import logging
import socket

from sendoff.iac.server_templates import ObjectReader
from sendoff.wiring.services import Services

log = logging.getLogger("sendoff.wiring.cloudformation")

SWEEP_S = 60.0  # how often stacks stuck IN_PROGRESS by a runner that is gone are looked for


def install_http(services: Services) -> None:
    from sendoff.iac.cfn_api import CloudFormationApi
    from sendoff.iac.cloudformation import CloudFormation
    from sendoff.iac.repository import StackRepository
    from sendoff.iac.runner import Runner

    settings = services.settings
    repo = StackRepository(services.store)
    runner = Runner(repo, endpoint_url=settings.endpoint_url)
    identity = f"{socket.gethostname()}:{settings.port}"  # the same after a restart
    service = CloudFormation(repo, runner, read_object=_s3_reader(services), identity=identity)
    api = CloudFormationApi(
        service, services.auth, account_id=settings.account_id, default_region=settings.region
    )
    services.router.add_query_service("cloudformation", api.actions, api.endpoint)
    sweeping: list[asyncio.Task[None]] = []

    async def sweep() -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            try:
                await service.recover(starting=False)
            except Exception:  # the store is down: next time
                log.exception("the sweep of stuck stacks failed")

    async def start() -> None:
        await service.recover(starting=True)
        sweeping.append(asyncio.create_task(sweep(), name="cloudformation-sweep"))

    async def stop() -> None:
        for task in sweeping:
            task.cancel()
        await runner.stop()

    services.startup_hooks.append(start)
    services.shutdown_hooks.append(stop)


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
