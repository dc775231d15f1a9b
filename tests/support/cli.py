"""Run the real AWS CLI and sendoff CLI against a server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def aws(
    url: str, *args: str, cwd: Path | None = None, check: bool = True, region: str = "us-east-1"
) -> Any:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": region,
    }
    env.pop("AWS_ENDPOINT_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "awscli", *args, "--endpoint-url", url, "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
    )
    if not check:
        return done
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else {}


def sendoff(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sendoff.cli.main", "--endpoint-url", url, *args],
        capture_output=True,
        text=True,
    )


def create_key(data_dir: Path, account: str, name: str = "sendoff") -> dict[str, str]:
    """``sendoff credentials create`` for ``account`` in the server's data dir: the key."""
    done = subprocess.run(
        [sys.executable, "-m", "sendoff.cli.main", "credentials", "create", "--data-dir",
         str(data_dir), "--account-id", account, "--name", name, "--output", "json"],
        capture_output=True, text=True, env=dict(os.environ),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    key: dict[str, str] = json.loads(done.stdout)
    return key
