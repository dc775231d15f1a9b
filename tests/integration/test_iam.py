"""IAM roles (boto3 and the AWS CLI) and ``--iam enforce``: execution-role checks of
destinations and dead-letter targets at configuration time and at delivery."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.support.cli import aws
from tests.support.events import wait_terminal
from tests.support.functions import create_python, unique
from tests.support.server import ServerProcess, start_server, wait_until
from tests.support.templates import deploy, sendoff

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
SQS_FULL = "arn:aws:iam::aws:policy/AmazonSQSFullAccess"
BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


@pytest.fixture(scope="module")
def enforcing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path_factory.mktemp("iam"), "--time-scale", "0.01", "--iam", "enforce")
    yield proc
    assert proc.stop() == 0, proc.log()[-4000:]


@pytest.fixture(scope="module")
def iam(enforcing: ServerProcess) -> Any:
    return client_for(enforcing.url, "iam")


@pytest.fixture(scope="module")
def lam(enforcing: ServerProcess) -> Any:
    return client_for(enforcing.url, "lambda")


@pytest.fixture(scope="module")
def sqs(enforcing: ServerProcess) -> Any:
    return client_for(enforcing.url, "sqs")


def policy(effect: str, action: str, resource: str) -> str:
    statement = {"Effect": effect, "Action": action, "Resource": resource}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def make_role(iam: Any, *inline: tuple[str, str], attach: tuple[str, ...] = ()) -> str:
    name = unique("role")
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    for policy_name, document in inline:
        iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=document)
    for policy_arn in attach:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
    return arn


def make_queue(sqs: Any) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return url, attrs["Attributes"]["QueueArn"]


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    response = excinfo.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"]["Message"],
    )


def test_role_crud_round_trip(iam: Any) -> None:
    name = unique("role")
    created = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=TRUST,
        Path="/service-role/",
        Description="for tests",
        Tags=[{"Key": "team", "Value": "core"}],
    )["Role"]
    assert created["Arn"] == f"arn:aws:iam::000000000000:role/service-role/{name}"
    assert created["RoleId"].startswith("AROA") and len(created["RoleId"]) == 21
    assert created["AssumeRolePolicyDocument"] == json.loads(TRUST)  # decoded by botocore
    assert created["Tags"] == [{"Key": "team", "Value": "core"}]
    got = iam.get_role(RoleName=name)["Role"]
    assert (got["RoleId"], got["MaxSessionDuration"], got["Path"]) == (
        created["RoleId"], 3600, "/service-role/",
    )  # fmt: skip
    assert name in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    assert [r["RoleName"] for r in iam.list_roles(PathPrefix="/service-role/")["Roles"]] == [name]

    document = policy("Allow", "sqs:SendMessage", "*")
    iam.put_role_policy(RoleName=name, PolicyName="send", PolicyDocument=document)
    got_policy = iam.get_role_policy(RoleName=name, PolicyName="send")
    assert got_policy["PolicyDocument"] == json.loads(document)
    assert got_policy["RoleName"] == name and got_policy["PolicyName"] == "send"
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["send"]
    iam.attach_role_policy(RoleName=name, PolicyArn=SQS_FULL)
    iam.attach_role_policy(RoleName=name, PolicyArn=BASIC)
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert attached == [
        {"PolicyName": "AmazonSQSFullAccess", "PolicyArn": SQS_FULL},
        {"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": BASIC},
    ]
    prefixed = iam.list_attached_role_policies(RoleName=name, PathPrefix="/service-role/")
    assert [p["PolicyArn"] for p in prefixed["AttachedPolicies"]] == [BASIC]

    with pytest.raises(ClientError) as caught:  # attached policies block the delete
        iam.delete_role(RoleName=name)
    assert error(caught) == (
        409, "DeleteConflict", "Cannot delete entity, must detach all policies first.",
    )  # fmt: skip
    iam.detach_role_policy(RoleName=name, PolicyArn=SQS_FULL)
    iam.detach_role_policy(RoleName=name, PolicyArn=BASIC)
    with pytest.raises(ClientError) as caught:  # so do inline ones
        iam.delete_role(RoleName=name)
    assert error(caught) == (
        409,
        "DeleteConflict",
        "Cannot delete entity, must delete policies first.",
    )
    iam.delete_role_policy(RoleName=name, PolicyName="send")
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == []
    iam.delete_role(RoleName=name)
    with pytest.raises(ClientError) as caught:
        iam.get_role(RoleName=name)
    assert error(caught) == (404, "NoSuchEntity", f"The role with name {name} cannot be found.")


def test_role_errors(iam: Any) -> None:
    name = unique("role")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
    with pytest.raises(ClientError) as caught:
        iam.create_role(RoleName=name.upper(), AssumeRolePolicyDocument=TRUST)
    assert error(caught) == (
        409,
        "EntityAlreadyExists",
        f"Role with name {name.upper()} already exists.",
    )
    for call in (iam.get_role, iam.delete_role, iam.list_role_policies):
        with pytest.raises(ClientError) as caught:
            call(RoleName="no-such-role")
        assert error(caught) == (
            404, "NoSuchEntity", "The role with name no-such-role cannot be found.",
        )  # fmt: skip
    with pytest.raises(ClientError) as caught:
        iam.get_role_policy(RoleName=name, PolicyName="nope")
    assert error(caught) == (404, "NoSuchEntity", "The role policy with name nope cannot be found.")
    with pytest.raises(ClientError) as caught:
        iam.put_role_policy(RoleName=name, PolicyName="bad", PolicyDocument="{not json")
    assert error(caught) == (400, "MalformedPolicyDocument", "This policy contains invalid Json")
    with pytest.raises(ClientError) as caught:
        iam.create_role(
            RoleName=unique("r"), AssumeRolePolicyDocument=policy("Allow", "sqs:*", "*")
        )
    assert error(caught) == (400, "MalformedPolicyDocument", "Has prohibited field Resource")
    unknown = "arn:aws:iam::aws:policy/NoSuchManagedPolicy"
    with pytest.raises(ClientError) as caught:
        iam.attach_role_policy(RoleName=name, PolicyArn=unknown)
    assert error(caught) == (
        404, "NoSuchEntity", f"Policy {unknown} does not exist or is not attachable.",
    )  # fmt: skip
    with pytest.raises(ClientError) as caught:
        iam.detach_role_policy(RoleName=name, PolicyArn=SQS_FULL)
    assert error(caught) == (404, "NoSuchEntity", f"Policy {SQS_FULL} was not found.")
    with pytest.raises(ClientError) as caught:
        iam.attach_role_policy(RoleName=name, PolicyArn="AmazonSQSFullAccessPolicy")
    assert error(caught) == (400, "ValidationError", "ARN AmazonSQSFullAccessPolicy is not valid.")


def test_a_role_without_send_message_is_refused_and_one_with_it_delivers(
    iam: Any, lam: Any, sqs: Any
) -> None:
    url, queue_arn = make_queue(sqs)
    weak = make_role(iam, attach=(BASIC,))
    name = unique()
    create_python(lam, name, Role=weak)
    with pytest.raises(ClientError) as caught:
        lam.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": queue_arn}}
        )
    assert error(caught) == (
        400,
        "InvalidParameterValueException",
        "The function's execution role does not have permissions to call SendMessage on"
        f" {queue_arn}",
    )
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    with pytest.raises(ClientError) as caught:  # the same check on Update
        lam.update_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnFailure": {"Destination": queue_arn}}
        )
    assert error(caught)[2].endswith(f"to call SendMessage on {queue_arn}")

    able = make_role(iam, ("send", policy("Allow", "sqs:SendMessage", queue_arn)))
    lam.update_function_configuration(FunctionName=name, Role=able)
    lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": queue_arn}}
    )
    request_id = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")[
        "ResponseMetadata"
    ]["RequestId"]

    def record() -> dict[str, Any] | None:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages")
        return json.loads(messages[0]["Body"]) if messages else None

    got = wait_until(record, timeout=30, message="the success record")
    assert got["requestContext"]["requestId"] == request_id


def test_an_explicit_deny_wins_over_a_managed_allow(iam: Any, lam: Any, sqs: Any) -> None:
    _, queue_arn = make_queue(sqs)
    role = make_role(
        iam, ("no-send", policy("Deny", "sqs:SendMessage", queue_arn)), attach=(SQS_FULL,)
    )
    name = unique()
    create_python(lam, name, Role=role)
    with pytest.raises(ClientError) as caught:
        lam.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnFailure": {"Destination": queue_arn}}
        )
    assert "does not have permissions to call SendMessage" in error(caught)[2]
    _, other_arn = make_queue(sqs)  # the deny names one queue; the managed allow covers others
    lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnFailure": {"Destination": other_arn}}
    )


def test_other_destination_types_need_their_actions(iam: Any, lam: Any, enforcing: Any) -> None:
    sns = client_for(enforcing.url, "sns")
    events = client_for(enforcing.url, "events")
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    bus = events.create_event_bus(Name=unique("bus"))["EventBusArn"]
    target = unique("target")
    create_python(lam, target)
    target_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{target}"
    name = unique()
    create_python(lam, name, Role=make_role(iam, attach=(SQS_FULL,)))
    for arn, operation in ((topic, "Publish"), (bus, "PutEvents"), (target_arn, "InvokeFunction")):
        with pytest.raises(ClientError) as caught:
            lam.put_function_event_invoke_config(
                FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}}
            )
        assert error(caught)[2] == (
            f"The function's execution role does not have permissions to call {operation} on {arn}"
        )
    lam.update_function_configuration(
        FunctionName=name,
        Role=make_role(
            iam,
            attach=(
                "arn:aws:iam::aws:policy/AmazonSNSFullAccess",
                "arn:aws:iam::aws:policy/AmazonEventBridgeFullAccess",
                "arn:aws:iam::aws:policy/service-role/AWSLambdaRole",
            ),
        ),
    )
    for arn in (topic, bus, target_arn):
        lam.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}}
        )


def test_dead_letter_targets_are_checked(iam: Any, lam: Any, sqs: Any, enforcing: Any) -> None:
    _, queue_arn = make_queue(sqs)
    topic = client_for(enforcing.url, "sns").create_topic(Name=unique("t"))["TopicArn"]
    weak = make_role(iam, attach=(BASIC,))
    with pytest.raises(ClientError) as caught:
        create_python(lam, unique(), Role=weak, DeadLetterConfig={"TargetArn": queue_arn})
    assert error(caught) == (
        400,
        "InvalidParameterValueException",
        "The provided execution role does not have permissions to call SendMessage on SQS",
    )
    name = unique()
    create_python(lam, name, Role=weak)
    with pytest.raises(ClientError) as caught:
        lam.update_function_configuration(FunctionName=name, DeadLetterConfig={"TargetArn": topic})
    assert error(caught)[2] == (
        "The provided execution role does not have permissions to call Publish on SNS"
    )
    able = make_role(iam, ("dlq", policy("Allow", "sqs:SendMessage", queue_arn)))
    create_python(lam, unique(), Role=able, DeadLetterConfig={"TargetArn": queue_arn})


def test_a_role_that_does_not_exist_is_not_checked(lam: Any, sqs: Any) -> None:
    _, queue_arn = make_queue(sqs)
    name = unique()
    create_python(  # tests.support.functions.ROLE: no such role is stored
        lam, name, DeadLetterConfig={"TargetArn": queue_arn}
    )
    lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": queue_arn}}
    )


def failed_delivery(url: str, request_id: str) -> dict[str, Any]:
    def failed() -> dict[str, Any] | None:
        event = wait_terminal(url, request_id)
        done = [d for d in event.get("deliveries", []) if d.get("state") == "failed"]
        return done[0] if done else None

    return wait_until(failed, timeout=30, message="the delivery to fail")  # type: ignore[no-any-return]


def test_losing_the_permission_fails_the_next_delivery(
    iam: Any, lam: Any, sqs: Any, enforcing: ServerProcess
) -> None:
    url, queue_arn = make_queue(sqs)
    dlq_url, dlq_arn = make_queue(sqs)
    role_name = unique("role")
    iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=TRUST)
    iam.attach_role_policy(RoleName=role_name, PolicyArn=SQS_FULL)
    role = iam.get_role(RoleName=role_name)["Role"]["Arn"]
    name = unique()
    create_python(lam, name, Role=role, DeadLetterConfig={"TargetArn": dlq_arn})
    lam.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    iam.detach_role_policy(RoleName=role_name, PolicyArn=SQS_FULL)  # the role loses it

    payload = json.dumps({"fail": True}).encode()
    response = lam.invoke(FunctionName=name, InvocationType="Event", Payload=payload)
    request_id = response["ResponseMetadata"]["RequestId"]
    event = wait_terminal(enforcing.url, request_id)
    assert event["state"] == "failed"

    def both_failed() -> list[dict[str, Any]] | None:
        deliveries = wait_terminal(enforcing.url, request_id).get("deliveries", [])
        done = [d for d in deliveries if d.get("state") == "failed"]
        return done if len(done) == 2 else None

    deliveries = wait_until(both_failed, timeout=30, message="both deliveries to fail")
    assert {d["target"] for d in deliveries} == {queue_arn, dlq_arn}
    for delivery in deliveries:
        assert len(delivery["failures"]) == 1  # refused for good: no retries
        assert "is not authorized to perform: sqs:SendMessage" in delivery["failures"][0]["error"]
    for queue in (url, dlq_url):
        assert "Messages" not in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0)
    metrics = httpx.get(f"{enforcing.url}/metrics").text
    assert f'DestinationDeliveryFailures_total{{function_name="{name}"' in metrics
    assert f'DeadLetterErrors_total{{function_name="{name}"' in metrics


def test_the_aws_cli_manages_roles(enforcing: ServerProcess, tmp_path: Path) -> None:
    name = unique("cli-role")
    trust = tmp_path / "trust.json"
    trust.write_text(TRUST)
    created = aws(
        enforcing.url, "iam", "create-role", "--role-name", name,
        "--assume-role-policy-document", f"file://{trust}",
    )  # fmt: skip
    assert created["Role"]["RoleName"] == name
    aws(enforcing.url, "iam", "attach-role-policy", "--role-name", name, "--policy-arn", SQS_FULL)
    got = aws(enforcing.url, "iam", "get-role", "--role-name", name)
    assert got["Role"]["Arn"] == f"arn:aws:iam::000000000000:role/{name}"
    attached = aws(enforcing.url, "iam", "list-attached-role-policies", "--role-name", name)
    assert attached["AttachedPolicies"][0]["PolicyArn"] == SQS_FULL
    done = aws(enforcing.url, "iam", "get-role", "--role-name", "missing", check=False)
    assert done.returncode != 0
    assert (
        "NoSuchEntity" in done.stderr
        and "The role with name missing cannot be found." in done.stderr
    )


def test_iam_off_checks_nothing(server: ServerProcess) -> None:
    iam = client_for(server.url, "iam")
    lam = client_for(server.url, "lambda")
    sqs = client_for(server.url, "sqs")
    _, queue_arn = make_queue(sqs)
    role = make_role(iam)  # exists, allows nothing; --iam off does not look
    name = unique()
    create_python(lam, name, Role=role, DeadLetterConfig={"TargetArn": queue_arn})
    lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": queue_arn}}
    )


TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Records:
    Type: AWS::SQS::Queue
  Plain:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub ${AWS::StackName}-plain
      Path: /app/
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/AmazonSQSFullAccess
        - arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess
      Policies:
        - PolicyName: no-records
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - {Effect: Deny, Action: sqs:SendMessage, Resource: !GetAtt Records.Arn}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      DeadLetterQueue: {Type: SQS, TargetArn: !GetAtt Records.Arn}
      EventInvokeConfig:
        MaximumRetryAttempts: 0
        DestinationConfig:
          OnSuccess: {Type: SQS, Destination: !GetAtt Records.Arn}
  Templated:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Policies:
        - SQSSendMessagePolicy: {QueueName: !GetAtt Records.QueueName}
  TemplatedConfig:
    Type: AWS::Lambda::EventInvokeConfig
    Properties:
      FunctionName: !Ref Templated
      Qualifier: $LATEST
      DestinationConfig: {OnSuccess: {Destination: !GetAtt Records.Arn}}
Outputs:
  WorkerFunction: {Value: !Ref Worker}
  WorkerRole: {Value: !Ref WorkerRole}
  TemplatedRole: {Value: !Ref TemplatedRole}
  PlainArn: {Value: !GetAtt Plain.Arn}
  RecordsUrl: {Value: !Ref Records}
"""


