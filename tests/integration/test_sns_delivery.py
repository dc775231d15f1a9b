"""SNS deliveries, end to end: SQS (envelope and raw), HTTP (the confirmation flow, retries,
failures), email over SMTP, Lambda, filter policies, dead-letter queues and the ``sns``
transport used by Lambda destinations.

One server for the module, with ``--smtp-url`` pointing at an aiosmtpd server and a local
HTTP receiver, both started here. ``--time-scale 0.01`` makes outbox backoff 10 ms, 20 ms...
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.conftest import client_for
from tests.support.events import function_logs
from tests.support.functions import create_python
from tests.support.server import ServerProcess, free_port, start_server, wait_until

ACCOUNT = "000000000000"
TIMESTAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


# ---------------------------------------------------------------- local endpoints
@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str
    status: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def kind(self) -> str:
        return self.headers.get("x-amz-sns-message-type", "")


@dataclass
class HttpReceiver:
    """Records every POST. ``/fail/...`` answers notifications with 500; ``/flaky/...``
    fails each message's first two attempts; confirmations always get 200."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, path: str, headers: dict[str, str], body: str) -> int:
        with self.lock:
            status = 200
            if headers.get("x-amz-sns-message-type") == "Notification":
                message_id = headers.get("x-amz-sns-message-id")
                earlier = sum(
                    1 for r in self.requests if r.headers.get("x-amz-sns-message-id") == message_id
                )
                if path.startswith("/fail") or (path.startswith("/flaky") and earlier < 2):
                    status = 500
            self.requests.append(Received(path, headers, body, status))
            return status

    def at(self, path: str, kind: str = "Notification") -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path and r.kind == kind]


@pytest.fixture(scope="module")
def receiver() -> Iterator[HttpReceiver]:
    state = HttpReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length).decode()
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = state.record(self.path, headers, body)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@dataclass
class Mailbox:
    port: int
    mails: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    def to(self, address: str) -> list[EmailMessage]:
        return [mail for rcpts, mail in list(self.mails) if address in rcpts]


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(port=free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
            box.mails.append((list(envelope.rcpt_tos), mail))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox) -> Iterator[ServerProcess]:
    data_dir: Path = tmp_path_factory.mktemp("sns-delivery")
    proc = start_server(
        data_dir, "--time-scale", "0.01", "--smtp-url", f"smtp://127.0.0.1:{mailbox.port}"
    )
    yield proc
    assert proc.stop() == 0, proc.log()[-4000:]


@pytest.fixture(scope="module")
def sns(srv: ServerProcess) -> Any:
    return client_for(srv.url, "sns")


@pytest.fixture(scope="module")
def sqs(srv: ServerProcess) -> Any:
    return client_for(srv.url, "sqs")


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def make_queue(sqs: Any, name: str | None = None, **attributes: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name or unique("q"), Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def receive(sqs: Any, url: str, count: int, timeout: float = 15) -> list[dict[str, Any]]:
    """Poll the queue until ``count`` messages have arrived (deleting them)."""
    got: list[dict[str, Any]] = []

    def enough() -> bool:
        resp = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        )
        for msg in resp.get("Messages", []):
            got.append(msg)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
        return len(got) >= count

    wait_until(enough, timeout=timeout, message=f"{count} messages on {url}")
    return got


def confirmed(sns: Any, sub_arn: str) -> bool:
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]
    return bool(attrs["PendingConfirmation"] == "false")


