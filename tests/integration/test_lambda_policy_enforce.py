"""``--iam enforce`` checks functions' resource policies: SNS and EventBridge may invoke a
function only when its policy allows their principal (and SourceArn/SourceAccount), and a
caller from another account only when the policy grants that account or identity. A real
server with ``--auth sigv4`` and keys in two accounts, driven by boto3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.support.cli import create_key
from tests.support.functions import create_python, unique
from tests.support.server import ServerProcess, start_server, wait_until

ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"

FORWARD = """
import json, os
import boto3

def handler(event, context):
    boto3.client("sqs").send_message(QueueUrl=os.environ["SEEN"], MessageBody=json.dumps(event))
    return "ok"
"""


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir = tmp_path_factory.mktemp("policy-enforce")
    return {
        "dir": data_dir,
        "a": create_key(data_dir, ACCOUNT_A, "alice"),
        "b": create_key(data_dir, ACCOUNT_B, "bob"),
    }


@pytest.fixture(scope="module")
def srv(keys: dict[str, Any]) -> Iterator[ServerProcess]:
    proc = start_server(keys["dir"], "--auth", "sigv4", "--iam", "enforce", "--time-scale", "0.01")
    yield proc
    assert proc.stop() == 0, proc.log()[-4000:]


def client(srv: ServerProcess, service: str, key: dict[str, str]) -> Any:
    make: Any = boto3.client
    return make(
        service,
        endpoint_url=srv.url,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"total_max_attempts": 1}, read_timeout=60),
    )


def queue(sqs: Any) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def receive(sqs: Any, url: str, what: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = wait_until(
        lambda: sqs.receive_message(
            QueueUrl=url, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages"),
        timeout=30,
        message=what,
    )
    for m in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return messages


def httpx_invoke_as(srv: ServerProcess, key: dict[str, str], fn_arn: str) -> httpx.Response:
    """A signed Invoke sent by hand, to see the error body as the wire carries it."""
    url = f"{srv.url}/2015-03-31/functions/{fn_arn}/invocations"
    request = AWSRequest(method="POST", url=url, data=b"{}")
    credentials = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    SigV4Auth(credentials, "lambda", "us-east-1").add_auth(request)
    return httpx.post(url, content=b"{}", headers=dict(request.headers.items()), timeout=30)


def denial(who: str, resource: str) -> str:
    return (
        f"User: {who} is not authorized to perform: lambda:InvokeFunction on resource:"
        f" {resource} because no resource-based policy allows the lambda:InvokeFunction action"
    )


def test_sns_delivers_only_what_the_policy_allows(srv: ServerProcess, keys: Any) -> None:
    lam, sqs, sns = (client(srv, s, keys["a"]) for s in ("lambda", "sqs", "sns"))
    seen, _ = queue(sqs)
    dlq, dlq_arn = queue(sqs)
    fn = create_python(lam, source=FORWARD, Environment={"Variables": {"SEEN": seen}})
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    sns.subscribe(
        TopicArn=topic, Protocol="lambda", Endpoint=fn["FunctionArn"],
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})},
    )  # fmt: skip

    sns.publish(TopicArn=topic, Message="no policy")
    (refused,) = receive(sqs, dlq, "the refused message in the dead-letter queue")
    assert json.loads(refused["Body"])["Message"] == "no policy"

    name = fn["FunctionName"]
    other_topic = topic + "-other"
    lam.add_permission(
        FunctionName=name, StatementId="other-topic", Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com", SourceArn=other_topic,
    )  # fmt: skip
    sns.publish(TopicArn=topic, Message="another topic's permission")
    (refused,) = receive(sqs, dlq, "the message the SourceArn condition refused")
    assert json.loads(refused["Body"])["Message"] == "another topic's permission"

    lam.add_permission(
        FunctionName=name, StatementId="this-topic", Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com", SourceArn=topic, SourceAccount=ACCOUNT_A,
    )  # fmt: skip
    sns.publish(TopicArn=topic, Message="allowed")
    delivered = receive(sqs, seen, "the function to run")
    # only the allowed message ever reached the function
    assert [json.loads(m["Body"])["Records"][0]["Sns"]["Message"] for m in delivered] == ["allowed"]
    # the failure count (not in GetTopicAttributes, as on AWS): sendoff's topic summary
    request = AWSRequest(method="GET", url=f"{srv.url}/_sendoff/sns/topics")
    credentials = Credentials(keys["a"]["AccessKeyId"], keys["a"]["SecretAccessKey"])
    SigV4Auth(credentials, "sns", "us-east-1").add_auth(request)
    summary = httpx.get(request.url, headers=dict(request.headers.items()), timeout=30).json()
    (mine,) = [t for t in summary["topics"] if t["arn"] == topic]
    assert mine["notifications_failed"] == 2


def test_eventbridge_needs_the_rule_in_the_policy(srv: ServerProcess, keys: Any) -> None:
    lam, sqs, events = (client(srv, s, keys["a"]) for s in ("lambda", "sqs", "events"))
    seen, _ = queue(sqs)
    dlq, dlq_arn = queue(sqs)
    fn = create_python(lam, source=FORWARD, Environment={"Variables": {"SEEN": seen}})
    rule = unique("rule")
    rule_arn = events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["app"]}))["RuleArn"]
    events.put_targets(
        Rule=rule,
        Targets=[{"Id": "fn", "Arn": fn["FunctionArn"], "DeadLetterConfig": {"Arn": dlq_arn}}],
    )
    entry = {"Source": "app", "DetailType": "t", "Detail": json.dumps({"n": 1})}
    events.put_events(Entries=[entry])
    (refused,) = receive(sqs, dlq, "the refused event in the dead-letter queue")
    attributes = refused["MessageAttributes"]
    assert attributes["ERROR_MESSAGE"]["StringValue"] == "AccessDeniedException: " + denial(
        "events.amazonaws.com", fn["FunctionArn"]
    )
    assert attributes["RULE_ARN"]["StringValue"] == rule_arn

    lam.add_permission(
        FunctionName=fn["FunctionName"], StatementId="rule", Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com", SourceArn=rule_arn,
    )  # fmt: skip
    events.put_events(Entries=[{**entry, "Detail": json.dumps({"n": 2})}])
    (delivered,) = receive(sqs, seen, "the function to run")
    assert json.loads(delivered["Body"])["detail"] == {"n": 2}


def test_another_account_invokes_only_when_granted(srv: ServerProcess, keys: Any) -> None:
    lam_a, lam_b = client(srv, "lambda", keys["a"]), client(srv, "lambda", keys["b"])
    fn = create_python(lam_a)
    name, fn_arn = fn["FunctionName"], fn["FunctionArn"]
    version = lam_a.publish_version(FunctionName=name)["Version"]
    lam_a.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    bob = "arn:aws:iam::222222222222:user/bob"

    def refused(**kwargs: Any) -> tuple[int, str, str]:
        with pytest.raises(ClientError) as info:
            lam_b.invoke(FunctionName=fn_arn, Payload=b"{}", **kwargs)
        r = info.value.response
        return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]

    assert refused() == (403, "AccessDeniedException", denial(bob, fn_arn))
    raw = httpx_invoke_as(srv, keys["b"], fn_arn)
    assert raw.status_code == 403 and raw.headers["x-amzn-errortype"] == "AccessDeniedException"
    assert raw.json() == {"Message": denial(bob, fn_arn)}  # no "Type", as recorded
    assert refused(InvocationType="DryRun")[1] == "AccessDeniedException"
    assert refused(InvocationType="Event")[1] == "AccessDeniedException"
    # nor may bob grant himself access
    with pytest.raises(ClientError) as info:
        lam_b.add_permission(
            FunctionName=fn_arn, StatementId="me", Action="lambda:InvokeFunction",
            Principal=ACCOUNT_B,
        )  # fmt: skip
    assert info.value.response["Error"]["Code"] == "AccessDeniedException"

    lam_a.add_permission(
        FunctionName=name, StatementId="account-b", Action="lambda:InvokeFunction",
        Principal=ACCOUNT_B,
    )  # fmt: skip
    out = lam_b.invoke(FunctionName=fn_arn, Payload=b'{"from": "b"}')
    assert out["StatusCode"] == 200 and json.loads(out["Payload"].read())["event"] == {"from": "b"}
    assert lam_b.invoke(FunctionName=fn_arn, InvocationType="Event")["StatusCode"] == 202
    # the unqualified function's policy does not cover its alias
    alias_arn = f"{fn_arn}:live"
    with pytest.raises(ClientError) as info:
        lam_b.invoke(FunctionName=alias_arn, Payload=b"{}")
    assert info.value.response["Error"]["Message"] == denial(bob, alias_arn)
    lam_a.add_permission(
        FunctionName=name, Qualifier="live", StatementId="bob", Action="lambda:InvokeFunction",
        Principal=bob,
    )  # fmt: skip
    assert lam_b.invoke(FunctionName=alias_arn, Payload=b"{}")["StatusCode"] == 200
    # a statement for someone else grants bob nothing
    lam_a.remove_permission(FunctionName=name, StatementId="account-b")
    lam_a.add_permission(
        FunctionName=name, StatementId="carol", Action="lambda:InvokeFunction",
        Principal="arn:aws:iam::222222222222:user/carol",
    )  # fmt: skip
    assert refused()[1] == "AccessDeniedException"
