"""``aws cloudformation`` (the real AWS CLI v1, as a subprocess) against sendoff, with only
``AWS_ENDPOINT_URL`` and dummy credentials set: deploy (change sets and waiters), events of
a failed deployment and its rollback, change sets of a redeploy, delete, and a stack
deployed by ``sendoff deploy`` seen by the AWS CLI."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import client_for
from tests.support.server import ServerProcess, start_server
from tests.support.templates import TEMPLATES, deploy
from tests.support.templates.cfn import FAILING, SEED, announcement
from tests.support.unavailable import unavailable

ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    if importlib.util.find_spec("awscli") is None:
        unavailable("the AWS CLI (pip install awscli) is not installed")
    proc = start_server(
        tmp_path_factory.mktemp("awscfn"), "--time-scale", "0.01", "--account-id", ACCOUNT
    )
    yield proc
    assert proc.stop() == 0, proc.log()[-4000:]


def aws(server: ServerProcess, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {
        "AWS_ENDPOINT_URL": server.url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-credentials"),
    }
    """``aws ARGS`` with nothing but AWS_ENDPOINT_URL and dummy credentials set."""
    return subprocess.run(
        [sys.executable, "-m", "awscli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp,
        timeout=300,
    )


def cfn(server: ServerProcess, tmp: Path, command: str) -> subprocess.CompletedProcess[str]:
    """``aws cloudformation COMMAND`` (split on spaces)."""
    return aws(server, tmp, "cloudformation", *command.split())


def ok(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout) if done.stdout.strip().startswith("{") else done.stdout


DEPLOY = "deploy --template-file template.yaml --stack-name announcement"
IAM = " --capabilities CAPABILITY_IAM"


def test_deploy_redeploy_change_sets_and_delete(server: ServerProcess, tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(announcement())
    refused = cfn(server, tmp_path, DEPLOY)
    assert refused.returncode == 255
    assert "Requires capabilities : [CAPABILITY_IAM]" in refused.stderr
    done = ok(cfn(server, tmp_path, DEPLOY + IAM))
    assert "Successfully created/updated stack - announcement" in done
    stack = ok(cfn(server, tmp_path, "describe-stacks --stack-name announcement"))
    assert stack["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"

    # a redeploy with a changed environment, not executed: its change set says Modify
    template.write_text(announcement(env={"COLOR": "blue"}))
    done = ok(cfn(server, tmp_path, DEPLOY + IAM + " --no-execute-changeset"))
    match = re.search(r"--change-set-name (arn:\S+)", done)
    assert match is not None, done
    change_set = ok(cfn(server, tmp_path, f"describe-change-set --change-set-name {match[1]}"))
    changes = [c["ResourceChange"] for c in change_set["Changes"]]
    assert [(c["LogicalResourceId"], c["Action"], c["Replacement"]) for c in changes] == [
        ("Tester", "Modify", "False")
    ]
    assert change_set["ExecutionStatus"] == "AVAILABLE"
    ok(cfn(server, tmp_path, f"execute-change-set --change-set-name {match[1]}"))
    ok(cfn(server, tmp_path, "wait stack-update-complete --stack-name announcement"))

    # the same template again: nothing to do
    done = cfn(server, tmp_path, DEPLOY + IAM)
    assert done.returncode == 255 and "No changes to deploy" in done.stderr
    done = ok(cfn(server, tmp_path, DEPLOY + IAM + " --no-fail-on-empty-changeset"))
    assert "No changes to deploy. Stack announcement is up to date" in done

    ok(cfn(server, tmp_path, "delete-stack --stack-name announcement"))
    ok(cfn(server, tmp_path, "wait stack-delete-complete --stack-name announcement"))
    gone = cfn(server, tmp_path, "describe-stacks --stack-name announcement")
    assert gone.returncode == 255
    assert "Stack with id announcement does not exist" in gone.stderr


def test_events_show_the_failed_resource_and_the_rollback(
    server: ServerProcess, tmp_path: Path
) -> None:
    (tmp_path / "failing.yaml").write_text(FAILING)
    done = cfn(server, tmp_path, "deploy --template-file failing.yaml --stack-name failing")
    assert done.returncode == 255, done.stdout + done.stderr
    assert "Failed to create/update the stack" in done.stderr
    found = ok(cfn(server, tmp_path, "describe-stack-events --stack-name failing"))
    events = [
        (e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason"))
        for e in found["StackEvents"]
    ]
    failed = ("Config", "CREATE_FAILED", "ResourceNotFoundException: The function doesn't exist.")
    assert failed in events
    stack_events = [(status, reason) for lid, status, reason in events if lid == "failing"]
    assert stack_events[:2] == [
        ("ROLLBACK_COMPLETE", None),
        ("ROLLBACK_IN_PROGRESS", "The following resource(s) failed to create: [Config]. "
         "Rollback requested by user."),
    ]  # fmt: skip
    assert ("Records", "DELETE_COMPLETE", None) in events
    ok(cfn(server, tmp_path, "delete-stack --stack-name failing"))


def test_a_stack_deployed_by_sendoff_is_seen_by_the_aws_cli(
    server: ServerProcess, tmp_path: Path
) -> None:
    deploy(server.url, TEMPLATES / "update" / "template.yaml", "--stack-name", "by-sendoff")
    found = ok(cfn(server, tmp_path, "describe-stacks --stack-name by-sendoff"))
    (stack,) = found["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert {p["ParameterKey"] for p in stack["Parameters"]} >= {"Greeting", "QueueSuffix"}


def test_package_to_s3_then_deploy_through_a_template_url(
    server: ServerProcess, tmp_path: Path
) -> None:
    """``aws cloudformation package`` uploads the local code to the built-in S3; ``deploy
    --s3-bucket`` uploads the template too and passes a TemplateURL."""
    (tmp_path / "seed").mkdir()
    (tmp_path / "seed" / "index.js").write_text(SEED.read_text())
    original = (TEMPLATES / "announcement" / "template.yaml").read_text()
    (tmp_path / "template.yaml").write_text(original.replace("../../seed", "seed"))
    ok(aws(server, tmp_path, "s3api", "create-bucket", "--bucket", "artifacts"))
    done = ok(cfn(server, tmp_path, "package --template-file template.yaml --s3-bucket "
                  "artifacts --output-template-file packaged.yaml"))  # fmt: skip
    assert "Successfully packaged artifacts" in done
    assert "S3Bucket: artifacts" in (tmp_path / "packaged.yaml").read_text()
    done = ok(cfn(server, tmp_path, "deploy --template-file packaged.yaml --stack-name "
                  "packaged --s3-bucket artifacts" + IAM))  # fmt: skip
    assert "Successfully created/updated stack - packaged" in done
    lam = client_for(server.url, "lambda")
    answer = lam.invoke(
        FunctionName="YourLambdaFunctionWithEventInvokeConfig", Payload=b'{"Success": true}'
    )
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    ok(cfn(server, tmp_path, "delete-stack --stack-name packaged"))
    ok(cfn(server, tmp_path, "wait stack-delete-complete --stack-name packaged"))
