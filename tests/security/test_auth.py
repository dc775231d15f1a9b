"""``--auth sigv4`` against a real server: AWS clients with created keys work, AWS's errors
for every way a signature can be wrong, account isolation, functions' own credentials,
console sign-in, the metrics token, and the credentials commands."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.auth
import httpx
import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.support.cli import create_key
from tests.support.functions import create_python, unique
from tests.support.server import ServerProcess, start_server, wait_until

ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"
METRICS_TOKEN = "metrics-secret-token"
BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. Check"
    " your AWS Secret Access Key and signing method. Consult the service documentation for"
    " details."
)


def sendoff_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "sendoff.cli.main", *args],
        capture_output=True,
        text=True,
        env=full_env,
    )


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir = tmp_path_factory.mktemp("auth")
    return {
        "dir": data_dir,
        "a": create_key(data_dir, ACCOUNT_A, "alice"),
        "b": create_key(data_dir, ACCOUNT_B, "bob"),
    }


@pytest.fixture(scope="module")
def server(keys: dict[str, Any]) -> Iterator[ServerProcess]:
    proc = start_server(
        keys["dir"], "--auth", "sigv4", "--metrics-token", METRICS_TOKEN, "--time-scale", "0.01"
    )
    yield proc
    assert proc.stop() == 0, proc.log()[-3000:]


def client(server: ServerProcess, service: str, key: dict[str, str], **kw: Any) -> Any:
    make: Any = boto3.client
    return make(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=kw.pop("secret", key["SecretAccessKey"]),
        config=Config(retries={"total_max_attempts": 1}, read_timeout=60),
    )


def error_of(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    response: dict[str, Any] = info.value.response
    return {**response["Error"], "Status": response["ResponseMetadata"]["HTTPStatusCode"]}


# ---------------------------------------------------------------- clients that work
def test_boto3_with_a_created_key_works_for_every_service(server: ServerProcess, keys: Any) -> None:
    a = keys["a"]
    identity = client(server, "sts", a).get_caller_identity()
    assert identity["Account"] == ACCOUNT_A
    assert identity["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:user/alice"
    lam = client(server, "lambda", a)
    name = create_python(lam)["FunctionName"]
    out = lam.invoke(FunctionName=name, Payload=b'{"x": 1}')
    assert json.loads(out["Payload"].read())["event"] == {"x": 1}
    assert lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"].split(":")[4] == (
        ACCOUNT_A
    )
    sqs = client(server, "sqs", a)
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "hello"
    sns = client(server, "sns", a)
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    assert topic.split(":")[4] == ACCOUNT_A
    assert sns.publish(TopicArn=topic, Message="m")["MessageId"]
    events = client(server, "events", a)
    put = events.put_events(Entries=[{"Source": "s", "DetailType": "d", "Detail": "{}"}])
    assert put["FailedEntryCount"] == 0


def test_aws_cli_with_a_created_key(server: ServerProcess, keys: Any) -> None:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": keys["b"]["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": keys["b"]["SecretAccessKey"],
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    env.pop("AWS_ENDPOINT_URL", None)

    def aws(*args: str) -> Any:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "awscli",
                *args,
                "--endpoint-url",
                server.url,
                "--output",
                "json",
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}

    assert aws("sts", "get-caller-identity")["Account"] == ACCOUNT_B
    assert "Functions" in aws("lambda", "list-functions")
    assert aws("sqs", "create-queue", "--queue-name", "cli-q")["QueueUrl"].endswith(
        f"/{ACCOUNT_B}/cli-q"
    )
    assert "Topics" in aws("sns", "list-topics")
    assert aws("events", "list-event-buses")["EventBuses"][0]["Arn"].split(":")[4] == ACCOUNT_B
    env["AWS_SECRET_ACCESS_KEY"] = "x" * 40
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "awscli",
            "sts",
            "get-caller-identity",
            "--endpoint-url",
            server.url,
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode != 0 and "SignatureDoesNotMatch" in done.stderr


# ---------------------------------------------------------------- AWS's errors
WRONG_SECRET = {
    "lambda": ("list_functions", "InvalidSignatureException"),
    "sqs": ("list_queues", "SignatureDoesNotMatch"),  # awsQueryCompatible: x-amzn-query-error
    "sns": ("list_topics", "SignatureDoesNotMatch"),
    "events": ("list_event_buses", "InvalidSignatureException"),
    "sts": ("get_caller_identity", "SignatureDoesNotMatch"),
    "cloudformation": ("list_stacks", "SignatureDoesNotMatch"),
}
UNKNOWN_KEY = {
    "lambda": "UnrecognizedClientException",
    "sqs": "InvalidClientTokenId",
    "sns": "InvalidClientTokenId",
    "events": "UnrecognizedClientException",
    "sts": "InvalidClientTokenId",
    "cloudformation": "InvalidClientTokenId",
}


@pytest.mark.parametrize("service", sorted(WRONG_SECRET))
def test_wrong_secret_and_unknown_key(server: ServerProcess, keys: Any, service: str) -> None:
    operation, code = WRONG_SECRET[service]
    wrong = client(server, service, keys["a"], secret="x" * 40)
    error = error_of(getattr(wrong, operation))
    assert (error["Code"], error["Message"], error["Status"]) == (code, BAD_SIGNATURE, 403)
    unknown = client(
        server, service, {"AccessKeyId": "AKIAAAAAAAAAAAAAAAAA", "SecretAccessKey": "y" * 40}
    )
    error = error_of(getattr(unknown, operation))
    assert error["Code"] == UNKNOWN_KEY[service]
    assert error["Message"] == "The security token included in the request is invalid."
    assert error["Status"] == 403


def signed(
    server: ServerProcess,
    key: dict[str, str],
    *,
    body: bytes,
    target: str | None = None,
    at: datetime.datetime | None = None,
    service: str = "lambda",
    path: str = "/",
    monkeypatch: pytest.MonkeyPatch,
) -> AWSRequest:
    headers = {"Content-Type": "application/x-amz-json-1.0"}
    if target:
        headers["X-Amz-Target"] = target
    request = AWSRequest(method="POST", url=server.url + path, data=body, headers=headers)
    if at is not None:
        monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: at)
    creds = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    SigV4Auth(creds, service, "us-east-1").add_auth(request)
    monkeypatch.undo()
    return request


def send(request: AWSRequest, body: bytes | None = None) -> httpx.Response:
    return httpx.post(
        request.url,
        content=request.body if body is None else body,
        headers=dict(request.headers.items()),
    )


def test_a_twenty_minute_old_signature_is_expired(
    server: ServerProcess, keys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(minutes=20)
    request = signed(
        server,
        keys["a"],
        body=b"{}",
        target="AmazonSQS.ListQueues",
        at=old,
        service="sqs",
        monkeypatch=monkeypatch,
    )
    response = send(request)
    assert response.status_code == 403
    assert response.json()["__type"] == "com.amazon.coral.service#InvalidSignatureException"
    assert response.headers["x-amzn-query-error"] == "SignatureDoesNotMatch;Sender"
    stamp = old.strftime("%Y%m%dT%H%M%SZ")
    assert response.json()["message"].startswith(f"Signature expired: {stamp} is now earlier than")
    assert response.json()["message"].endswith(" - 15 min.)")
    lam = signed(
        server, keys["a"], body=b"", at=old, path="/2015-03-31/functions/", monkeypatch=monkeypatch
    )
    lam_response = httpx.get(lam.url, headers=dict(lam.headers.items()))
    assert lam_response.status_code == 403
    assert lam_response.headers["x-amzn-errortype"] == "InvalidSignatureException"
    assert lam_response.json()["message"].startswith(f"Signature expired: {stamp}")


def test_a_tampered_body_is_refused(
    server: ServerProcess, keys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = unique("tamper")
    body = json.dumps({"QueueName": name}).encode()
    request = signed(
        server,
        keys["a"],
        body=body,
        target="AmazonSQS.CreateQueue",
        service="sqs",
        monkeypatch=monkeypatch,
    )
    tampered = send(request, body.replace(name.encode(), b"evil-queue"))
    assert tampered.status_code == 403
    assert tampered.json()["__type"] == "com.amazon.coral.service#InvalidSignatureException"
    assert send(request).status_code == 200  # the untouched request passes
    # a declared payload hash must match the body too
    request.headers["X-Amz-Content-SHA256"] = "0" * 64
    assert send(request).status_code == 403


def test_missing_and_incomplete_signatures(server: ServerProcess) -> None:
    lam = httpx.get(f"{server.url}/2015-03-31/functions/")
    assert (lam.status_code, lam.headers["x-amzn-errortype"]) == (
        403,
        "MissingAuthenticationTokenException",
    )
    assert lam.json() == {"message": "Missing Authentication Token"}
    sns = httpx.post(server.url + "/", data={"Action": "ListTopics"})
    assert sns.status_code == 403 and "<Code>MissingAuthenticationToken</Code>" in sns.text
    partial = httpx.post(
        server.url + "/",
        data={"Action": "ListTopics"},
        headers={
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAAAAAAAAAAAAAAAAA/20260101/us-east-1/"
            "sns/aws4_request"
        },
    )
    assert partial.status_code == 400 and "<Code>IncompleteSignature</Code>" in partial.text
    assert "requires 'Signature' parameter" in partial.text


def test_only_unsigned_sns_links_skip_the_signature(server: ServerProcess, keys: Any) -> None:
    """GET /?Action=Unsubscribe|ConfirmSubscription is AWS's SubscribeURL/UnsubscribeURL:
    open, like /_sendoff/sns. Nothing else at / is, and a link carrying presigning
    parameters or an Authorization header is checked like any call."""
    sns = client(server, "sns", keys["a"])
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    sub = f"{topic}:00000000-0000-0000-0000-000000000000"
    link = f"{server.url}/?Action=Unsubscribe&SubscriptionArn={sub}"
    opened = httpx.get(link)  # reaches SNS: links serve the server's own account only
    assert opened.status_code == 404 and "<Code>NotFound</Code>" in opened.text
    for closed in (
        httpx.get(f"{server.url}/?Action=ListTopics"),
        httpx.get(link + "&X-Amz-Credential=AKIAAAAAAAAAAAAAAAAA%2F20260101%2Fus-east-1%2Fsns"),
        httpx.get(link, headers={"Authorization": "AWS4-HMAC-SHA256 Credential=x"}),
    ):
        assert closed.status_code in (400, 403), closed.text
        assert "<Code>NotFound</Code>" not in closed.text


def presign_sts(
    server: ServerProcess,
    key: dict[str, str],
    *,
    expires: int,
    at: datetime.datetime | None,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    request = AWSRequest(
        method="GET", url=f"{server.url}/?Action=GetCallerIdentity&Version=2011-06-15"
    )
    if at is not None:
        monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: at)
    creds = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    SigV4QueryAuth(creds, "sts", "us-east-1", expires=expires).add_auth(request)
    monkeypatch.undo()
    return str(request.url)


def test_presigned_urls_work_until_they_expire(
    server: ServerProcess, keys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = presign_sts(server, keys["a"], expires=300, at=None, monkeypatch=monkeypatch)
    ok = httpx.get(fresh)
    assert ok.status_code == 200, ok.text
    assert f"<Account>{ACCOUNT_A}</Account>" in ok.text
    old = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(minutes=10)
    stale = presign_sts(server, keys["a"], expires=60, at=old, monkeypatch=monkeypatch)
    expired = httpx.get(stale)
    assert expired.status_code == 403
    assert "<Code>RequestExpired</Code>" in expired.text
    assert "<Message>Request has expired.</Message>" in expired.text
    forged = fresh.replace("X-Amz-Signature=", "X-Amz-Signature=0")[:-1]
    assert "<Code>SignatureDoesNotMatch</Code>" in httpx.get(forged).text


# ---------------------------------------------------------------- accounts
def test_two_keys_on_two_accounts_are_isolated(server: ServerProcess, keys: Any) -> None:
    lam_a, lam_b = client(server, "lambda", keys["a"]), client(server, "lambda", keys["b"])
    name = create_python(lam_a)["FunctionName"]
    assert name in [f["FunctionName"] for f in lam_a.list_functions()["Functions"]]
    assert name not in [f["FunctionName"] for f in lam_b.list_functions()["Functions"]]
    assert error_of(lam_b.get_function, FunctionName=name)["Code"] == "ResourceNotFoundException"
    sqs_a, sqs_b = client(server, "sqs", keys["a"]), client(server, "sqs", keys["b"])
    queue = unique("iso")
    sqs_a.create_queue(QueueName=queue)
    assert any(u.endswith(queue) for u in sqs_a.list_queues().get("QueueUrls", []))
    assert not any(u.endswith(queue) for u in sqs_b.list_queues().get("QueueUrls", []))
    sns_a, sns_b = client(server, "sns", keys["a"]), client(server, "sns", keys["b"])
    topic = sns_a.create_topic(Name=unique("iso"))["TopicArn"]
    assert topic not in [t["TopicArn"] for t in sns_b.list_topics()["Topics"]]
    ev_a, ev_b = client(server, "events", keys["a"]), client(server, "events", keys["b"])
    bus = unique("bus")
    ev_a.create_event_bus(Name=bus)
    assert bus not in [b["Name"] for b in ev_b.list_event_buses()["EventBuses"]]


CALLBACK = """
import boto3

