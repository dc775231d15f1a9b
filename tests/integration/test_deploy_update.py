"""Redeploying updates a stack in place (replacing what must be replaced), deleting removes
what the stack created and nothing else, and a failed deployment rolls back."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.conftest import client_for
from tests.support.server import ServerProcess, wait_until
from tests.support.templates import TEMPLATES, deploy, describe, sendoff

TEMPLATE = TEMPLATES / "update" / "template.yaml"


def greet(lam: Any, name: str) -> str:
    return json.loads(lam.invoke(FunctionName=name)["Payload"].read())  # type: ignore[no-any-return]


def queue_exists(sqs: Any, url: str) -> bool:
    return any(
        u == url
        for u in sqs.list_queues(QueueNamePrefix=url.rsplit("/", 1)[1]).get("QueueUrls", [])
    )


def changes(result: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["logical_id"]: (c["action"], c["replacement"]) for c in result["changes"]}


@pytest.fixture
def outsider(server: ServerProcess) -> str:
    """A queue that no stack created."""
    sqs = client_for(server.url, "sqs")
    return str(sqs.create_queue(QueueName=f"outsider-{uuid.uuid4().hex[:8]}")["QueueUrl"])


def test_update_in_place_replace_and_delete(server: ServerProcess, outsider: str) -> None:
    url = server.url
    lam, sqs = client_for(url, "lambda"), client_for(url, "sqs")
    first = deploy(url, TEMPLATE, "--stack-name", "greeter")
    assert first["status"] == "CREATE_COMPLETE"
    name, work = first["outputs"]["FunctionName"], first["outputs"]["WorkUrl"]
    assert name.startswith("greeter-Greeter-") and work.endswith("/greeter-work-a")
    assert greet(lam, name) == "hello"

    # a property that can change in place: same function, new environment
    second = deploy(
        url, TEMPLATE, "--stack-name", "greeter", "--parameter-overrides", "Greeting=hi"
    )
    assert second["status"] == "UPDATE_COMPLETE"
    assert changes(second) == {"Greeter": ("Modify", "False")}
    assert second["outputs"]["FunctionName"] == name
    assert greet(lam, name) == "hi"

    # a create-only property: a new queue, the config follows it, the old queue goes
    third = deploy(
        url, TEMPLATE, "--stack-name", "greeter", "--parameter-overrides", "QueueSuffix=b"
    )
    assert changes(third) == {"Work": ("Modify", "True"), "Config": ("Modify", "False")}
    new_work = third["outputs"]["WorkUrl"]
    assert new_work.endswith("/greeter-work-b")
    assert not queue_exists(sqs, work) and queue_exists(sqs, new_work)
    assert greet(lam, name) == "hi"  # Greeting kept its value from the last deployment
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    body = wait_until(
        lambda: sqs.receive_message(QueueUrl=new_work, WaitTimeSeconds=1).get("Messages"),
        timeout=30,
        message="a record in the new queue",
    )
    assert json.loads(body[0]["Body"])["responsePayload"] == "hi"

    # a resource added by a condition, then removed
    fourth = deploy(
        url, TEMPLATE, "--stack-name", "greeter", "--parameter-overrides", "WithExtra=yes"
    )
    assert changes(fourth) == {"Extra": ("Add", "")}
    extra = fourth["outputs"]["ExtraUrl"]
    assert queue_exists(sqs, extra)
    fifth = deploy(
        url, TEMPLATE, "--stack-name", "greeter", "--parameter-overrides", "WithExtra=no"
    )
    assert changes(fifth) == {"Extra": ("Remove", "")}
    assert "ExtraUrl" not in fifth["outputs"] and not queue_exists(sqs, extra)

    unchanged = deploy(url, TEMPLATE, "--stack-name", "greeter")
    assert "No changes to deploy: stack greeter is up to date." in unchanged["_stderr"]

    listed = json.loads(sendoff(url, "stacks", "list", "--output", "json").stdout)
    assert "greeter" in [s["name"] for s in listed["stacks"]]
    table = sendoff(url, "stacks", "describe", "greeter")
    assert table.returncode == 0 and "UPDATE_COMPLETE" in table.stdout and "WorkUrl" in table.stdout

    deleted = sendoff(url, "stacks", "delete", "greeter", "--output", "json")
    assert deleted.returncode == 0, deleted.stderr
    assert json.loads(deleted.stdout)["status"] == "DELETE_COMPLETE"
    assert name not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert not queue_exists(sqs, new_work)
    assert queue_exists(sqs, outsider)  # not the stack's: left alone
    assert describe(url, "greeter") is None
    assert sendoff(url, "stacks", "delete", "greeter").returncode == 6


def test_a_failed_update_rolls_back_and_the_previous_version_keeps_working(
    server: ServerProcess, outsider: str
) -> None:
    url = server.url
    lam, sqs = client_for(url, "lambda"), client_for(url, "sqs")
    first = deploy(url, TEMPLATE, "--stack-name", "fragile")
    name = first["outputs"]["FunctionName"]
    taken = outsider.rsplit("/", 1)[1]
    failed = deploy(
        url,
        TEMPLATE,
        "--stack-name",
        "fragile",
        "--parameter-overrides",
        "Greeting=changed",
        "WithExtra=yes",
        f"Blocker={taken}",
        expect=4,
    )
    assert failed["status"] == "UPDATE_ROLLBACK_COMPLETE"
    assert failed["reason"].startswith(f"Resources.Blocked: {taken} already exists")
    assert "deployment of fragile failed and was rolled back" in failed["_stderr"]
    assert failed["outputs"] == first["outputs"]
    assert greet(lam, name) == "hello"  # the update of the function was undone
    assert sqs.list_queues(QueueNamePrefix="fragile-Extra").get("QueueUrls", []) == []
    assert queue_exists(sqs, outsider)
    stack = describe(url, "fragile")
    assert stack is not None and stack["parameters"]["Greeting"] == "hello"
    events = [(e["logical_id"], e["status"]) for e in stack["events"]]
    assert ("Blocked", "CREATE_FAILED") in events and ("Extra", "DELETE_COMPLETE") in events
    # and it can be deployed again
    again = deploy(url, TEMPLATE, "--stack-name", "fragile", "--parameter-overrides", "Greeting=yo")
    assert again["status"] == "UPDATE_COMPLETE" and greet(lam, name) == "yo"
    assert sendoff(url, "stacks", "delete", "fragile").returncode == 0


def test_a_failed_first_deployment_leaves_nothing(server: ServerProcess, outsider: str) -> None:
    url = server.url
    lam = client_for(url, "lambda")
    taken = outsider.rsplit("/", 1)[1]
    failed = deploy(
        url,
        TEMPLATE,
        "--stack-name",
        "doomed",
        "--parameter-overrides",
        f"Blocker={taken}",
        expect=4,
    )
    assert failed["status"] == "ROLLBACK_COMPLETE" and failed["resources"] == {}
    functions = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert not [f for f in functions if f.startswith("doomed-")]
    fixed = deploy(url, TEMPLATE, "--stack-name", "doomed")  # a new try starts over
    assert fixed["status"] == "CREATE_COMPLETE"
    assert sendoff(url, "stacks", "delete", "doomed").returncode == 0


@pytest.mark.parametrize(
    ("template", "args", "code", "message"),
    [
        (
            "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      Delay: 5\n",
            (),
            3,
            "line 5: Resources.Q.Properties.Delay: unsupported property 'Delay' for "
            "AWS::SQS::Queue",
        ),
        (
            "Resources:\n  T: {Type: AWS::DynamoDB::Table}\n  Q: {Type: AWS::SQS::Queue}\n",
            (),
            3,
            "resource types sendoff does not support: AWS::DynamoDB::Table (T)",
        ),
        (
            "Resources:\n  T: {Type: AWS::DynamoDB::Table}\n  Q: {Type: AWS::SQS::Queue}\n",
            ("--skip-unsupported",),
            0,
            "skipped AWS::DynamoDB::Table (not supported): T",
        ),
        ("Resources:\n  Q: {Type: AWS::SQS::Queue\n", (), 3, "line 3: invalid YAML"),
    ],
)
def test_bad_input_is_a_clear_message_and_changes_nothing(
    server: ServerProcess,
    tmp_path: Any,
    template: str,
    args: tuple[str, ...],
    code: int,
    message: str,
) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(template)
    name = f"bad-{uuid.uuid4().hex[:6]}"
    done = sendoff(server.url, "deploy", str(path), "--stack-name", name, *args)
    assert done.returncode == code, done.stderr
    assert message in done.stderr
    if code:
        assert describe(server.url, name) is None
    else:
        assert sendoff(server.url, "stacks", "delete", name).returncode == 0
