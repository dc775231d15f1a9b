"""Run deployments in the server, in the background, as the caller.

The engine is synchronous (boto3 calls, one resource after another), so each deployment
runs in a worker thread of a small pool (``MAX_PARALLEL`` at once; more wait their turn)
while the event loop keeps serving, including the very requests the deployment makes:
its boto3 clients call the server's own endpoint over loopback, signed with the caller's
credentials, so each call passes the same authentication and checks as the caller's own
would and acts in the caller's account. The stack document is read and written directly in
the store (:class:`~sendoff.iac.repository.ThreadStackStore`).

A deployment that fails outside the engine's own rollback (a bug, the store gone) leaves
its stack failed, not IN_PROGRESS: ``_settle`` marks it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from sendoff.iac.engine import Engine
from sendoff.iac.plan import Plan
from sendoff.iac.remote import BotoCloud, Keys, signed_http
from sendoff.iac.repository import StackRepository, ThreadStackStore
from sendoff.iac.state import Stack, StackStatus

log = logging.getLogger("sendoff.iac.runner")

MAX_PARALLEL = 4
MAX_QUEUED = 64  # deployments running or waiting; more are refused (LimitExceededException)
FAILED_AFTER = {
    StackStatus.CREATE_IN_PROGRESS: StackStatus.ROLLBACK_FAILED,
    StackStatus.UPDATE_IN_PROGRESS: StackStatus.UPDATE_ROLLBACK_FAILED,
    StackStatus.DELETE_IN_PROGRESS: StackStatus.DELETE_FAILED,
}

Then = Callable[[Stack], Awaitable[None]]


class Runner:
    def __init__(self, repo: StackRepository, *, endpoint_url: str) -> None:
        self.repo = repo
        self.endpoint_url = endpoint_url
        self._pool: ThreadPoolExecutor | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def full(self) -> bool:
        """Whether a new deployment would exceed ``MAX_QUEUED``."""
        return len(self._tasks) >= MAX_QUEUED

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(MAX_PARALLEL, thread_name_prefix="sendoff-stack")
        return self._pool

    def deploy(
        self, keys: Keys, plan: Plan, claimed: Stack, *, then: Then | None = None
    ) -> asyncio.Task[None]:
        """Start applying ``plan`` to ``claimed`` (saved as CREATE/UPDATE_IN_PROGRESS)."""

        def work(loop: asyncio.AbstractEventLoop) -> Stack:
            with signed_http(self.endpoint_url, keys, claimed.region) as http:
                engine = self._engine(http, keys, claimed, loop)
                return engine.deploy(plan, claimed=claimed)

        return self._start(claimed, work, then)

    def delete(self, keys: Keys, claimed: Stack) -> asyncio.Task[None]:
        """Start deleting ``claimed`` (saved as DELETE_IN_PROGRESS)."""

        def work(loop: asyncio.AbstractEventLoop) -> Stack:
            with signed_http(self.endpoint_url, keys, claimed.region) as http:
                return self._engine(http, keys, claimed, loop).delete(claimed, claimed=True)

        return self._start(claimed, work, None)

    def _engine(
        self, http: object, keys: Keys, stack: Stack, loop: asyncio.AbstractEventLoop
    ) -> Engine:
        import httpx

        assert isinstance(http, httpx.Client)
        cloud = BotoCloud(
            http, account_id=stack.account_id, region=stack.region, stack_name=stack.name, keys=keys
        )
        return Engine(cloud=cloud, store=ThreadStackStore(self.repo, stack.account_id, loop))

    def _start(
        self,
        claimed: Stack,
        work: Callable[[asyncio.AbstractEventLoop], Stack],
        then: Then | None,
    ) -> asyncio.Task[None]:
        loop = asyncio.get_running_loop()

        async def run() -> None:
            try:
                final = await loop.run_in_executor(self._executor(), work, loop)
            except Exception as exc:
                log.exception("deployment of stack %s failed", claimed.key)
                final = await self._settle(claimed, f"internal error: {exc}")
            if then is not None:
                await then(final)

        task = asyncio.create_task(run(), name=f"stack:{claimed.key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _settle(self, claimed: Stack, reason: str) -> Stack:
        current = await self.repo.get(claimed.account_id, claimed.region, claimed.name)
        if current is None or not current.status.in_progress:
            return current or claimed
        status = FAILED_AFTER.get(claimed.status, StackStatus.ROLLBACK_FAILED)
        return await self.repo.put(current.evolve(status=status, reason=reason))

    async def idle(self) -> None:
        """Wait for the running deployments (tests; a graceful stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Give running deployments ``timeout_s`` to finish; the rest are left to ``recover``
        on the next start (a thread cannot be stopped mid-call)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout_s)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