# ---------------------------------------------------------------- SQS
def test_sqs_gets_the_notification_envelope(sns: Any, sqs: Any, srv: ServerProcess) -> None:
    topic = sns.create_topic(Name=unique())["TopicArn"]
    url, queue = make_queue(sqs)
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue)["SubscriptionArn"]
    published = sns.publish(
        TopicArn=topic,
        Message="hello queue",
        Subject="Greetings",
        MessageAttributes={
            "color": {"DataType": "String", "StringValue": "blue"},
            "size": {"DataType": "Number", "StringValue": "3"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    (msg,) = receive(sqs, url, 1)
    body = json.loads(msg["Body"])
    assert list(body) == [
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "UnsubscribeURL",
        "MessageAttributes",
    ]
    assert body["Type"] == "Notification"
    assert body["MessageId"] == published["MessageId"]
    assert body["TopicArn"] == topic
    assert body["Subject"] == "Greetings"
    assert body["Message"] == "hello queue"
    assert TIMESTAMP_RE.match(body["Timestamp"])
    assert body["SignatureVersion"] == "1" and body["Signature"]
    assert body["SigningCertURL"].startswith(srv.url)
    assert body["MessageAttributes"] == {
        "color": {"Type": "String", "Value": "blue"},
        "size": {"Type": "Number", "Value": "3"},
        "blob": {"Type": "Binary", "Value": "AAE="},
    }
    assert "MessageAttributes" not in msg  # envelope mode: attributes live in the body

    # no Subject given: no Subject key
    sns.publish(TopicArn=topic, Message="no subject")
    (msg,) = receive(sqs, url, 1)
    assert "Subject" not in json.loads(msg["Body"])

    # AWS's UnsubscribeURL shape; an sqs subscription was confirmed by its owner's signed
    # Subscribe (ConfirmationWasAuthenticated), so the unsigned link may not remove it
    assert body["UnsubscribeURL"] == f"{srv.url}/?Action=Unsubscribe&SubscriptionArn={sub}"
    resp = httpx.get(body["UnsubscribeURL"])
    assert resp.status_code == 403 and "<Code>AuthorizationError</Code>" in resp.text
    assert len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 1
    assert sub.startswith(topic)


def test_sqs_raw_message_delivery(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name=unique())["TopicArn"]
    url, queue = make_queue(sqs)
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue, Attributes={"RawMessageDelivery": "true"}
    )
    sns.publish(
        TopicArn=topic,
        Message='{"order": 1}',
        Subject="ignored when raw",
        MessageAttributes={
            "color": {"DataType": "String", "StringValue": "red"},
            "n": {"DataType": "Number", "StringValue": "1.5"},
            "bin": {"DataType": "Binary", "BinaryValue": b"\xff"},
        },
    )
    (msg,) = receive(sqs, url, 1)
    assert msg["Body"] == '{"order": 1}'
    assert msg["MessageAttributes"] == {
        "color": {"StringValue": "red", "DataType": "String"},
        "n": {"StringValue": "1.5", "DataType": "Number"},
        "bin": {"BinaryValue": b"\xff", "DataType": "Binary"},
    }


def test_message_structure_json_picks_the_protocol_message(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name=unique())["TopicArn"]
    url, queue = make_queue(sqs)
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue, Attributes={"RawMessageDelivery": "true"}
    )
    message = json.dumps({"default": "for everyone", "sqs": "for queues", "email": "mail"})
    sns.publish(TopicArn=topic, Message=message, MessageStructure="json")
    sns.publish(
        TopicArn=topic, Message=json.dumps({"default": "only default"}), MessageStructure="json"
    )
    bodies = sorted(m["Body"] for m in receive(sqs, url, 2))
    assert bodies == ["for queues", "only default"]


def test_fifo_topic_to_fifo_queue_keeps_order_and_deduplicates(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name=unique() + ".fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    url, queue = make_queue(sqs, unique("q") + ".fifo", FifoQueue="true")
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue, Attributes={"RawMessageDelivery": "true"}
    )
    sequence = []
    for i in range(5):
        r = sns.publish(
            TopicArn=topic, Message=f"m{i}", MessageGroupId="g", MessageDeduplicationId=f"d{i}"
        )
        sequence.append(int(r["SequenceNumber"]))
    sns.publish(TopicArn=topic, Message="m0 again", MessageGroupId="g", MessageDeduplicationId="d0")
    assert sequence == sorted(sequence)
    got: list[str] = []
    while len(got) < 5:  # a FIFO group hands out the next message once the last is deleted
        got += [m["Body"] for m in receive(sqs, url, 1)]
    assert got == ["m0", "m1", "m2", "m3", "m4"]
    msg = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", [])
    assert msg == []  # the duplicate was accepted but not delivered


# ---------------------------------------------------------------- filter policies
def test_filter_policy_on_message_attributes(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name=unique())["TopicArn"]
    all_url, all_queue = make_queue(sqs)
    some_url, some_queue = make_queue(sqs)
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=all_queue,
        Attributes={"RawMessageDelivery": "true"},
    )
    policy = {"store": ["example_corp"], "price": [{"numeric": [">=", 100]}]}
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=some_queue,
        Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps(policy)},
    )

    def publish(message: str, store: str, price: str) -> None:
        sns.publish(
            TopicArn=topic,
            Message=message,
            MessageAttributes={
                "store": {"DataType": "String", "StringValue": store},
                "price": {"DataType": "Number", "StringValue": price},
            },
        )

    publish("cheap", "example_corp", "5")
    publish("expensive", "example_corp", "150")
    publish("elsewhere", "other_corp", "500")
    sns.publish(TopicArn=topic, Message="no attributes")
    publish("sentinel", "example_corp", "100")
    assert sorted(m["Body"] for m in receive(sqs, all_url, 5)) == [
        "cheap",
        "elsewhere",
        "expensive",
        "no attributes",
        "sentinel",
    ]
    assert sorted(m["Body"] for m in receive(sqs, some_url, 2)) == ["expensive", "sentinel"]
    assert sqs.receive_message(QueueUrl=some_url, WaitTimeSeconds=0).get("Messages", []) == []


