"""STS with boto3 against a real server: ``AssumeRole`` and ``GetSessionToken`` return
temporary credentials that work under ``--auth sigv4`` (with their session token only),
act as the role's session or the user, and follow AWS's validation and trust rules
(``--iam enforce``; another account's role always)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.cli import create_key
from tests.support.functions import unique
from tests.support.server import ServerProcess, start_server

ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"
_CONFIG = Config(retries={"total_max_attempts": 1}, read_timeout=60)


def trust(*principals: Any) -> str:
    statements = [
        {"Effect": "Allow", "Principal": p, "Action": "sts:AssumeRole"} for p in principals
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def client(url: str, service: str, key: dict[str, str], *, validate: bool = True) -> Any:
    """A boto3 client; ``validate=False`` sends what botocore would refuse, to see the
    server's own validation."""
    make: Any = boto3.client
    return make(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        aws_session_token=key.get("SessionToken"),
        config=_CONFIG.merge(Config(parameter_validation=validate)),
    )


def error_of(call: Any, **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response: dict[str, Any] = info.value.response
    error = response["Error"]
    return error["Code"], error["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A server with ``--auth sigv4 --iam enforce`` and a key in each of two accounts."""
    data_dir = tmp_path_factory.mktemp("sts")
    keys = {
        "a": create_key(data_dir, ACCOUNT_A, "alice"),
        "b": create_key(data_dir, ACCOUNT_B, "bob"),
    }
    proc = start_server(data_dir, "--auth", "sigv4", "--iam", "enforce")
    yield {"url": proc.url, **keys}
    assert proc.stop() == 0, proc.log()[-3000:]


def test_assume_role_credentials_act_as_the_role(secure: dict[str, Any]) -> None:
    url, alice = secure["url"], secure["a"]
    iam = client(url, "iam", alice)
    name = unique("deployer")
    role = iam.create_role(
        RoleName=name, AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCOUNT_A}:root"})
    )["Role"]
    out = client(url, "sts", alice).assume_role(RoleArn=role["Arn"], RoleSessionName="ci-run")
    creds = out["Credentials"]
    assert re.fullmatch(r"ASIA[A-Z2-7]{16}", creds["AccessKeyId"])
    assert len(creds["SecretAccessKey"]) == 40 and creds["SessionToken"]
    assert abs(creds["Expiration"].timestamp() - time.time() - 3600) < 60  # the default
    assumed = f"arn:aws:sts::{ACCOUNT_A}:assumed-role/{name}/ci-run"
    assert out["AssumedRoleUser"] == {
        "Arn": assumed,
        "AssumedRoleId": f"{role['RoleId']}:ci-run",
    }
    session = {k: creds[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}
    me = client(url, "sts", session).get_caller_identity()
    assert (me["Arn"], me["Account"], me["UserId"]) == (
        assumed,
        ACCOUNT_A,
        f"{role['RoleId']}:ci-run",
    )
    # the session works for the other services, in the role's account
    sqs = client(url, "sqs", session)
    queue = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    assert f"/{ACCOUNT_A}/" in queue
    # without its session token the key is unknown
    no_token = {k: creds[k] for k in ("AccessKeyId", "SecretAccessKey")}
    code, _, status = error_of(client(url, "sts", no_token).get_caller_identity)
    assert (code, status) == ("InvalidClientTokenId", 403)
    # another session's token does not fit this key
    other = client(url, "sts", alice).assume_role(RoleArn=role["Arn"], RoleSessionName="other")
    forged = {**session, "SessionToken": other["Credentials"]["SessionToken"]}
    code, _, _ = error_of(client(url, "sts", forged).get_caller_identity)
    assert code == "InvalidClientTokenId"


def test_duration_rules(secure: dict[str, Any]) -> None:
    url, alice = secure["url"], secure["a"]
    iam, sts = client(url, "iam", alice), client(url, "sts", alice, validate=False)
    name = unique("short")
    arn = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=trust({"AWS": ACCOUNT_A}),
        MaxSessionDuration=3600,
    )["Role"]["Arn"]
    code, message, status = error_of(
        sts.assume_role, RoleArn=arn, RoleSessionName="s", DurationSeconds=7200
    )
    assert (code, status) == ("ValidationError", 400)
    assert "Value 's' at 'roleSessionName'" in message and "greater than or equal to 2" in message
    code, message, _ = error_of(
        sts.assume_role, RoleArn=arn, RoleSessionName="long-one", DurationSeconds=7200
    )
    assert message == (
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    )
    code, message, _ = error_of(
        sts.assume_role, RoleArn=arn, RoleSessionName="bad name!", DurationSeconds=600
    )
    assert message.startswith("2 validation errors detected: ")
    assert "Member must have value greater than or equal to 900" in message
    assert r"regular expression pattern: [\w+=,.@-]*" in message
    out = sts.assume_role(RoleArn=arn, RoleSessionName="quick", DurationSeconds=900)
    assert abs(out["Credentials"]["Expiration"].timestamp() - time.time() - 900) < 60
    # role chaining: a role session may assume a role for one hour at most
    chained = {k: out["Credentials"][k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}
    again = unique("chained")
    chained_arn = iam.create_role(
        RoleName=again,
        AssumeRolePolicyDocument=trust({"AWS": arn}),
        MaxSessionDuration=43200,
    )["Role"]["Arn"]
    code, message, _ = error_of(
        client(url, "sts", chained).assume_role,
        RoleArn=chained_arn,
        RoleSessionName="hop",
        DurationSeconds=7200,
    )
    assert message == (
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by"
        " role chaining."
    )
    hop = client(url, "sts", chained).assume_role(RoleArn=chained_arn, RoleSessionName="hop")
    assert hop["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT_A}:assumed-role/{again}/hop"


def test_trust_policy_decides_under_iam_enforce(secure: dict[str, Any]) -> None:
    url, alice, bob = secure["url"], secure["a"], secure["b"]
    iam = client(url, "iam", alice)
    lambda_only = iam.create_role(
        RoleName=unique("fn"), AssumeRolePolicyDocument=trust({"Service": "lambda.amazonaws.com"})
    )["Role"]["Arn"]
    code, message, status = error_of(
        client(url, "sts", alice).assume_role, RoleArn=lambda_only, RoleSessionName="me"
    )
    assert (code, status) == ("AccessDenied", 403)
    assert message == (
        f"User: arn:aws:iam::{ACCOUNT_A}:user/alice is not authorized to perform:"
        f" sts:AssumeRole on resource: {lambda_only}"
    )
    missing = f"arn:aws:iam::{ACCOUNT_A}:role/{unique('nobody')}"
    code, _, _ = error_of(client(url, "sts", alice).assume_role, RoleArn=missing,
                          RoleSessionName="me")  # fmt: skip
    assert code == "AccessDenied"
    # a role trusting account B lets bob in, and his session acts in account A
    shared = unique("shared")
    shared_arn = iam.create_role(
        RoleName=shared,
        AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCOUNT_B}:user/bob"}),
    )["Role"]["Arn"]
    out = client(url, "sts", bob).assume_role(RoleArn=shared_arn, RoleSessionName="visit")
    creds = {k: out["Credentials"][k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}
    me = client(url, "sts", creds).get_caller_identity()
    assert me["Account"] == ACCOUNT_A
    assert me["Arn"] == f"arn:aws:sts::{ACCOUNT_A}:assumed-role/{shared}/visit"
    # but not alice: the policy names bob only
    code, _, _ = error_of(client(url, "sts", alice).assume_role, RoleArn=shared_arn,
                          RoleSessionName="me")  # fmt: skip
    assert code == "AccessDenied"


def test_get_session_token_acts_as_the_user(secure: dict[str, Any]) -> None:
    url, alice = secure["url"], secure["a"]
    sts = client(url, "sts", alice, validate=False)
    out = sts.get_session_token(DurationSeconds=900)
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    session = {k: creds[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}
    me = client(url, "sts", session).get_caller_identity()
    assert me["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:user/alice"
    assert me["Account"] == ACCOUNT_A
    code, message, status = error_of(client(url, "sts", session).get_session_token)
    assert (code, message, status) == (
        "AccessDenied",
        "Cannot call GetSessionToken with session credentials",
        403,
    )
    code, message, _ = error_of(sts.get_session_token, DurationSeconds=200_000)
    assert "Member must have value less than or equal to 129600" in message


def test_without_auth_assume_role_answers_any_role_of_the_account(server: ServerProcess) -> None:
    key = {"AccessKeyId": "test", "SecretAccessKey": "test"}
    sts = client(server.url, "sts", key)
    role = f"arn:aws:iam::000000000000:role/{unique('made-up')}"
    out = sts.assume_role(RoleArn=role, RoleSessionName="dev")
    again = sts.assume_role(RoleArn=role, RoleSessionName="dev")
    assumed_id = out["AssumedRoleUser"]["AssumedRoleId"]
    assert re.fullmatch(r"AROA[A-Z0-9]{17}:dev", assumed_id)
    assert again["AssumedRoleUser"]["AssumedRoleId"] == assumed_id  # stable for one role
    creds = {k: out["Credentials"][k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}
    me = client(server.url, "sts", creds).get_caller_identity()
    assert me["Arn"] == out["AssumedRoleUser"]["Arn"]
    code, message, _ = error_of(sts.assume_role, RoleArn="arn:aws:iam::000000000000:user/x-y-z",
                                RoleSessionName="dev")  # fmt: skip
    assert (code, message) == ("ValidationError", "arn:aws:iam::000000000000:user/x-y-z is invalid")


def test_a_role_session_deploys_a_stack_server_side(secure: dict[str, Any]) -> None:
    """CloudFormation deploys as its caller, signing with the caller's credentials: a role
    session's key works only with its token, which the deployment must carry along."""
    url, alice = secure["url"], secure["a"]
    name = unique("stacker")
    arn = client(url, "iam", alice).create_role(
        RoleName=name, AssumeRolePolicyDocument=trust({"AWS": ACCOUNT_A})
    )["Role"]["Arn"]
    out = client(url, "sts", alice).assume_role(RoleArn=arn, RoleSessionName="deploy")
    session = {k: out["Credentials"][k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}
    cfn = client(url, "cloudformation", session)
    stack = unique("by-role")
    template = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
    cfn.create_stack(StackName=stack, TemplateBody=template)
    deadline = time.monotonic() + 30
    status = ""
    while time.monotonic() < deadline:
        status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        if not status.endswith("IN_PROGRESS"):
            break
        time.sleep(0.1)
    assert status == "CREATE_COMPLETE", cfn.describe_stack_events(StackName=stack)
    url_of_queue = cfn.describe_stack_resource(StackName=stack, LogicalResourceId="Q")[
        "StackResourceDetail"
    ]["PhysicalResourceId"]
    assert f"/{ACCOUNT_A}/" in url_of_queue
