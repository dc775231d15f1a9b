"""The SAM CLI, unchanged, against a real server with only ``AWS_ENDPOINT_URL`` (and dummy
credentials, a region) set: the announcement's app (tests/tools/app) is built and deployed
once for the module (``sam build``, ``sam deploy --resolve-s3``, which first creates SAM's
managed stack ``aws-sam-cli-managed-default`` with its S3 bucket), then read back with
``sam list stack-outputs`` and ``sam logs``, walked through with the AWS CLI as the
announcement does (an async invoke that fails, its record in the OnFailure function's
CloudWatch Logs), and deleted with ``sam delete``. See docs/tools.md."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import start_server
from tests.tools.clients import APP, aws_json, boto, run, sam_or_skip, tool_env

STACK = "s"


class Deployed:
    """The deployed stack: the tools' environment, the app's directory, and its outputs as
    ``sam list stack-outputs`` gives them."""

    def __init__(self, sam: str, env: dict[str, str], app: Path) -> None:
        self.sam, self.env, self.app = sam, env, app
        listed = json.loads(self.run_sam("list", "stack-outputs", "--stack-name", STACK,
                                         "--output", "json"))  # fmt: skip
        self.outputs: dict[str, str] = {o["OutputKey"]: o["OutputValue"] for o in listed}

    def run_sam(self, *args: str, timeout: float = 300) -> str:
        return run([self.sam, *args], self.env, cwd=self.app, timeout=timeout).stdout


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    sam = sam_or_skip()
    root = tmp_path_factory.mktemp("sam")
    server = start_server(root / "server", "--time-scale", "0.01")
    home = root / "home"
    home.mkdir()
    app = root / "app"
    shutil.copytree(APP, app)
    env = tool_env(server.url, home)
    try:
        run([sam, "build"], env, cwd=app)
        run(
            [sam, "deploy", "--stack-name", STACK, "--resolve-s3", "--capabilities",
             "CAPABILITY_IAM", "--no-confirm-changeset", "--no-progressbar"],
            env, cwd=app, timeout=300,
        )  # fmt: skip
        yield Deployed(sam, env, app)
    finally:
        code = server.stop()
        assert code == 0, server.log()[-3000:]


def test_deploy_made_the_functions_and_their_destinations(deployed: Deployed) -> None:
    outputs = deployed.outputs
    assert set(outputs) >= {"FunctionName", "OnFailureFunctionName", "OnSuccessTopicArn"}
    lam = boto(deployed.env, "lambda")
    config = lam.get_function_event_invoke_config(FunctionName=outputs["FunctionName"])
    destinations = config["DestinationConfig"]
    assert destinations["OnSuccess"]["Destination"] == outputs["OnSuccessTopicArn"]
    assert destinations["OnFailure"]["Destination"].endswith(
        f":function:{outputs['OnFailureFunctionName']}"
    )
    assert config["MaximumRetryAttempts"] == 0
    function = lam.get_function_configuration(FunctionName=outputs["FunctionName"])
    assert function["Runtime"] == "nodejs20.x"
    # the managed stack SAM made for its artifacts, with its bucket
    cfn = boto(deployed.env, "cloudformation")
    managed = cfn.describe_stacks(StackName="aws-sam-cli-managed-default")["Stacks"][0]
    assert managed["StackStatus"] == "CREATE_COMPLETE"
    assert {"Key": "ManagedStackSource", "Value": "AwsSamCli"} in managed["Tags"]
    bucket = {o["OutputKey"]: o["OutputValue"] for o in managed["Outputs"]}["SourceBucket"]
    listed = boto(deployed.env, "s3").list_objects_v2(Bucket=bucket)
    assert listed["KeyCount"] >= 3  # the two zips and the template


def test_walkthrough_failure_record_in_on_failure_logs(deployed: Deployed) -> None:
    """The announcement, with AWS CLI commands only: invoke asynchronously with
    ``{"Success": false}``, then find the failure record in the OnFailure function's logs."""
    outputs = deployed.outputs
    out_file = deployed.app / "invoke-out.json"
    invoked = aws_json(deployed.env, "lambda", "invoke", "--function-name",
                       outputs["FunctionName"], "--invocation-type", "Event", "--payload",
                       '{"Success": false}', str(out_file))  # fmt: skip
    assert invoked["StatusCode"] == 202
    group = f"/aws/lambda/{outputs['OnFailureFunctionName']}"
    deadline = time.monotonic() + 60
    events: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = aws_json(deployed.env, "logs", "filter-log-events", "--log-group-name", group,
                         "--filter-pattern", "RetriesExhausted")  # fmt: skip
        events = found.get("events", [])
        if events:
            break
        time.sleep(0.5)
    assert events, f"no RetriesExhausted record in {group} within 60 s"
    record = json.loads(events[0]["message"].split("FAILURE RECORD ", 1)[1])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"] == {"Success": False}
    assert record["responsePayload"]["errorMessage"] == (
        "Failure from event, Success = false, I am failing!"
    )


def test_sam_logs_shows_the_function_output(deployed: Deployed) -> None:
    lam = boto(deployed.env, "lambda")
    lam.invoke(FunctionName=deployed.outputs["FunctionName"], Payload=b'{"Success": true}')
    deadline = time.monotonic() + 30
    text = ""
    while time.monotonic() < deadline:  # the lines are stored as the function prints them
        text = deployed.run_sam("logs", "-n", "Fn", "--stack-name", STACK)
        if '"Success": true' in text and "REPORT RequestId" in text:
            break
        time.sleep(0.5)
    assert "Received event" in text and '"Success": true' in text, text


def test_sam_delete_removes_the_stack(deployed: Deployed) -> None:
    outputs = deployed.outputs
    deployed.run_sam("delete", "--stack-name", STACK, "--no-prompts", timeout=300)
    listed = boto(deployed.env, "lambda").list_functions()["Functions"]
    names = {f["FunctionName"] for f in listed}
    assert outputs["FunctionName"] not in names
    assert outputs["OnFailureFunctionName"] not in names
