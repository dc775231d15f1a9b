"""CDK-synthesised templates deploy with ``sendoff deploy``.

The first test deploys the checked-in output of ``cdk synth`` of ``templates/cdk/app.js``
(its BootstrapVersion SSM parameter, Rules, CDK metadata, asset code). The second
synthesises the app afresh with the aws-cdk-lib and aws-cdk packages from npm (installed
once into a cache directory) and deploys that; it is skipped when npm is not installed or
the packages cannot be fetched.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import client_for
from tests.support.server import ServerProcess, wait_until
from tests.support.templates import TEMPLATES, deploy, logs, sendoff

APP = TEMPLATES / "cdk"


def check_destinations(url: str, outputs: dict[str, str]) -> None:
    lam, sqs = client_for(url, "lambda"), client_for(url, "sqs")
    ok = lam.invoke(
        FunctionName=outputs["WorkerName"], InvocationType="Event", Payload=json.dumps({"n": 1})
    )["ResponseMetadata"]["RequestId"]
    line = wait_until(
        lambda: next(
            (
                x
                for x in logs(url, outputs["ReceiverName"]).splitlines()
                if x.startswith("RECORD") and ok in x
            ),
            None,
        ),
        timeout=30,
        message="the success record at the receiver",
    )
    assert json.loads(line.removeprefix("RECORD "))["requestContext"]["condition"] == "Success"
    bad = lam.invoke(
        FunctionName=outputs["WorkerName"],
        InvocationType="Event",
        Payload=json.dumps({"fail": True}),
    )["ResponseMetadata"]["RequestId"]
    messages = wait_until(
        lambda: sqs.receive_message(QueueUrl=outputs["RecordsUrl"], WaitTimeSeconds=1).get(
            "Messages"
        ),
        timeout=30,
        message="the failure record in the queue",
    )
    record = json.loads(messages[0]["Body"])  # raw delivery from the topic
    assert record["requestContext"]["requestId"] == bad
    assert record["responsePayload"]["errorMessage"] == "the CDK worker failed"


def test_a_cdk_synthesised_template_deploys(server: ServerProcess) -> None:
    result = deploy(server.url, APP / "cdk.out" / "CdkDestinations.template.json")
    assert result["status"] == "CREATE_COMPLETE" and result["stack"] == "CdkDestinations"
    assert "the template's Rules are not evaluated by sendoff" in result["_stderr"]
    check_destinations(server.url, result["outputs"])
    assert sendoff(server.url, "stacks", "delete", "CdkDestinations").returncode == 0


def node_modules() -> Path:
    """aws-cdk-lib, constructs and the cdk CLI, installed once per package.json."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("npm and node are needed to synthesise a CDK app")
    spec = (APP / "package.json").read_bytes()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    target = cache / "sendoff-tests" / f"cdk-{hashlib.sha256(spec).hexdigest()[:12]}"
    if not (target / "node_modules" / ".bin" / "cdk").exists():
        target.mkdir(parents=True, exist_ok=True)
        (target / "package.json").write_bytes(spec)
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=target,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            pytest.skip(f"could not install the CDK packages from npm: {done.stderr[-500:]}")
    return target / "node_modules"


def test_a_freshly_synthesised_cdk_app_deploys(server: ServerProcess, tmp_path: Path) -> None:
    modules = node_modules()
    work = tmp_path / "app"
    shutil.copytree(APP, work, ignore=shutil.ignore_patterns("cdk.out"))
    (work / "node_modules").symlink_to(modules)
    env: dict[str, Any] = {**os.environ, "CDK_DISABLE_VERSION_CHECK": "1"}
    synth = subprocess.run(
        [str(modules / ".bin" / "cdk"), "synth", "--no-notices", "-q"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert synth.returncode == 0, synth.stderr
    template = work / "cdk.out" / "CdkDestinations.template.json"
    result = deploy(server.url, template, "--stack-name", "cdk-fresh")
    assert result["status"] == "CREATE_COMPLETE"
    check_destinations(server.url, result["outputs"])
    assert sendoff(server.url, "stacks", "delete", "cdk-fresh").returncode == 0
