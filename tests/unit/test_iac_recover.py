"""Stacks left IN_PROGRESS by a runner that is gone are marked failed (CloudFormation.recover):
this server's own when it starts, anyone's once nothing has advanced for STALE_AFTER_S."""

from __future__ import annotations

from sendoff.iac.cloudformation import INTERRUPTED_REASON, STALE_AFTER_S, CloudFormation
from sendoff.iac.repository import StackRepository
from sendoff.iac.runner import Runner
from sendoff.iac.state import Stack, StackStatus
from sendoff.store.memory.store import MemoryStore

NOW = 1_000_000.0
ME = "host-a:4566"


async def stacks_after(*, starting: bool) -> dict[str, tuple[str, str]]:
    store = MemoryStore()
    await store.open()
    repo = StackRepository(store)
    cases = {
        "mine": (StackStatus.CREATE_IN_PROGRESS, ME, NOW - 5),
        "others": (StackStatus.UPDATE_IN_PROGRESS, "host-b:4566", NOW - 5),
        "client": (StackStatus.UPDATE_IN_PROGRESS, "", NOW - 5),
        "stale": (StackStatus.DELETE_IN_PROGRESS, "host-b:4566", NOW - STALE_AFTER_S - 1),
        "review": (StackStatus.REVIEW_IN_PROGRESS, "", NOW - STALE_AFTER_S - 1),
        "done": (StackStatus.CREATE_COMPLETE, ME, NOW - 5),
    }
    for name, (status, runner, updated) in cases.items():
        await repo.put(Stack(name=name, region="us-east-1", account_id="1", status=status,
                             runner=runner, updated_at=updated))  # fmt: skip
    service = CloudFormation(
        repo, Runner(repo, endpoint_url="http://unused"), identity=ME, clock=lambda: NOW
    )
    await service.recover(starting=starting)
    return {s.name: (s.status.value, s.reason) for s in await repo.stacks("1", "us-east-1")}


async def test_on_start_its_own_and_stale_stacks_fail() -> None:
    after = await stacks_after(starting=True)
    assert after == {
        "mine": ("ROLLBACK_FAILED", INTERRUPTED_REASON),
        "others": ("UPDATE_IN_PROGRESS", ""),
        "client": ("UPDATE_IN_PROGRESS", ""),
        "stale": ("DELETE_FAILED", INTERRUPTED_REASON),
        "review": ("REVIEW_IN_PROGRESS", ""),
        "done": ("CREATE_COMPLETE", ""),
    }


async def test_the_sweep_leaves_running_deployments_alone() -> None:
    after = await stacks_after(starting=False)
    assert after["mine"] == ("CREATE_IN_PROGRESS", "")
    assert after["stale"] == ("DELETE_FAILED", INTERRUPTED_REASON)
