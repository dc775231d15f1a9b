"""The real AWS tools as a user runs them: the SAM CLI and the AWS CLI (v1) as
subprocesses, with nothing but ``AWS_ENDPOINT_URL``, dummy credentials and a region set.

``sam`` is found through ``SENDOFF_SAM``, then the repository's ``.venv-tools/bin/sam``
(made by .ci/run), then ``/work/venv-sam/bin/sam``, then ``PATH``. Missing, the tests that
need it skip, or fail under CI (tests/support/unavailable.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.unavailable import unavailable

REPO = Path(__file__).resolve().parents[2]
APP = Path(__file__).resolve().parent / "app"
REGION = "us-east-1"


def find_sam() -> str | None:
    candidates = [
        os.environ.get("SENDOFF_SAM", ""),
        str(REPO / ".venv-tools" / "bin" / "sam"),
        "/work/venv-sam/bin/sam",
    ]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("sam")


def sam_or_skip() -> str:
    found = find_sam()
    if found is None:
        unavailable(
            "the SAM CLI is not installed (set SENDOFF_SAM, or make .venv-tools with"
            " `python -m venv .venv-tools && .venv-tools/bin/pip install aws-sam-cli`)",
            what="tool",
        )
        raise AssertionError("unreachable")
    return found


def aws_command() -> list[str]:
    """The AWS CLI on PATH, else this Python's awscli module (the test extra's)."""
    found = shutil.which("aws")
    return [found] if found else [sys.executable, "-m", "awscli"]


def tool_env(endpoint: str, home: Path) -> dict[str, str]:
    """This environment without any AWS setting, plus what a user sets: the endpoint,
    dummy credentials, a region. ``home`` keeps the tools' own files (SAM's metadata, the
    AWS config files, which are left empty) out of the user's home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAM_"))}
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(home / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
            "SAM_CLI_TELEMETRY": "0",
            "HOME": str(home),
        }
    )
    return env


def run(
    command: list[str], env: dict[str, str], *, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, (
        f"{' '.join(command)} exited {done.returncode}\n"
        f"--- stdout\n{done.stdout[-6000:]}\n--- stderr\n{done.stderr[-6000:]}"
    )
    return done


def aws_json(env: dict[str, str], *args: str, cwd: Path | None = None) -> Any:
    done = run([*aws_command(), *args, "--output", "json"], env, cwd=cwd)
    return json.loads(done.stdout) if done.stdout.strip() else {}


def aws_text(env: dict[str, str], *args: str, cwd: Path | None = None) -> str:
    """A command that prints prose, not JSON (``cloudformation package``/``deploy``)."""
    return run([*aws_command(), *args], env, cwd=cwd).stdout


def boto(env: dict[str, str], service: str) -> Any:
    """A boto3 client with the tools' settings, to check what they did (faster than one
    more CLI process)."""
    import boto3
    from botocore.config import Config

    make: Any = boto3.client
    return make(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"total_max_attempts": 1}),
    )


def find_aws_v2() -> str | None:
    """AWS CLI v2 (Debian's ``awscli`` package installs it as /usr/bin/aws; PyPI has only
    v1), or ``SENDOFF_AWS2``."""
    for candidate in (os.environ.get("SENDOFF_AWS2", ""), "/usr/bin/aws", "/usr/local/bin/aws"):
        if candidate and os.access(candidate, os.X_OK):
            done = subprocess.run([candidate, "--version"], capture_output=True, text=True)
            if done.stdout.startswith("aws-cli/2."):
                return candidate
    return None
