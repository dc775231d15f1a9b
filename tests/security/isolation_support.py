"""Helpers for the isolation tests: a server per sandbox mode and functions that probe."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import client_for
from tests.support.functions import ROLE, unique, wait_active
from tests.support.server import ServerProcess, start_server
from tests.support.zips import make_zip

SECRET = "s3cr3t-value-that-must-not-leak"


def require_bwrap() -> None:
    """bwrap-mode tests need bubblewrap and root; under CI=true they fail instead."""
    missing = shutil.which("bwrap") is None or os.geteuid() != 0
    if missing and os.environ.get("CI") != "true":
        pytest.skip("needs bwrap and root (under CI=true this test fails instead)")


def require_root() -> None:
    if os.geteuid() != 0 and os.environ.get("CI") != "true":
        pytest.skip("needs root (under CI=true this test fails instead)")


@contextmanager
def sandboxed_server(tmp_path: Path, mode: str) -> Iterator[ServerProcess]:
    """A server whose data directory sits where any user could reach it (pytest's own
    temp dir is 0700, which would hide the store from other uids by accident)."""
    shared = Path(tempfile.mkdtemp(prefix="sendoff-security-"))
    shared.chmod(0o755)
    data_dir = shared / f"srv-{mode}"
    data_dir.mkdir(mode=0o755)
    server = start_server(data_dir, "--sandbox", mode, env={"SENDOFF_TEST_SECRET": SECRET})
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(shared, ignore_errors=True)


def lambda_of(server: ServerProcess) -> Any:
    return client_for(server.url, "lambda")


def create(client: Any, files: dict[str, str], runtime: str, **kwargs: Any) -> str:
    name = unique(runtime.split(".")[0].replace("provided", "sh"))
    executable = ("bootstrap",) if "bootstrap" in files else ()
    client.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler=kwargs.pop("Handler", "app.handler"),
        Code={"ZipFile": make_zip(files, executable=executable)},
        Timeout=kwargs.pop("Timeout", 10),
        **kwargs,
    )
    wait_active(client, name)
    return name


def invoke(client: Any, name: str, payload: Any = None) -> tuple[Any, dict[str, Any]]:
    response = client.invoke(
        FunctionName=name, Payload=json.dumps(payload or {}).encode(), LogType="Tail"
    )
    return json.loads(response["Payload"].read() or b"null"), response


# A shell runtime: works under every mode (an interpreter under /root is not reachable
# for another uid without bwrap). Each invocation runs $PROBE and returns its output.
SH_BOOTSTRAP = """#!/bin/sh
API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
while true; do
  ID=$(curl -sS -D - -o "${TMPDIR:-/tmp}/event.json" "$API/invocation/next" | tr -d '\\r' |
       awk -F': ' 'tolower($1)=="lambda-runtime-aws-request-id"{print $2}')
  sh ./probe.sh > "${TMPDIR:-/tmp}/out.json" 2>&1
  curl -sS -X POST --data-binary "@${TMPDIR:-/tmp}/out.json" \\
       "$API/invocation/$ID/response" >/dev/null
done
"""

# Prints a JSON object describing what this process can see.
SH_PROBE = """
can() { if "$@" >/dev/null 2>&1; then echo true; else echo false; fi; }
printf '{'
printf '"uid": %s,' "$(id -u)"
printf '"read_db": %s,' "$(can cat "$DB_PATH")"
printf '"list_data_dir": %s,' "$(can ls "$DATA_DIR")"
printf '"read_server_environ": %s,' "$(can cat /proc/$SERVER_PID/environ)"
printf '"read_server_cmdline": %s,' "$(can cat /proc/$SERVER_PID/cmdline)"
printf '"secret_in_server_environ": %s,' \\
  "$(can grep -q "$SECRET_MARK" /proc/$SERVER_PID/environ)"
printf '"own_environ": "%s",' "$(tr '\\0' '\\n' < /proc/$PPID/environ | cut -d= -f1 | tr '\\n' ' ')"
printf '"write_tmp": %s,' "$(can touch "${TMPDIR:-/tmp}/probe")"
printf '"tmpdir": "%s",' "${TMPDIR:-}"
printf '"task_root": "%s", "cwd": "%s"' "$LAMBDA_TASK_ROOT" "$(pwd)"
printf '}'
"""


def probe_function(client: Any, server: ServerProcess) -> str:
    return create(
        client,
        {"bootstrap": SH_BOOTSTRAP, "probe.sh": SH_PROBE},
        "provided.al2023",
        Handler="probe",
        Environment={
            "Variables": {
                "DB_PATH": str(server.data_dir / "sendoff.db"),
                "DATA_DIR": str(server.data_dir),
                "SERVER_PID": str(server.process.pid),
                "SECRET_MARK": SECRET[:12],
            }
        },
    )


ALLOWED_ENV = {
    "PATH", "LANG", "TZ", "AWS_ENDPOINT_URL", "TMPDIR", "_HANDLER", "AWS_REGION",
    "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "_X_AMZN_TRACE_ID",
    "PWD",  # set by bwrap's --chdir (to /var/task)
}  # fmt: skip
"""Lambda's reserved variables plus what sendoff adds; the function's own come on top."""