def test_filter_policy_on_message_body(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name=unique())["TopicArn"]
    url, queue = make_queue(sqs)
    policy = {"order": {"status": ["shipped"], "total": [{"numeric": [">", 10]}]}}
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue,
        Attributes={
            "RawMessageDelivery": "true",
            "FilterPolicyScope": "MessageBody",
            "FilterPolicy": json.dumps(policy),
        },
    )
    bodies = [
        {"order": {"status": "pending", "total": 50}},
        {"order": {"status": "shipped", "total": 5}},
        "not json at all",
        {"order": {"status": "shipped", "total": 50}, "n": 1},
        {"order": {"status": "shipped", "total": 11}, "n": 2},
    ]
    for body in bodies:
        sns.publish(TopicArn=topic, Message=body if isinstance(body, str) else json.dumps(body))
    got = sorted(json.loads(m["Body"])["n"] for m in receive(sqs, url, 2))
    assert got == [1, 2]


# ---------------------------------------------------------------- HTTP
def test_http_confirmation_by_subscribe_url_then_delivery(sns: Any, receiver: HttpReceiver) -> None:
    topic = sns.create_topic(Name=unique())["TopicArn"]
    path = f"/ok/{uuid.uuid4().hex}"
    sub = sns.subscribe(
        TopicArn=topic, Protocol="http", Endpoint=receiver.url + path, ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    (confirmation,) = wait_until(lambda: receiver.at(path, "SubscriptionConfirmation"))
    assert confirmation.headers["x-amz-sns-topic-arn"] == topic
    assert confirmation.headers["content-type"] == "text/plain; charset=UTF-8"
    assert "x-amz-sns-subscription-arn" not in confirmation.headers
    message = confirmation.json
    assert message["Type"] == "SubscriptionConfirmation"
    assert message["TopicArn"] == topic and message["Token"]
    assert message["MessageId"] == confirmation.headers["x-amz-sns-message-id"]
    assert not confirmed(sns, sub)

    sns.publish(TopicArn=topic, Message="not yet")  # pending subscriptions get nothing
    resp = httpx.get(message["SubscribeURL"])
    assert resp.status_code == 200
    assert f"<SubscriptionArn>{sub}</SubscriptionArn>" in resp.text
    assert confirmed(sns, sub)

    published = sns.publish(TopicArn=topic, Message="hello http", Subject="Hi")
    (delivery,) = wait_until(lambda: receiver.at(path))
    assert delivery.headers["x-amz-sns-message-type"] == "Notification"
    assert delivery.headers["x-amz-sns-message-id"] == published["MessageId"]
    assert delivery.headers["x-amz-sns-topic-arn"] == topic
    assert delivery.headers["x-amz-sns-subscription-arn"] == sub
    assert delivery.headers["content-type"] == "text/plain; charset=UTF-8"
    body = delivery.json
    assert (body["Type"], body["Message"], body["Subject"]) == ("Notification", "hello http", "Hi")
    assert [r.json["Message"] for r in receiver.at(path)] == ["hello http"]


def test_http_confirmation_by_token_and_raw_delivery(sns: Any, receiver: HttpReceiver) -> None:
    topic = sns.create_topic(Name=unique())["TopicArn"]
    path = f"/ok/{uuid.uuid4().hex}"
    assert sns.subscribe(
        TopicArn=topic,
        Protocol="http",
        Endpoint=receiver.url + path,
        Attributes={"RawMessageDelivery": "true"},
    )["SubscriptionArn"] == ("pending confirmation")
    (confirmation,) = wait_until(lambda: receiver.at(path, "SubscriptionConfirmation"))
    sub = sns.confirm_subscription(
        TopicArn=topic, Token=confirmation.json["Token"], AuthenticateOnUnsubscribe="true"
    )["SubscriptionArn"]
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attrs["PendingConfirmation"] == "false"
    assert attrs["ConfirmationWasAuthenticated"] == "true"
    sns.publish(TopicArn=topic, Message="raw body")
    (delivery,) = wait_until(lambda: receiver.at(path))
    assert delivery.body == "raw body"
    assert delivery.headers["x-amz-sns-rawdelivery"] == "true"


def _confirmed_http(sns: Any, receiver: HttpReceiver, topic: str, path: str, **attrs: str) -> str:
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=receiver.url + path, Attributes=attrs)
    (confirmation,) = wait_until(lambda: receiver.at(path, "SubscriptionConfirmation"))
    token = confirmation.json["Token"]
    return str(sns.confirm_subscription(TopicArn=topic, Token=token)["SubscriptionArn"])


