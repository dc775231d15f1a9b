"""The CloudFormation API with boto3: stacks and change sets deployed by the server in the
background, on the engine and the stack store ``sendoff deploy`` uses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import botocore.exceptions
import httpx
import pytest

from tests.conftest import client_for
from tests.support.server import ServerProcess, start_server, wait_until
from tests.support.templates import TEMPLATES, deploy, describe
from tests.support.templates.cfn import EXPORTER, FAILING, IMPORTER, announcement

ACCOUNT = "123456789012"  # the announcement's ARNs name it
FAST = {"Delay": 1, "MaxAttempts": 120}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(
        tmp_path_factory.mktemp("cfn"), "--time-scale", "0.01", "--account-id", ACCOUNT
    )
    yield proc
    assert proc.stop() == 0, proc.log()[-4000:]


@pytest.fixture(scope="module")
def cf(server: ServerProcess) -> Any:
    return client_for(server.url, "cloudformation")


def error_of(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call(**kwargs)
    return info.value.response  # type: ignore[no-any-return]


def events(cf: Any, stack: str) -> list[tuple[str, str, str]]:
    found = cf.describe_stack_events(StackName=stack)["StackEvents"]
    return [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason", ""))
            for e in found]  # fmt: skip


def test_create_needs_capabilities_then_runs_in_the_background(cf: Any) -> None:
    response = error_of(cf.create_stack, StackName="ann", TemplateBody=announcement())
    assert response["Error"] == {
        "Type": "Sender",
        "Code": "InsufficientCapabilitiesException",
        "Message": "Requires capabilities : [CAPABILITY_IAM]",
    }
    stack_id = cf.create_stack(
        StackName="ann", TemplateBody=announcement(), Capabilities=["CAPABILITY_IAM"],
        Tags=[{"Key": "team", "Value": "a"}],
    )["StackId"]  # fmt: skip
    assert stack_id.startswith(f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/ann/")
    cf.get_waiter("stack_create_complete").wait(StackName="ann", WaiterConfig=FAST)
    stack = cf.describe_stacks(StackName=stack_id)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["Capabilities"] == ["CAPABILITY_IAM"]
    assert stack["Tags"] == [{"Key": "team", "Value": "a"}]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["TesterArn"].endswith(":function:YourLambdaFunctionWithEventInvokeConfig")
    statuses = [(lid, status) for lid, status, _ in events(cf, "ann")]
    assert statuses[0] == ("ann", "CREATE_COMPLETE") and statuses[-1] == (
        "ann",
        "CREATE_IN_PROGRESS",
    )
    resources = {
        r["LogicalResourceId"]: r for r in cf.list_stack_resources(StackName="ann")[
            "StackResourceSummaries"]
    }  # fmt: skip
    assert resources["EventInvokeConfig"]["ResourceStatus"] == "CREATE_COMPLETE"
    detail = cf.describe_stack_resource(StackName="ann", LogicalResourceId="Tester")
    assert detail["StackResourceDetail"]["PhysicalResourceId"] == (
        "YourLambdaFunctionWithEventInvokeConfig"
    )
    assert cf.get_template(StackName="ann")["TemplateBody"] == announcement()
    lam = client_for(cf.meta.endpoint_url, "lambda")
    config = lam.get_function_event_invoke_config(
        FunctionName="YourLambdaFunctionWithEventInvokeConfig", Qualifier="$LATEST"
    )
    assert config["DestinationConfig"]["OnFailure"]["Destination"].endswith(
        ":function:YourLambdaFunctionOnFailure"
    )
    response = error_of(cf.create_stack, StackName="ann", TemplateBody=announcement(),
                        Capabilities=["CAPABILITY_IAM"])  # fmt: skip
    assert response["Error"]["Code"] == "AlreadyExistsException"
    assert response["Error"]["Message"] == "Stack [ann] already exists"
    cf.delete_stack(StackName="ann")
    cf.get_waiter("stack_delete_complete").wait(StackName="ann", WaiterConfig=FAST)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName="YourLambdaFunctionWithEventInvokeConfig")


def test_a_failed_resource_rolls_the_stack_back_with_its_reason(cf: Any) -> None:
    cf.create_stack(StackName="bad", TemplateBody=FAILING)
    with pytest.raises(botocore.exceptions.WaiterError, match="ROLLBACK_COMPLETE"):
        cf.get_waiter("stack_create_complete").wait(StackName="bad", WaiterConfig=FAST)
    seen = events(cf, "bad")
    failed = [e for e in seen if e[1] == "CREATE_FAILED"]
    assert failed == [("Config", "CREATE_FAILED",
                       "ResourceNotFoundException: The function doesn't exist.")]  # fmt: skip
    stack_events = {status: reason for lid, status, reason in seen if lid == "bad"}
    assert stack_events["ROLLBACK_IN_PROGRESS"] == (
        "The following resource(s) failed to create: [Config]. Rollback requested by user."
    )
    assert stack_events["ROLLBACK_COMPLETE"] == ""
    stack = cf.describe_stacks(StackName="bad")["Stacks"][0]
    assert stack["StackStatusReason"] == (
        "Resources.Config: ResourceNotFoundException: The function doesn't exist."
    )
    order = [(lid, status) for lid, status, _ in reversed(seen)]
    assert order.index(("bad", "ROLLBACK_IN_PROGRESS")) < order.index(
        ("Records", "DELETE_COMPLETE")
    )
    assert order[-1] == ("bad", "ROLLBACK_COMPLETE")
    response = error_of(cf.update_stack, StackName="bad", TemplateBody=FAILING)
    assert "is in ROLLBACK_COMPLETE state and can not be updated" in response["Error"]["Message"]
    cf.delete_stack(StackName="bad")
    cf.get_waiter("stack_delete_complete").wait(StackName="bad", WaiterConfig=FAST)


def test_change_sets_show_modify_and_replacement(cf: Any) -> None:
    name = "changing"
    tester = "ChangingTester"
    created = cf.create_change_set(
        StackName=name, ChangeSetName="first", ChangeSetType="CREATE",
        TemplateBody=announcement(tester_name=tester), Capabilities=["CAPABILITY_IAM"],
    )  # fmt: skip
    review = cf.describe_stacks(StackName=name)["Stacks"][0]
    assert review["StackStatus"] == "REVIEW_IN_PROGRESS"
    cf.get_waiter("change_set_create_complete").wait(ChangeSetName=created["Id"], WaiterConfig=FAST)
    first = cf.describe_change_set(ChangeSetName="first", StackName=name)
    assert {c["ResourceChange"]["Action"] for c in first["Changes"]} == {"Add"}
    assert first["ExecutionStatus"] == "AVAILABLE"
    cf.execute_change_set(ChangeSetName=created["Id"])
    cf.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=FAST)
    executed = cf.describe_change_set(ChangeSetName=created["Id"])
    assert executed["ExecutionStatus"] == "EXECUTE_COMPLETE"

    # an environment change: modified in place
    cf.create_change_set(
        StackName=name, ChangeSetName="env", TemplateBody=announcement(
            tester_name=tester, env={"COLOR": "blue"}), Capabilities=["CAPABILITY_IAM"],
    )  # fmt: skip
    env = cf.describe_change_set(ChangeSetName="env", StackName=name)
    (change,) = [c["ResourceChange"] for c in env["Changes"]]
    assert change["Action"] == "Modify" and change["Replacement"] == "False"
    assert change["LogicalResourceId"] == "Tester" and change["PhysicalResourceId"] == tester
    assert change["Scope"] == ["Properties"]
    assert change["Details"] == [{
        "Target": {"Attribute": "Properties", "Name": "Environment",
                   "RequiresRecreation": "Never"},
        "Evaluation": "Static", "ChangeSource": "DirectModification",
    }]  # fmt: skip

    # a rename: a new function
    cf.create_change_set(
        StackName=name, ChangeSetName="rename", TemplateBody=announcement(
            tester_name=tester + "Two"), Capabilities=["CAPABILITY_IAM"],
    )  # fmt: skip
    rename = cf.describe_change_set(ChangeSetName="rename", StackName=name)
    by_id = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]
             for c in rename["Changes"]}  # fmt: skip
    assert by_id["Tester"]["Replacement"] == "True"
    assert by_id["Tester"]["Details"][0]["Target"]["RequiresRecreation"] == "Always"
    listed = cf.list_change_sets(StackName=name)["Summaries"]
    assert sorted((s["ChangeSetName"], s["ExecutionStatus"]) for s in listed) == [
        ("env", "AVAILABLE"),
        ("first", "EXECUTE_COMPLETE"),
        ("rename", "AVAILABLE"),
    ]
    cf.delete_change_set(ChangeSetName="env", StackName=name)
    response = error_of(cf.describe_change_set, ChangeSetName="env", StackName=name)
    assert response["Error"]["Code"] == "ChangeSetNotFound"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404

    cf.execute_change_set(ChangeSetName="rename", StackName=name)
    cf.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=FAST)
    lam = client_for(cf.meta.endpoint_url, "lambda")
    assert lam.get_function(FunctionName=tester + "Two")["Configuration"]["FunctionName"]
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=tester)

    # the same again: no changes
    cf.create_change_set(
        StackName=name, ChangeSetName="same", TemplateBody=announcement(
            tester_name=tester + "Two"), Capabilities=["CAPABILITY_IAM"],
    )  # fmt: skip
    same = cf.describe_change_set(ChangeSetName="same", StackName=name)
    assert same["Status"] == "FAILED" and same["ExecutionStatus"] == "UNAVAILABLE"
    assert same["StatusReason"].startswith("The submitted information didn't contain changes.")
    response = error_of(cf.update_stack, StackName=name, Capabilities=["CAPABILITY_IAM"],
                        TemplateBody=announcement(tester_name=tester + "Two"))  # fmt: skip
    assert response["Error"]["Message"] == "No updates are to be performed."

    stack_id = cf.describe_stacks(StackName=name)["Stacks"][0]["StackId"]
    cf.delete_stack(StackName=name)
    cf.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=FAST)
    response = error_of(cf.describe_stacks, StackName=name)
    assert response["Error"] == {"Type": "Sender", "Code": "ValidationError",
                                 "Message": f"Stack with id {name} does not exist"}  # fmt: skip
    gone = cf.describe_stacks(StackName=stack_id)["Stacks"][0]
    assert gone["StackStatus"] == "DELETE_COMPLETE"
    deleted = cf.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]
    assert stack_id in {s["StackId"] for s in deleted}
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=tester + "Two")


def test_parameters_no_echo_exports_and_import_value(cf: Any) -> None:
    cf.create_stack(
        StackName="exporter", TemplateBody=EXPORTER,
        Parameters=[{"ParameterKey": "Secret", "ParameterValue": "hunter2"}],
    )  # fmt: skip
    cf.get_waiter("stack_create_complete").wait(StackName="exporter", WaiterConfig=FAST)
    exporter = cf.describe_stacks(StackName="exporter")["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in exporter["Outputs"]}
    assert outputs["Id"] == exporter["StackId"]  # AWS::StackId is the stack's own
    params = exporter["Parameters"]
    assert sorted((p["ParameterKey"], p["ParameterValue"]) for p in params) == [
        ("Name", "shared-queue"), ("Secret", "****")]  # fmt: skip
    # UsePreviousValue keeps the secret; a changed Name replaces the queue
    cf.update_stack(
        StackName="exporter", UsePreviousTemplate=True,
        Parameters=[{"ParameterKey": "Secret", "UsePreviousValue": True},
                    {"ParameterKey": "Name", "ParameterValue": "shared-queue-2"}],
    )  # fmt: skip
    cf.get_waiter("stack_update_complete").wait(StackName="exporter", WaiterConfig=FAST)
    stack = cf.describe_stacks(StackName="exporter")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    summary = cf.get_template_summary(StackName="exporter")
    assert [p["ParameterKey"] for p in summary["Parameters"]] == ["Secret", "Name"]
    assert summary["Parameters"][0]["NoEcho"] is True

    # the export, imported by another stack, which then holds it
    exports = {e["Name"]: e for e in cf.list_exports()["Exports"]}
    url = exports["exporter-QueueUrl"]["Value"]
    assert url.endswith("/shared-queue-2")
    assert exports["exporter-QueueUrl"]["ExportingStackId"] == stack["StackId"]
    exporting = [{"ParameterKey": "Exporter", "ParameterValue": "exporter"}]
    cf.create_stack(StackName="importer", TemplateBody=IMPORTER, Parameters=exporting)
    cf.get_waiter("stack_create_complete").wait(StackName="importer", WaiterConfig=FAST)
    outputs = cf.describe_stacks(StackName="importer")["Stacks"][0]["Outputs"]
    assert outputs == [{"OutputKey": "Imported", "OutputValue": url}]
    assert cf.list_imports(ExportName="exporter-QueueUrl")["Imports"] == ["importer"]
    response = error_of(cf.delete_stack, StackName="exporter")
    assert response["Error"]["Message"] == (
        "Export exporter-QueueUrl cannot be deleted as it is in use by importer"
    )
    for name in ("importer", "exporter"):
        cf.delete_stack(StackName=name)
        cf.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=FAST)
    response = error_of(cf.list_imports, ExportName="exporter-QueueUrl")
    assert (
        response["Error"]["Message"] == "Export 'exporter-QueueUrl' is not imported by any stack."
    )


def test_validate_template_and_format_errors(cf: Any) -> None:
    valid = cf.validate_template(TemplateBody=announcement())
    assert valid["Capabilities"] == ["CAPABILITY_IAM"]
    assert "AWS::IAM::Role" in valid["CapabilitiesReason"]
    response = error_of(cf.validate_template, TemplateBody="Resources: [")
    assert response["Error"]["Code"] == "ValidationError"
    assert response["Error"]["Message"].startswith("Template format error:")
    response = error_of(cf.create_stack, StackName="odd", TemplateBody=(
        "Resources:\n  B:\n    Type: AWS::EC2::Instance\n"))  # fmt: skip
    assert response["Error"]["Message"] == (
        "Template format error: Unrecognized resource types: [AWS::EC2::Instance]"
    )
    response = error_of(cf.create_stack, StackName="local", TemplateBody=(
        "Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n"
        "      Runtime: python3.12\n      Handler: a.b\n      Role: arn:aws:iam::1:role/r\n"
        "      Code: ./src\n"))  # fmt: skip
    assert "local path" in response["Error"]["Message"]
    response = error_of(cf.describe_stacks, StackName="never")
    assert response["Error"]["Message"] == "Stack with id never does not exist"
    # as recorded against AWS (localstack's snapshots)
    response = error_of(cf.describe_stack_events, StackName="does-not-exist")
    assert response["Error"]["Message"] == "Stack [does-not-exist] does not exist"
    response = error_of(cf.describe_change_set, ChangeSetName="cs")
    assert response["Error"]["Message"] == (
        "StackName must be specified if ChangeSetName is not specified as an ARN."
    )
    response = error_of(cf.delete_change_set, ChangeSetName="cs", StackName="nostack")
    assert response["Error"]["Message"] == "Stack [nostack] does not exist"
    response = error_of(cf.create_stack, StackName="*@bad_$", TemplateBody=FAILING)
    assert response["Error"]["Message"] == (
        "1 validation error detected: Value '*@bad_$' at 'stackName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: "
        "[a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*"
    )


def test_sendoff_deploy_and_the_api_share_stacks(server: ServerProcess, cf: Any) -> None:
    deploy(server.url, TEMPLATES / "update" / "template.yaml", "--stack-name", "shared")
    stack = cf.describe_stacks(StackName="shared")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert cf.describe_stacks(StackName=stack["StackId"])["Stacks"][0]["StackName"] == "shared"
    body = cf.get_template(StackName="shared")["TemplateBody"]
    assert body == (TEMPLATES / "update" / "template.yaml").read_text()
    # updated through the API, seen by sendoff
    resources = cf.list_stack_resources(StackName="shared")["StackResourceSummaries"]
    assert resources
    cf.update_stack(StackName="shared", TemplateBody=_api_only_template(), Capabilities=[])
    cf.get_waiter("stack_update_complete").wait(StackName="shared", WaiterConfig=FAST)
    updated = cf.describe_stacks(StackName="shared")["Stacks"][0]
    assert "Parameters" not in updated and "Capabilities" not in updated  # as in AWS
    assert updated["Tags"] == [] and updated["NotificationARNs"] == []
    assert "LastUpdatedTime" in updated
    seen = describe(server.url, "shared")
    assert seen is not None and seen["status"] == "UPDATE_COMPLETE"
    assert set(seen["resources"]) == {"OnlyQueue"}
    # created through the API, updated and deleted by sendoff
    cf.create_stack(StackName="apimade", TemplateBody=_api_only_template())
    cf.get_waiter("stack_create_complete").wait(StackName="apimade", WaiterConfig=FAST)
    result = deploy(server.url, TEMPLATES / "update" / "template.yaml", "--stack-name", "apimade")
    assert result["status"] == "UPDATE_COMPLETE"
    assert cf.describe_stacks(StackName="apimade")["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    for name in ("shared", "apimade"):
        cf.delete_stack(StackName=name)
        cf.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=FAST)


def _api_only_template() -> str:
    return "Resources:\n  OnlyQueue:\n    Type: AWS::SQS::Queue\n"


def test_a_restart_mid_deployment_leaves_no_stack_in_progress(tmp_path: Any) -> None:
    data = tmp_path / "srv"
    proc = start_server(data, "--time-scale", "0.01")
    try:
        cf = client_for(proc.url, "cloudformation")
        cf.create_stack(StackName="calm", TemplateBody=_api_only_template())
        cf.get_waiter("stack_create_complete").wait(StackName="calm", WaiterConfig=FAST)
        # a stack as a runner that died mid-create leaves it, long ago (through the store API;
        # a server's own stacks are recovered at once: tests/unit/test_iac_recover.py)
        doc = httpx.get(f"{proc.url}/_sendoff/stacks/calm").json()
        stuck = {**doc["stack"], "name": "stuck", "status": "CREATE_IN_PROGRESS",
                 "stack_id": "", "runner": "", "updated_at": 0.0}  # fmt: skip
        put = httpx.put(f"{proc.url}/_sendoff/stacks/stuck", json={"stack": stuck, "revision": 0})
        assert put.status_code == 200, put.text
    finally:
        assert proc.stop() == 0
    proc = start_server(data, "--time-scale", "0.01")
    try:
        cf = client_for(proc.url, "cloudformation")
        stack = wait_until(
            lambda: cf.describe_stacks(StackName="stuck")["Stacks"][0], message="the stuck stack"
        )
        assert stack["StackStatus"] == "ROLLBACK_FAILED"
        assert "the deployment stopped" in stack["StackStatusReason"]
        assert cf.describe_stacks(StackName="calm")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
        cf.delete_stack(StackName="stuck")
        cf.get_waiter("stack_delete_complete").wait(StackName="stuck", WaiterConfig=FAST)
    finally:
        assert proc.stop() == 0


def test_under_sigv4_a_stack_acts_as_its_caller(tmp_path: Any) -> None:
    """The deployment signs its calls as the caller: resources land in the caller's
    account, another account's stacks are invisible, and what the caller may not do
    directly (configure another account's function) fails the stack."""
    from tests.integration.test_lambda_policy_enforce import client
    from tests.support.cli import create_key

    data = tmp_path / "signed"
    data.mkdir()
    alice, bob = create_key(data, "111111111111", "alice"), create_key(data, "222222222222", "bob")
    proc = start_server(data, "--auth", "sigv4", "--iam", "enforce", "--time-scale", "0.01")
    try:
        cf_a, cf_b = client(proc, "cloudformation", alice), client(proc, "cloudformation", bob)
        lam_a, lam_b = client(proc, "lambda", alice), client(proc, "lambda", bob)
        own = (
            "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n"
            "      FunctionName: mine\n      Runtime: python3.12\n      Handler: index.handler\n"
            "      Role: !Sub arn:aws:iam::${AWS::AccountId}:role/r\n"
            "      Code: {ZipFile: 'def handler(e, c): return 1'}\n"
        )
        stack_id = cf_a.create_stack(StackName="alices", TemplateBody=own)["StackId"]
        assert ":111111111111:stack/alices/" in stack_id
        cf_a.get_waiter("stack_create_complete").wait(StackName="alices", WaiterConfig=FAST)
        assert lam_a.get_function(FunctionName="mine")["Configuration"]["FunctionArn"] == (
            "arn:aws:lambda:us-east-1:111111111111:function:mine"
        )
        with pytest.raises(lam_b.exceptions.ResourceNotFoundException):
            lam_b.get_function(FunctionName="mine")
        response = error_of(cf_b.describe_stacks, StackName="alices")
        assert response["Error"]["Message"] == "Stack with id alices does not exist"
        # bob configures alice's function through a stack: refused as it would be directly
        theirs = (
            "Resources:\n  Config:\n    Type: AWS::Lambda::EventInvokeConfig\n"
            "    Properties:\n      FunctionName: arn:aws:lambda:us-east-1:111111111111:"
            "function:mine\n      Qualifier: $LATEST\n      MaximumRetryAttempts: 0\n"
        )
        cf_b.create_stack(StackName="bobs", TemplateBody=theirs)
        with pytest.raises(botocore.exceptions.WaiterError, match="ROLLBACK_COMPLETE"):
            cf_b.get_waiter("stack_create_complete").wait(StackName="bobs", WaiterConfig=FAST)
        (failed,) = [e for e in cf_b.describe_stack_events(StackName="bobs")["StackEvents"]
                     if e["ResourceStatus"] == "CREATE_FAILED"]  # fmt: skip
        assert failed["LogicalResourceId"] == "Config"
        assert (
            "AccessDenied" in failed["ResourceStatusReason"]
            or "not authorized" in (failed["ResourceStatusReason"])
        )
        with pytest.raises(lam_a.exceptions.ResourceNotFoundException):
            lam_a.get_function_event_invoke_config(FunctionName="mine", Qualifier="$LATEST")
    finally:
        assert proc.stop() == 0
