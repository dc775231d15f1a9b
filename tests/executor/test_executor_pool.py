"""Warm pool behaviour: reuse, concurrency caps, idle stop, stopping and closing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from sendoff.errors import ExecutorError, Throttled
from sendoff.executor import Executor
from tests.executor.executor_harness import Harness, eventually, pid_alive

APP = """\
import os, time


def handler(event, context):
    gate = event.get("gate")
    while gate and not os.path.exists(gate):
        time.sleep(0.002)
    return {"pid": os.getpid()}
"""


def _spec(harness: Harness, **kw: object):
    return harness.function({"app.py": APP}, **kw)


def _gated(harness: Harness, spec, gate: Path):
    return harness.request(spec, json.dumps({"gate": str(gate)}).encode())


def test_concurrent_invokes_get_separate_environments(harness: Harness, tmp_path: Path) -> None:
    spec = _spec(harness)
    gate = tmp_path / "gate"

    async def scenario(executor):
        first = asyncio.create_task(executor.invoke(spec, _gated(harness, spec, gate)))
        second = asyncio.create_task(executor.invoke(spec, _gated(harness, spec, gate)))
        await eventually(lambda: len(executor.pids()) == 2 and executor.stats()["busy"] == 2)
        gate.touch()
        results = await asyncio.gather(first, second)
        third = await executor.invoke(spec, harness.request(spec))
        return results, third, executor.stats()

    (one, two), three, stats = harness.run(scenario)
    pids = {json.loads(one.payload)["pid"], json.loads(two.payload)["pid"]}
    assert len(pids) == 2
    assert json.loads(three.payload)["pid"] in pids and not three.cold_start
    assert stats["environments"] == 2 and stats["idle"] == 2
    assert stats["cold_starts"] == 2 and stats["warm_starts"] == 1


def test_reserved_concurrency_throttles(harness: Harness, tmp_path: Path) -> None:
    spec = _spec(harness, reserved_concurrency=1)
    other_version = _spec(harness, reserved_concurrency=1)
    other_version = type(spec)(
        **{**other_version.__dict__, "function_arn": spec.function_arn, "version": "1"}
    )
    zero = _spec(harness, reserved_concurrency=0)
    gate = tmp_path / "gate"

    async def scenario(executor):
        with pytest.raises(Throttled) as zero_info:
            await executor.invoke(zero, harness.request(zero))
        busy = asyncio.create_task(executor.invoke(spec, _gated(harness, spec, gate)))
        await eventually(lambda: executor.stats()["busy"] == 1)
        with pytest.raises(Throttled) as same_info:
            await executor.invoke(spec, harness.request(spec))
        with pytest.raises(Throttled):  # all versions count against the function
            await executor.invoke(other_version, harness.request(other_version))
        gate.touch()
        await busy
        after = await executor.invoke(spec, harness.request(spec))
        return zero_info.value, same_info.value, after, executor.stats()

    zero_error, same_error, after, stats = harness.run(scenario)
    for error in (zero_error, same_error):
        assert error.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
        assert str(error) == "Rate Exceeded."
    assert after.function_error is None
    assert stats["throttles"] == 3


def test_account_cap_evicts_idle_then_throttles(harness: Harness, tmp_path: Path) -> None:
    first = _spec(harness)
    second = _spec(harness)
    gate = tmp_path / "gate"

    async def scenario(executor):
        warm = await executor.invoke(first, harness.request(first))
        first_pid = json.loads(warm.payload)["pid"]
        # the idle environment of `first` is evicted to make room for `second`
        busy = asyncio.create_task(executor.invoke(second, _gated(harness, second, gate)))
        await eventually(lambda: executor.stats()["busy"] == 1)
        await eventually(lambda: not pid_alive(first_pid))
        with pytest.raises(Throttled) as info:
            await executor.invoke(first, harness.request(first))
        gate.touch()
        await busy
        return info.value

    error = harness.run(scenario, max_environments=1)
    assert error.reason == "ConcurrentInvocationLimitExceeded"


def test_idle_environments_are_stopped(harness: Harness) -> None:
    spec = _spec(harness)

    async def scenario(executor):
        result = await executor.invoke(spec, harness.request(spec))
        pid = json.loads(result.payload)["pid"]
        await eventually(lambda: executor.stats()["environments"] == 0)
        await eventually(lambda: not pid_alive(pid))
        again = await executor.invoke(spec, harness.request(spec))
        return again

    again = harness.run(scenario, idle_timeout_s=0.2)
    assert again.cold_start


def test_new_revision_replaces_idle_environments(harness: Harness) -> None:
    spec = _spec(harness)
    revised = type(spec)(**{**spec.__dict__, "revision": "2"})

    async def scenario(executor):
        old = json.loads((await executor.invoke(spec, harness.request(spec))).payload)["pid"]
        new = await executor.invoke(revised, harness.request(revised))
        await eventually(lambda: not pid_alive(old))
        return old, new, executor.stats()

    old, new, stats = harness.run(scenario)
    assert new.cold_start and json.loads(new.payload)["pid"] != old
    assert stats["environments"] == 1


def test_stop_function_stops_idle_now_and_busy_after_invoke(
    harness: Harness, tmp_path: Path
) -> None:
    spec = _spec(harness)
    first_gate, second_gate = tmp_path / "first", tmp_path / "second"

    async def scenario(executor):
        first = asyncio.create_task(executor.invoke(spec, _gated(harness, spec, first_gate)))
        second = asyncio.create_task(executor.invoke(spec, _gated(harness, spec, second_gate)))
        await eventually(lambda: executor.stats()["busy"] == 2 and len(executor.pids()) == 2)
        first_gate.touch()
        idle_pid = json.loads((await first).payload)["pid"]
        busy_pid = next(pid for pid in executor.pids() if pid != idle_pid)
        await executor.stop_function(spec.function_arn)
        states = (pid_alive(idle_pid), pid_alive(busy_pid))
        second_gate.touch()
        result = await second
        await eventually(lambda: not pid_alive(busy_pid))
        return states, result, executor.stats()

    (idle_alive, busy_alive), result, stats = harness.run(scenario)
    assert not idle_alive and busy_alive
    assert result.function_error is None
    assert stats["environments"] == 0


def test_stop_function_idle(harness: Harness) -> None:
    spec = _spec(harness)
    other = _spec(harness)

    async def scenario(executor):
        pid = json.loads((await executor.invoke(spec, harness.request(spec))).payload)["pid"]
        await executor.invoke(other, harness.request(other))
        await executor.stop_function(spec.function_arn)
        return pid_alive(pid), executor.stats()

    alive, stats = harness.run(scenario)
    assert not alive
    assert stats["environments"] == 1  # the other function is untouched


def test_aclose_kills_busy_environments(harness: Harness, tmp_path: Path) -> None:
    spec = _spec(harness)
    never = tmp_path / "never"

    async def scenario(executor):
        busy = asyncio.create_task(executor.invoke(spec, _gated(harness, spec, never)))
        await eventually(lambda: executor.stats()["busy"] == 1 and bool(executor.pids()))
        pids = executor.pids()
        await executor.aclose()
        result = await busy
        with pytest.raises(ExecutorError):
            await executor.invoke(spec, harness.request(spec))
        return pids, result

    pids, result = harness.run(scenario)
    assert result.error_type == "Runtime.ExitError"
    assert result.payload.endswith(b'signal: killed"}')
    assert not any(pid_alive(pid) for pid in pids)


def test_cancelled_invoke_discards_environment(harness: Harness, tmp_path: Path) -> None:
    spec = _spec(harness)
    never = tmp_path / "never"

    async def scenario(executor):
        task = asyncio.create_task(executor.invoke(spec, _gated(harness, spec, never)))
        await eventually(lambda: executor.stats()["busy"] == 1 and bool(executor.pids()))
        pids = executor.pids()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await eventually(lambda: not any(pid_alive(pid) for pid in pids))
        return executor.stats()

    stats = harness.run(scenario)
    assert stats["environments"] == 0 and stats["busy"] == 0


def test_code_fetch_failure_is_an_executor_error(harness: Harness) -> None:
    spec = _spec(harness)
    unknown = type(spec)(**{**spec.__dict__, "code_sha256": "AAAA"})

    async def scenario(executor):
        with pytest.raises(ExecutorError):
            await executor.invoke(unknown, harness.request(unknown))
        return executor.stats()

    stats = harness.run(scenario)
    assert stats["environments"] == 0 and stats["busy"] == 0


def test_runs_on_uvloop(harness: Harness) -> None:
    uvloop = pytest.importorskip("uvloop")
    python = _spec(harness)
    node = harness.function(
        {"index.js": "exports.handler = async (e) => e;\n"},
        runtime="nodejs20.x",
        handler="index.handler",
    )

    async def scenario() -> list[bytes]:
        executor = Executor(harness.settings(), harness)
        try:
            payloads = []
            for spec in (python, python, node, node):
                result = await executor.invoke(spec, harness.request(spec, b'{"k": 1}'))
                payloads.append(result.payload)
            return payloads
        finally:
            await executor.aclose()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        payloads = runner.run(scenario())
    assert json.loads(payloads[0]).keys() == {"pid"}
    assert payloads[2:] == [b'{"k":1}', b'{"k":1}']