def failure_counts(srv: ServerProcess, topic: str) -> tuple[int, dict[str, int]]:
    """The failed-delivery counts of a topic and its subscriptions, as ``sendoff topics``
    shows them (AWS has no such attribute; sendoff keeps them out of GetTopicAttributes)."""
    (summary,) = [
        t for t in httpx.get(f"{srv.url}/_sendoff/sns/topics").json()["topics"] if t["arn"] == topic
    ]
    subs = {s["arn"]: s["notifications_failed"] for s in summary["subscriptions"]}
    return summary["notifications_failed"], subs


def test_failing_http_endpoint_is_retried_then_counted(
    srv: ServerProcess, sns: Any, receiver: HttpReceiver
) -> None:
    topic = sns.create_topic(Name=unique())["TopicArn"]
    path = f"/fail/{uuid.uuid4().hex}"
    policy = {"healthyRetryPolicy": {"numRetries": 2}}
    sub = _confirmed_http(sns, receiver, topic, path, DeliveryPolicy=json.dumps(policy))
    published = sns.publish(TopicArn=topic, Message="doomed")

    def failed() -> bool:
        return bool(failure_counts(srv, topic) == (1, {sub: 1}))

    wait_until(failed, message="the failure to be counted")
    attempts = receiver.at(path)
    assert len(attempts) == 3  # the first try and numRetries=2 retries
    assert {a.headers["x-amz-sns-message-id"] for a in attempts} == {published["MessageId"]}


def test_flaky_http_endpoint_gets_the_message_on_a_retry(
    srv: ServerProcess, sns: Any, receiver: HttpReceiver
) -> None:
    topic = sns.create_topic(Name=unique())["TopicArn"]
    path = f"/flaky/{uuid.uuid4().hex}"
    _confirmed_http(sns, receiver, topic, path)
    sns.publish(TopicArn=topic, Message="eventually")
    wait_until(lambda: [r for r in receiver.at(path) if r.status == 200])
    assert [r.status for r in receiver.at(path)] == [500, 500, 200]
    assert failure_counts(srv, topic)[0] == 0


