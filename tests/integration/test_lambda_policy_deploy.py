"""``AWS::Lambda::Permission`` in a template adds a statement to the function's resource
policy; removing the resource from the template, or deleting the stack, removes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.support.functions import create_python, unique
from tests.support.server import ServerProcess
from tests.support.templates import deploy, sendoff

TEMPLATE = """
Parameters:
  Target:
    Type: String
  WithPermission:
    Type: String
    Default: "yes"
Conditions:
  Granted: !Equals [!Ref WithPermission, "yes"]
Resources:
  Alerts:
    Type: AWS::SNS::Topic
  AlertsCanInvoke:
    Type: AWS::Lambda::Permission
    Condition: Granted
    Properties:
      FunctionName: !Ref Target
      Action: lambda:InvokeFunction
      Principal: sns.amazonaws.com
      SourceArn: !Ref Alerts
Outputs:
  StatementId:
    Condition: Granted
    Value: !Ref AlertsCanInvoke
  Topic:
    Value: !Ref Alerts
"""


def policy_statements(lam: Any, name: str) -> list[dict[str, Any]]:
    try:
        policy = lam.get_policy(FunctionName=name)["Policy"]
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "ResourceNotFoundException"
        return []
    statements: list[dict[str, Any]] = json.loads(policy)["Statement"]
    return statements


def test_permission_resource_adds_and_removes_the_statement(
    server: ServerProcess, tmp_path: Path
) -> None:
    url = server.url
    lam = client_for(url, "lambda")
    name = create_python(lam)["FunctionName"]  # not the stack's: it outlives the stack
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE)
    stack = unique("perm")

    first = deploy(url, template, "--stack-name", stack, "--parameter-overrides", f"Target={name}")
    assert first["status"] == "CREATE_COMPLETE"
    sid, topic = first["outputs"]["StatementId"], first["outputs"]["Topic"]
    assert sid.startswith(f"{stack}-AlertsCanInvoke-")
    assert policy_statements(lam, name) == [
        {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "lambda:InvokeFunction",
            "Resource": f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
            "Condition": {"ArnLike": {"AWS:SourceArn": topic}},
        }
    ]

    without = deploy(
        url, template, "--stack-name", stack,
        "--parameter-overrides", f"Target={name}", "WithPermission=no",
    )  # fmt: skip
    assert without["status"] == "UPDATE_COMPLETE"
    assert policy_statements(lam, name) == []

    again = deploy(
        url, template, "--stack-name", stack,
        "--parameter-overrides", f"Target={name}", "WithPermission=yes",  # the last value stays
    )  # fmt: skip
    assert [s["Sid"] for s in policy_statements(lam, name)] == [again["outputs"]["StatementId"]]
    assert sendoff(url, "stacks", "delete", stack).returncode == 0
    assert policy_statements(lam, name) == []
    assert lam.get_function(FunctionName=name)["Configuration"]["FunctionName"] == name
