"""Isolation inside the executor: every mode's kill takes the whole tree, uids are
handed out and reused, and the fallbacks without a cgroup still kill setsid children."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest

from tests.executor.executor_harness import Harness
from tests.support.server import wait_until

# A shell runtime (a Python under /root is not reachable by another uid without bwrap):
# starts a `sleep` in a new session, reports its uid and that child's pid, then hangs
# when asked to.
BOOTSTRAP = """#!/bin/sh
API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
while true; do
  ID=$(curl -sS -D - -o "${TMPDIR:-/tmp}/event" "$API/invocation/next" | tr -d '\\r' |
       awk -F': ' 'tolower($1)=="lambda-runtime-aws-request-id"{print $2}')
  setsid sleep 300 &
  CHILD=$!
  if grep -q hang "${TMPDIR:-/tmp}/event"; then sleep 600; fi
  NPROC=$(awk '/^Max processes/{print $3}' /proc/$$/limits)
  printf '{"uid": %s, "child": %s, "tmpdir": "%s", "nproc": "%s"}' \\
    "$(id -u)" "$CHILD" "${TMPDIR:-}" "$NPROC" > "${TMPDIR:-/tmp}/out"
  curl -sS -X POST --data-binary "@${TMPDIR:-/tmp}/out" "$API/invocation/$ID/response" \\
    >/dev/null
done
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def _needs_root() -> None:
    if os.geteuid() != 0 and os.environ.get("CI") != "true":
        pytest.skip("needs root (under CI=true this test fails instead)")


@pytest.mark.parametrize(
    ("sandbox", "use_cgroups"),
    [("none", True), ("none", False), ("uid", True), ("uid", False)],
)
def test_timeout_kills_setsid_children(harness: Harness, sandbox: str, use_cgroups: bool) -> None:
    if sandbox == "uid":
        _needs_root()
    if shutil.which("curl") is None:
        pytest.skip("needs curl")
    spec = harness.function(
        {"bootstrap": (BOOTSTRAP, 0o755)}, runtime="provided.al2023", timeout_s=1
    )

    async def scenario(executor):
        first = await executor.invoke(spec, harness.request(spec, b'{"n": 1}'))
        report = json.loads(first.payload)
        assert _alive(report["child"])  # escaped the process group, still running
        hung = await executor.invoke(spec, harness.request(spec, b'{"hang": true}'))
        return report, hung

    report, hung = harness.run(scenario, sandbox=sandbox, use_cgroups=use_cgroups)
    assert hung.error_type == "Sandbox.Timedout"
    wait_until(lambda: not _alive(report["child"]), timeout=10, message="setsid child gone")
    if sandbox == "uid":
        assert report["uid"] >= 120000
        assert report["nproc"] == "1024"  # RLIMIT_NPROC, set before the bootstrap ran
        assert report["tmpdir"].startswith("/tmp/sendoff-")
        assert not os.path.exists(report["tmpdir"])  # deleted at stop


def test_uids_are_one_per_live_environment_and_reused(harness: Harness) -> None:
    _needs_root()
    spec = harness.function({"bootstrap": (BOOTSTRAP, 0o755)}, runtime="provided.al2023")
    other = harness.function({"bootstrap": (BOOTSTRAP, 0o755)}, runtime="provided.al2023")

    async def scenario(executor):
        a = json.loads((await executor.invoke(spec, harness.request(spec))).payload)
        b = json.loads((await executor.invoke(other, harness.request(other))).payload)
        await executor.stop_function(spec.function_arn)
        await executor.stop_function(other.function_arn)
        c = json.loads((await executor.invoke(spec, harness.request(spec))).payload)
        return a["uid"], b["uid"], c["uid"]

    first, second, again = harness.run(scenario, sandbox="uid")
    assert first != second and {first, second} <= set(range(120000, 120064))
    assert again == min(first, second)  # the lowest free uid is handed out again


def test_bwrap_process_exit_is_reported_as_the_signal(harness: Harness) -> None:
    if shutil.which("bwrap") is None and os.environ.get("CI") != "true":
        pytest.skip("needs bwrap (under CI=true this test fails instead)")
    killer = "import os, signal\n\ndef handler(event, context):\n    os.kill(os.getpid(), 9)\n"
    spec = harness.function({"app.py": killer})
    started = time.monotonic()
    result = harness.run(lambda ex: ex.invoke(spec, harness.request(spec)), sandbox="bwrap")
    assert result.error_type == "Runtime.ExitError"
    assert json.loads(result.payload)["errorMessage"].endswith(
        "Error: Runtime exited with error: signal: killed"
    )
    assert time.monotonic() - started < 10


def test_runtime_paths_under_tmp_are_bound_back_over_the_private_tmp(tmp_path) -> None:
    """A checkout below /tmp (CI clones often are) must stay visible to the runtime: the
    private /tmp is mounted first, what a runtime needs from under it is bound back."""
    from sendoff.executor import sandbox

    if shutil.which("bwrap") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("bwrap is missing under CI")
        pytest.skip("bwrap is not installed")
    bootstrap = tmp_path / "checkout" / "bootstrap"
    bootstrap.mkdir(parents=True)
    hidden_data = tmp_path / "data"
    hidden_data.mkdir()
    argv = sandbox.bwrap_argv(
        argv=("true",), code_dir=tmp_path, task_root="/var/task", hidden=[hidden_data],
        exposed=[str(bootstrap)], tmp_mb=64, uid=None,
    )  # fmt: skip
    tmpfs_at = argv.index("/tmp", argv.index("--tmpfs"))
    bound = [i for i, a in enumerate(argv) if a == "--ro-bind" and argv[i + 1] == str(bootstrap)]
    assert bound and bound[0] > tmpfs_at
    assert str(hidden_data) not in argv  # already out of sight under the private /tmp
