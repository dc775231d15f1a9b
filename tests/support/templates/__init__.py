"""Template fixtures for ``sendoff deploy``, and helpers to run the CLI against a server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

TEMPLATES = Path(__file__).resolve().parent


def sendoff(url: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sendoff.cli.main", "--endpoint-url", url, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def deploy(url: str, template: Path | str, *args: str, expect: int = 0) -> dict[str, Any]:
    """``sendoff deploy --output json``; the parsed result (the run must exit ``expect``)."""
    done = sendoff(url, "deploy", str(template), "--output", "json", *args)
    assert done.returncode == expect, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout) if done.stdout.strip() else {}
    result["_stderr"] = done.stderr
    return result


def describe(url: str, stack: str) -> dict[str, Any] | None:
    done = sendoff(url, "stacks", "describe", stack, "--output", "json", "--events", "500")
    if done.returncode == 6:
        return None
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def logs(url: str, function: str) -> str:
    response = httpx.get(f"{url}/_sendoff/logs/{function}", params={"limit": 10000}, timeout=5)
    return "\n".join(e["message"] for e in response.json()["events"])