def handler(event, context):
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=event["queue"], MessageBody="from the function")
    me = boto3.client("sts").get_caller_identity()
    return {"account": me["Account"], "arn": me["Arn"],
            "queues": sqs.list_queues().get("QueueUrls", [])}
"""


def test_boto3_inside_a_function_gets_its_own_credentials(server: ServerProcess, keys: Any) -> None:
    lam, sqs = client(server, "lambda", keys["a"]), client(server, "sqs", keys["a"])
    url = sqs.create_queue(QueueName=unique("cb"))["QueueUrl"]
    name = create_python(lam, source=CALLBACK, Timeout=30)["FunctionName"]
    out = lam.invoke(FunctionName=name, Payload=json.dumps({"queue": url}).encode())
    result = json.loads(out["Payload"].read())
    assert "FunctionError" not in out, result
    assert result["account"] == ACCOUNT_A
    assert result["arn"].startswith(f"arn:aws:sts::{ACCOUNT_A}:assumed-role/")
    assert result["arn"].endswith(f"/{name}")
    assert url in result["queues"]
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "from the function"


# ---------------------------------------------------------------- open and closed routes
def test_health_is_open_and_metrics_need_the_bearer_token(server: ServerProcess) -> None:
    assert httpx.get(f"{server.url}/_sendoff/health").status_code == 200
    assert httpx.get(f"{server.url}/metrics").status_code == 401
    wrong = httpx.get(f"{server.url}/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    ok = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert ok.status_code == 200 and "Invocations_total" in ok.text


def test_code_location_is_a_signed_url(server: ServerProcess, keys: Any) -> None:
    lam = client(server, "lambda", keys["a"])
    name = create_python(lam)["FunctionName"]
    location = lam.get_function(FunctionName=name)["Code"]["Location"]
    download = httpx.get(location)
    assert download.status_code == 200 and download.content[:2] == b"PK"
    digest, expires, _mac = location.rsplit("/", 1)[1].split(".")
    later = location.replace(f".{expires}.", f".{int(expires) + 3600}.")
    assert httpx.get(later).status_code == 403  # the expiry is under the MAC
    assert httpx.get(location.rsplit("/", 1)[0] + "/" + digest).status_code == 403


def test_console_requires_sign_in(server: ServerProcess, keys: Any) -> None:
    with httpx.Client(base_url=server.url) as browser:
        first = browser.get("/console/functions")
        assert first.status_code == 303
        assert first.headers["location"].startswith("/console/signin?next=/console/functions")
        assert browser.get("/console/signin").status_code == 200
        wrong = browser.post(
            "/console/signin",
            data={
                "access_key_id": keys["b"]["AccessKeyId"],
                "secret_access_key": "x" * 40,
                "next": "/console/functions",
            },
        )
        assert wrong.status_code == 403 and "do not match" in wrong.text
        ok = browser.post(
            "/console/signin",
            data={
                "access_key_id": keys["b"]["AccessKeyId"],
                "secret_access_key": keys["b"]["SecretAccessKey"],
                "next": "/console/queues",
            },
        )
        assert ok.status_code == 303 and ok.headers["location"] == "/console/queues"
        cookie = ok.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie
        page = browser.get("/console/queues")
        assert page.status_code == 200 and f"account {ACCOUNT_B}" in page.text
        assert "cli-q" in page.text or "Queues" in page.text
        # a form post from another site is still refused (the console's own check)
        evil = browser.post("/console/signout", headers={"Origin": "http://evil.example"})
        assert evil.status_code == 403
        out = browser.post("/console/signout")
        assert out.status_code == 303
        assert browser.get("/console/functions").status_code == 303


def test_sendoff_cli_signs_its_requests(server: ServerProcess, keys: Any) -> None:
    env = {
        "AWS_ACCESS_KEY_ID": keys["a"]["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": keys["a"]["SecretAccessKey"],
    }
    listed = sendoff_cli(
        "--endpoint-url", server.url, "functions", "list", "--output", "json", env=env
    )
    assert listed.returncode == 0, listed.stderr
    assert all(f["FunctionArn"].split(":")[4] == ACCOUNT_A for f in json.loads(listed.stdout))
    stats = sendoff_cli("--endpoint-url", server.url, "events", "list", env=env)
    assert stats.returncode == 0, stats.stderr
    anonymous = sendoff_cli(
        "--endpoint-url",
        server.url,
        "functions",
        "list",
        env={"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent"},
    )
    assert anonymous.returncode == 1 and "MissingAuthenticationToken" in anonymous.stderr


def test_credentials_commands_round_trip(server: ServerProcess, keys: Any) -> None:
    key = create_key(keys["dir"], ACCOUNT_B, "carol")
    assert key["AccessKeyId"].startswith("AKIA") and len(key["AccessKeyId"]) == 20
    assert len(key["SecretAccessKey"]) == 40
    sts = client(server, "sts", key)
    assert wait_until(lambda: _identity(sts), timeout=10, message="new key accepted") == ACCOUNT_B
    listed = sendoff_cli("credentials", "list", "--data-dir", str(keys["dir"]), "--output", "json")
    assert listed.returncode == 0, listed.stderr
    assert key["AccessKeyId"] in [k["AccessKeyId"] for k in json.loads(listed.stdout)]
    assert key["SecretAccessKey"] not in listed.stdout and "Secret" not in listed.stdout
    deleted = sendoff_cli(
        "credentials", "delete", key["AccessKeyId"], "--data-dir", str(keys["dir"])
    )
    assert deleted.returncode == 0, deleted.stderr
    started = time.monotonic()
    wait_until(
        lambda: _identity(sts) == "InvalidClientTokenId", timeout=10, message="deleted key refused"
    )
    assert time.monotonic() - started < 5  # bounded by the key cache (2 s)
    again = sendoff_cli("credentials", "delete", key["AccessKeyId"], "--data-dir", str(keys["dir"]))
    assert again.returncode == 1 and "no access key" in again.stderr


def _identity(sts: Any) -> str:
    try:
        return str(sts.get_caller_identity()["Account"])
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])


def test_none_off_loopback_warns(capsys: pytest.CaptureFixture[str]) -> None:
    from sendoff.config.settings import Settings
    from sendoff.server import warn_about_auth

    warn_about_auth(Settings(host="0.0.0.0", auth="none"))
    assert "anyone who can reach this port can run code" in capsys.readouterr().err
    warn_about_auth(Settings(host="127.0.0.1", auth="none"))
    warn_about_auth(Settings(host="0.0.0.0"))  # auto: sigv4 off loopback, nothing to say
    assert capsys.readouterr().err == ""
    assert Settings(host="0.0.0.0").resolved_auth == "sigv4"


TEMPLATE = """
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::111111111111:role/r
      Code:
        ZipFile: |
          def handler(event, context):
              return "ok"
      Environment:
        Variables:
          QUEUE_ARN: !GetAtt Queue.Arn
