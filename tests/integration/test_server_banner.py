"""Issue 12.3: ``sendoff server`` says, in one block at start-up, its version, endpoint,
console, where the data lives, the auth and IAM modes, the sandbox and the time scale."""

from __future__ import annotations

import re
from pathlib import Path

from sendoff import __version__
from sendoff.config.settings import usable_cpus
from tests.support.server import start_server, wait_until

# the default, --worker-processes auto: one child on a machine with a second core
WORKERS = (
    "0 in this process, 1 worker process (auto: a second core)"
    if usable_cpus() >= 2
    else "1 in this process"
)


def block(log: str) -> dict[str, str]:
    """The banner's rows, label -> value, after its ``sendoff <version>`` line."""
    lines = log.splitlines()
    start = lines.index(f"sendoff {__version__}")
    rows = {}
    for line in lines[start + 1 :]:
        match = re.fullmatch(r"  (\S+(?: scale)?)\s+(.*)", line)
        if not match:
            break
        rows[match[1]] = match[2]
    return rows


def test_the_default_server_says_loopback_no_auth(tmp_path: Path) -> None:
    server = start_server(tmp_path / "srv")
    try:
        rows = wait_until(lambda: "workers" in server.log() and block(server.log()), timeout=15)
    finally:
        assert server.stop() == 0
    assert rows["endpoint"].startswith(f"{server.url}  (region us-east-1, account 000000000000")
    assert rows["console"] == f"{server.url}/console"
    assert rows["data"] == f"{server.data_dir}  (SQLite {server.data_dir / 'sendoff.db'})"
    assert rows["auth"].startswith("none: loopback only")
    assert rows["iam"].startswith("off")
    assert re.fullmatch(
        r"(bwrap|uid|none) \((cgroup per environment|no cgroups)\)", rows["sandbox"]
    )
    assert rows["time scale"] == "1 (AWS's delays and ages)"
    assert rows["workers"] == f"{WORKERS}; 16 concurrent jobs each"


def test_sigv4_iam_enforce_sandbox_none_and_a_time_scale(tmp_path: Path) -> None:
    server = start_server(
        tmp_path / "srv",
        "--auth", "sigv4", "--iam", "enforce", "--sandbox", "none", "--time-scale", "0.01",
        "--region", "eu-west-1", "--account-id", "123456789012", "--concurrency", "4",
    )  # fmt: skip
    try:
        rows = wait_until(lambda: "workers" in server.log() and block(server.log()), timeout=15)
    finally:
        assert server.stop() == 0
    assert rows["endpoint"] == f"{server.url}  (region eu-west-1, account 123456789012)"
    assert rows["auth"].startswith("SigV4 required")
    assert rows["iam"].startswith("enforce")
    assert rows["sandbox"].startswith("none (")
    assert rows["time scale"] == "0.01 (delays and ages x 0.01)"
    assert rows["workers"] == f"{WORKERS}; 4 concurrent jobs each"