def test_failed_http_delivery_goes_to_the_dead_letter_queue(
    sns: Any, sqs: Any, receiver: HttpReceiver
) -> None:
    topic = sns.create_topic(Name=unique())["TopicArn"]
    dlq_url, dlq = make_queue(sqs)
    path = f"/fail/{uuid.uuid4().hex}"
    _confirmed_http(
        sns,
        receiver,
        topic,
        path,
        DeliveryPolicy=json.dumps({"healthyRetryPolicy": {"numRetries": 0}}),
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq}),
    )
    published = sns.publish(TopicArn=topic, Message="to the dlq")
    (msg,) = receive(sqs, dlq_url, 1)
    body = json.loads(msg["Body"])
    assert (body["MessageId"], body["Message"]) == (published["MessageId"], "to the dlq")


# ---------------------------------------------------------------- email
def test_email_and_email_json_over_smtp(sns: Any, mailbox: Mailbox) -> None:
    topic = sns.create_topic(Name=unique(), Attributes={"DisplayName": "Shop"})["TopicArn"]
    plain, structured = f"{unique('p')}@example.com", f"{unique('j')}@example.com"
    sub = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=plain)["SubscriptionArn"]
    sns.subscribe(TopicArn=topic, Protocol="email-json", Endpoint=structured)
    assert confirmed(sns, sub)  # auto-confirmed locally (docs/sns.md)
    published = sns.publish(TopicArn=topic, Message="Your order shipped.", Subject="Order 42")

    (mail,) = wait_until(lambda: mailbox.to(plain), message="the email")
    assert mail["Subject"] == "Order 42"
    assert mail["To"] == plain
    assert "Shop" in mail["From"]
    text = mail.get_content()
    assert text.startswith("Your order shipped.")
    assert "Action=Unsubscribe" in text

    (mail,) = wait_until(lambda: mailbox.to(structured), message="the JSON email")
    assert mail["Subject"] == "Order 42"
    envelope = json.loads(mail.get_content())
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == published["MessageId"]
    assert envelope["Message"] == "Your order shipped."

    sns.publish(TopicArn=topic, Message="no subject")
    wait_until(lambda: len(mailbox.to(plain)) == 2)
    assert mailbox.to(plain)[1]["Subject"] == "AWS Notification Message"


# ---------------------------------------------------------------- lambda
PRINT_EVENT = """
import json

def handler(event, context):
    print("SNS-EVENT " + json.dumps(event))
    return "ok"
"""


def test_lambda_subscription_gets_the_sns_event(srv: ServerProcess, sns: Any) -> None:
    lam = client_for(srv.url, "lambda")
    fn = create_python(lam, source=PRINT_EVENT)
    topic = sns.create_topic(Name=unique())["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn["FunctionArn"])[
        "SubscriptionArn"
    ]
    published = sns.publish(
        TopicArn=topic,
        Message="to a function",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )

    def event() -> Any:
        for line in function_logs(srv.url, fn["FunctionName"]).splitlines():
            if line.startswith("SNS-EVENT "):
                return json.loads(line.removeprefix("SNS-EVENT "))
        return None

    got = wait_until(event, timeout=30, message="the function to run")
    (record,) = got["Records"]
    assert record["EventSource"] == "aws:sns" and record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == sub
    sns_part = record["Sns"]
    assert list(sns_part) == [
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertUrl",
        "UnsubscribeUrl",
        "MessageAttributes",
    ]
    assert sns_part["MessageId"] == published["MessageId"]
    assert sns_part["Subject"] is None
    assert sns_part["Message"] == "to a function"
    assert sns_part["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}


def test_lambda_destination_publishes_to_a_topic(srv: ServerProcess, sns: Any, sqs: Any) -> None:
    """The ``sns`` delivery scheme: an OnSuccess destination that is a topic."""
    lam = client_for(srv.url, "lambda")
    fn = create_python(lam)
    topic = sns.create_topic(Name=unique())["TopicArn"]
    url, queue = make_queue(sqs)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue)
    lam.put_function_event_invoke_config(
        FunctionName=fn["FunctionName"],
        DestinationConfig={"OnSuccess": {"Destination": topic}},
    )
    lam.invoke(FunctionName=fn["FunctionName"], InvocationType="Event", Payload=b'{"x": 1}')
    (msg,) = receive(sqs, url, 1, timeout=30)
    record = json.loads(json.loads(msg["Body"])["Message"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestPayload"] == {"x": 1}
