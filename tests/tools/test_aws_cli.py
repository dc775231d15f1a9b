"""The AWS CLI (v1), unchanged, against a real server with only ``AWS_ENDPOINT_URL`` (and
dummy credentials, a region) set: ``aws cloudformation package`` zips local code
directories into a bucket, ``aws cloudformation deploy`` deploys the packaged template
through a change set, the functions run, and ``delete-stack`` removes them. See
docs/tools.md."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.server import ServerProcess, start_server
from tests.tools.clients import aws_json, aws_text, tool_env

PACKAGE_APP = Path(__file__).resolve().parent / "package_app"


@pytest.fixture(scope="module")
def tools(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Path]]:
    root = tmp_path_factory.mktemp("awscli")
    server: ServerProcess = start_server(root / "server", "--time-scale", "0.01")
    home = root / "home"
    home.mkdir()
    app = root / "app"
    shutil.copytree(PACKAGE_APP, app)
    try:
        yield tool_env(server.url, home), app
    finally:
        assert server.stop() == 0, server.log()[-3000:]


def test_package_and_deploy_local_code(tools: tuple[dict[str, str], Path]) -> None:
    env, app = tools
    aws_json(env, "s3api", "create-bucket", "--bucket", "artifacts")
    aws_text(env, "cloudformation", "package", "--template-file", "template.yaml",
             "--s3-bucket", "artifacts", "--output-template-file", "packaged.yaml",
             cwd=app)  # fmt: skip
    packaged = yaml.safe_load((app / "packaged.yaml").read_text())["Resources"]
    assert packaged["Greeter"]["Properties"]["CodeUri"].startswith("s3://artifacts/")
    assert packaged["Plain"]["Properties"]["Code"]["S3Bucket"] == "artifacts"
    deployed = aws_text(env, "cloudformation", "deploy", "--template-file", "packaged.yaml",
             "--stack-name", "packaged", "--capabilities", "CAPABILITY_IAM", cwd=app)  # fmt: skip
    assert "Successfully created/updated stack - packaged" in deployed
    stack = aws_json(env, "cloudformation", "describe-stacks", "--stack-name", "packaged")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Stacks"][0]["Outputs"]}
    for name in (outputs["GreeterName"], outputs["PlainName"]):
        out = app / f"{name}.json"
        aws_json(env, "lambda", "invoke", "--function-name", name, "--payload",
                 '{"name": "sendoff"}', str(out))  # fmt: skip
        assert json.loads(out.read_text()) == {"hello": "sendoff"}
    aws_json(env, "cloudformation", "delete-stack", "--stack-name", "packaged")
    aws_json(env, "cloudformation", "wait", "stack-delete-complete", "--stack-name", "packaged")
    names = {f["FunctionName"] for f in aws_json(env, "lambda", "list-functions")["Functions"]}
    assert not names & {outputs["GreeterName"], outputs["PlainName"]}