"""


def test_sendoff_deploy_signs_and_deploys_into_the_callers_account(
    server: ServerProcess, keys: Any, tmp_path: Path
) -> None:
    template = tmp_path / "signed" / "template.yaml"
    template.parent.mkdir()
    template.write_text(TEMPLATE)
    env_a = {
        "AWS_ACCESS_KEY_ID": keys["a"]["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": keys["a"]["SecretAccessKey"],
    }
    done = sendoff_cli(
        "--endpoint-url", server.url, "deploy", str(template), "--output", "json", env=env_a
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lam = client(server, "lambda", keys["a"])
    functions = [
        f for f in lam.list_functions()["Functions"] if f["FunctionName"].startswith("signed-")
    ]
    assert len(functions) == 1
    queue_arn = functions[0]["Environment"]["Variables"]["QUEUE_ARN"]
    assert queue_arn.split(":")[4] == ACCOUNT_A
    env_b = {
        "AWS_ACCESS_KEY_ID": keys["b"]["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": keys["b"]["SecretAccessKey"],
    }
    listed = sendoff_cli(
        "--endpoint-url", server.url, "stacks", "list", "--output", "json", env=env_b
    )
    assert listed.returncode == 0, listed.stderr
    assert "signed" not in [s["name"] for s in json.loads(listed.stdout)["stacks"]]
    mine = sendoff_cli(
        "--endpoint-url", server.url, "stacks", "list", "--output", "json", env=env_a
    )
    assert "signed" in [s["name"] for s in json.loads(mine.stdout)["stacks"]]


def test_sendoffs_own_event_api_is_scoped_by_the_callers_account(
    server: ServerProcess, keys: Any
) -> None:
    lam = client(server, "lambda", keys["a"])
    name = create_python(lam)["FunctionName"]
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    env_a = {
        "AWS_ACCESS_KEY_ID": keys["a"]["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": keys["a"]["SecretAccessKey"],
    }
    env_b = {
        "AWS_ACCESS_KEY_ID": keys["b"]["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": keys["b"]["SecretAccessKey"],
    }

    def listed(env: dict[str, str]) -> list[dict[str, Any]]:
        done = sendoff_cli(
            "--endpoint-url",
            server.url,
            "events",
            "list",
            name,
            "--output",
            "json",
            env=env,
        )
        assert done.returncode == 0, done.stderr
        rows: list[dict[str, Any]] = json.loads(done.stdout)
        return rows

    rows = wait_until(lambda: listed(env_a), timeout=15, message="A sees its event")
    assert listed(env_b) == []
    show = sendoff_cli("--endpoint-url", server.url, "events", "show", rows[0]["id"], env=env_b)
    assert show.returncode != 0


def test_functions_run_by_a_worker_process_call_back_with_their_credentials(
    keys: Any, tmp_path: Path
) -> None:
    """The worker process mints the credentials, the API process verifies them: both read
    the server secret from the shared store."""
    data_dir = tmp_path / "wp"
    key = create_key(data_dir, ACCOUNT_A)
    proc = start_server(data_dir, "--auth", "sigv4", "--workers", "0", "--worker-processes", "1")
    try:
        lam, sqs = client(proc, "lambda", key), client(proc, "sqs", key)
        url = sqs.create_queue(QueueName="from-worker")["QueueUrl"]
        name = create_python(lam, source=CALLBACK, Timeout=30)["FunctionName"]
        lam.invoke(
            FunctionName=name, InvocationType="Event", Payload=json.dumps({"queue": url}).encode()
        )

        def received() -> str | None:
            messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
            return messages[0]["Body"] if messages else None

        assert wait_until(received, timeout=60, message="the worker's function sent") == (
            "from the function"
        )
    finally:
        assert proc.stop() == 0, proc.log()[-3000:]


def test_logs_and_iam_are_per_account(server: ServerProcess, keys: Any) -> None:
    """Two accounts with a function of the same name never see each other's logs (log
    groups are per account, as in CloudWatch); IAM roles are per account too."""
    name = unique("samename")
    for key, word in ((keys["a"], "alpha-only"), (keys["b"], "beta-only")):
        lam = client(server, "lambda", key)
        create_python(lam, name)
        lam.invoke(FunctionName=name, Payload=json.dumps({"print": word}).encode())

    def log_text(key: dict[str, str]) -> str:
        env = {
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        }
        done = sendoff_cli("--endpoint-url", server.url, "logs", name, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    text_a, text_b = log_text(keys["a"]), log_text(keys["b"])
    assert "alpha-only" in text_a and "beta-only" not in text_a
    assert "beta-only" in text_b and "alpha-only" not in text_b

    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    trust = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    role = client(server, "iam", keys["a"]).create_role(
        RoleName=name, AssumeRolePolicyDocument=trust
    )
    assert role["Role"]["Arn"] == f"arn:aws:iam::{ACCOUNT_A}:role/{name}"
    assert error_of(client(server, "iam", keys["b"]).get_role, RoleName=name)["Code"] == (
        "NoSuchEntity"
    )