def test_template_roles_are_real_roles(
    iam: Any, lam: Any, sqs: Any, enforcing: ServerProcess, tmp_path: Path
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return event\n")
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    stack = unique("stack")
    result = deploy(enforcing.url, tmp_path / "template.yaml", "--stack-name", stack)
    assert result["status"] == "CREATE_COMPLETE", result
    out = result["outputs"]

    plain = iam.get_role(RoleName=f"{stack}-plain")["Role"]
    assert plain["Arn"] == out["PlainArn"] == f"arn:aws:iam::000000000000:role/app/{stack}-plain"
    attached = iam.list_attached_role_policies(RoleName=f"{stack}-plain")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [SQS_FULL]  # X-Ray's is not known: skipped
    assert iam.list_role_policies(RoleName=f"{stack}-plain")["PolicyNames"] == ["no-records"]

    # SAM's generated role, with the basic execution policy and the destination and DLQ
    # policies SAM adds; --iam enforce accepted the function's configuration because of them
    worker_role = iam.get_role(RoleName=out["WorkerRole"])["Role"]
    assert (
        lam.get_function_configuration(FunctionName=out["WorkerFunction"])["Role"]
        == (worker_role["Arn"])
    )
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(
        RoleName=out["WorkerRole"])["AttachedPolicies"]] == [BASIC]  # fmt: skip
    assert len(iam.list_role_policies(RoleName=out["WorkerRole"])["PolicyNames"]) == 2
    lam.invoke(FunctionName=out["WorkerFunction"], InvocationType="Event", Payload=b'{"n": 1}')

    def record() -> dict[str, Any] | None:
        got = sqs.receive_message(QueueUrl=out["RecordsUrl"], WaitTimeSeconds=1).get("Messages")
        return json.loads(got[0]["Body"]) if got else None

    assert wait_until(record, timeout=30, message="the record")["requestPayload"] == {"n": 1}

    # a SAM policy template is expanded as SAM does (else --iam enforce refused the config)
    (name,) = iam.list_role_policies(RoleName=out["TemplatedRole"])["PolicyNames"]
    document = iam.get_role_policy(RoleName=out["TemplatedRole"], PolicyName=name)
    assert document["PolicyDocument"]["Statement"][0]["Action"] == ["sqs:SendMessage*"]

    assert sendoff(enforcing.url, "stacks", "delete", stack).returncode == 0
    for role_name in (f"{stack}-plain", out["WorkerRole"]):
        with pytest.raises(ClientError) as caught:
            iam.get_role(RoleName=role_name)
        assert error(caught)[1] == "NoSuchEntity"


def test_a_conditional_allow_grants_nothing_and_is_reported_once(
    iam: Any, lam: Any, sqs: Any, enforcing: ServerProcess
) -> None:
    _, queue_arn = make_queue(sqs)
    statement = {
        "Effect": "Allow",
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"Bool": {"aws:SecureTransport": "true"}},
    }
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    role = make_role(iam, ("conditional", document))
    name = unique()
    create_python(lam, name, Role=role)
    for _ in range(2):
        with pytest.raises(ClientError) as caught:
            lam.put_function_event_invoke_config(
                FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": queue_arn}}
            )
        assert error(caught)[1] == "InvalidParameterValueException"
    notice = f"conditional statement 1 of role {role} has a Condition"
    assert wait_until(lambda: notice in enforcing.log(), message="the condition notice")
    assert enforcing.log().count(notice) == 1
