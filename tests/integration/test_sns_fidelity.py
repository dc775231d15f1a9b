"""SNS as AWS answers it (issue 18, items 5-7), through boto3 and plain HTTP against the
real server.

Every expected code, message and attribute set is the one recorded from AWS in
LocalStack's tests/aws/services/sns/test_sns.snapshot.json
(/work/shared/aws-recordings/services/): test_subscribe_with_invalid_topic,
test_unsubscribe_wrong_arn_format, test_validate_set_sub_attributes,
test_create_subscriptions_with_attributes, test_subscribe_invalid_filter_policy,
test_validations_for_fifo, test_create_topic_test_arn and
test_subscribe_external_http_endpoint.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import botocore.exceptions
import httpx
import pytest

from tests.conftest import client_for
from tests.support.server import ServerProcess, wait_until

VALUES = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
REDACTED = "REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)"
XMLNS = 'xmlns="http://sns.amazonaws.com/doc/2010-03-31/"'


@pytest.fixture(scope="module")
def sns(server: ServerProcess) -> Any:
    return client_for(server.url, "sns")


@pytest.fixture(scope="module")
def sqs(server: ServerProcess) -> Any:
    return client_for(server.url, "sqs")


def unique(prefix: str = "fid") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def refused(call: Callable[[], Any]) -> tuple[str, int, str]:
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        call()
    response = exc.value.response
    error = response["Error"]
    assert error["Type"] == "Sender"
    return error["Code"], response["ResponseMetadata"]["HTTPStatusCode"], error["Message"]


def invalid(message: str) -> tuple[str, int, str]:
    return "InvalidParameter", 400, f"Invalid parameter: {message}"


def queue_arn(sqs: Any, name: str | None = None) -> str:
    fifo = {"FifoQueue": "true"} if name and name.endswith(".fifo") else {}
    url = sqs.create_queue(QueueName=name or unique("q"), Attributes=fifo)["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attrs["Attributes"]["QueueArn"])


def sqs_subscription(sns: Any, sqs: Any) -> tuple[str, str]:
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs))
    return topic, sub["SubscriptionArn"]


# ---- item 5: messages ----
@pytest.mark.parametrize(
    ("arn", "count"), [("randomstring", 1), ("arn:aws:sns:us-east-1:random", 5)]
)
def test_subscribe_to_a_malformed_topic_arn(sns: Any, arn: str, count: int) -> None:
    assert refused(
        lambda: sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="someone@example.com")
    ) == invalid(f"TopicArn Reason: An ARN must have at least 6 elements, not {count}")


def test_get_topic_attributes_of_a_malformed_arn(sns: Any) -> None:
    assert refused(lambda: sns.get_topic_attributes(TopicArn="randomstring")) == invalid(
        "TopicArn Reason: An ARN must have at least 6 elements, not 1"
    )


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        ("randomstring", "SubscriptionArn Reason: An ARN must have at least 6 elements, not 1"),
        (
            "arn:aws:sns:us-east-1:random",
            "SubscriptionArn Reason: An ARN must have at least 6 elements, not 5",
        ),
        ("arn:aws:sns:us-east-1:000000000000:random", "SubscriptionId"),
    ],
)
def test_unsubscribe_a_malformed_arn(sns: Any, arn: str, message: str) -> None:
    assert refused(lambda: sns.unsubscribe(SubscriptionArn=arn)) == invalid(message)


@pytest.mark.parametrize("value", ["test-ValUe", ""])
def test_set_raw_message_delivery_to_a_non_boolean(sns: Any, sqs: Any, value: str) -> None:
    _, sub = sqs_subscription(sns, sqs)
    assert refused(
        lambda: sns.set_subscription_attributes(
            SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue=value
        )
    ) == invalid(f"RawMessageDelivery: Invalid value [{value}]. Must be true or false.")


def test_subscribe_with_a_non_boolean_raw_message_delivery(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    attributes = {
        "RawMessageDelivery": "wrongvalue",
        "FilterPolicyScope": "MessageBody",
        "FilterPolicy": "",
    }
    assert refused(
        lambda: sns.subscribe(
            TopicArn=topic, Protocol="sqs", Endpoint=queue_arn(sqs), Attributes=attributes
        )
    ) == invalid(
        "Attributes Reason: RawMessageDelivery: Invalid value [wrongvalue]. Must be true or false."
    )


def test_redrive_policy_with_a_fake_arn(sns: Any, sqs: Any) -> None:
    _, sub = sqs_subscription(sns, sqs)
    assert refused(
        lambda: sns.set_subscription_attributes(
            SubscriptionArn=sub,
            AttributeName="RedrivePolicy",
            AttributeValue=json.dumps({"deadLetterTargetArn": "fake-arn"}),
        )
    ) == invalid("RedrivePolicy: deadLetterTargetArn is an invalid arn")


@pytest.mark.parametrize("name", ["RedrivePolicy", "FilterPolicy"])
def test_policies_that_are_not_json(sns: Any, sqs: Any, name: str) -> None:
    _, sub = sqs_subscription(sns, sqs)
    assert refused(
        lambda: sns.set_subscription_attributes(
            SubscriptionArn=sub, AttributeName=name, AttributeValue="{invalidjson}"
        )
    ) == invalid(
        f"{name}: failed to parse JSON. Unexpected character ('i' (code 105)): was expecting"
        f" double-quote to start field name\n at [Source: {REDACTED}; line: 1, column: 2]"
    )


def test_subscribe_with_a_filter_policy_that_is_not_json(sns: Any) -> None:
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    assert refused(
        lambda: sns.subscribe(
            TopicArn=topic,
            Protocol="email",
            Endpoint="test@example.com",
            Attributes={"FilterPolicy": "invalid-json"},
        )
    ) == invalid(
        f"Attributes Reason: FilterPolicy: failed to parse JSON. Unrecognized token 'invalid':"
        f" was expecting {VALUES}\n at [Source: {REDACTED}; line: 1, column: 8]"
    )


def test_fifo_queue_on_a_standard_topic(sns: Any, sqs: Any) -> None:
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    fifo = queue_arn(sqs, unique("q") + ".fifo")
    assert refused(lambda: sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=fifo)) == invalid(
        "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard"
        " SNS topics"
    )


# ---- item 6: attributes ----
def test_topic_attributes_are_awss_set(sns: Any) -> None:
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert set(attrs) == {
        "DisplayName",
        "EffectiveDeliveryPolicy",
        "Owner",
        "Policy",
        "SubscriptionsConfirmed",
        "SubscriptionsDeleted",
        "SubscriptionsPending",
        "TopicArn",
    }


def test_sqs_subscription_attributes(sns: Any, sqs: Any, server: ServerProcess) -> None:
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    queue = queue_arn(sqs)
    sub = sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue, Attributes={"RawMessageDelivery": "TrUe"}
    )["SubscriptionArn"]
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    caller = client_for(server.url, "sts").get_caller_identity()["Arn"]
    assert attrs == {
        "ConfirmationWasAuthenticated": "true",
        "Endpoint": queue,
        "Owner": "000000000000",
        "PendingConfirmation": "false",
        "Protocol": "sqs",
        "RawMessageDelivery": "true",
        "SubscriptionArn": sub,
        "SubscriptionPrincipal": caller,
        "TopicArn": topic,
    }


# ---- item 7: SubscribeURL / UnsubscribeURL ----
class Receiver:
    """An HTTP endpoint that records the JSON SNS POSTs to it."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver.lock:
                    receiver.posts.append(json.loads(body))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/sns"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [p for p in self.posts if p["Type"] == kind]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    yield state
    state.httpd.shutdown()
    state.httpd.server_close()


def subscriptions_of(sns: Any, topic: str) -> list[str]:
    return [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)[
        "Subscriptions"]]  # fmt: skip


def test_links_have_awss_shape_and_work(
    sns: Any, server: ServerProcess, receiver: Receiver
) -> None:
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    sub = sns.subscribe(
        TopicArn=topic, Protocol="http", Endpoint=receiver.url, ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    (confirmation,) = wait_until(lambda: receiver.of_type("SubscriptionConfirmation"))
    token = confirmation["Token"]
    assert confirmation["SubscribeURL"] == (
        f"{server.url}/?Action=ConfirmSubscription&TopicArn={topic}&Token={token}"
    )

    broken = httpx.get(
        f"{server.url}/?Action=ConfirmSubscription&TopicArn=not-an-arn&Token={token}"
    )
    assert broken.status_code == 400
    assert "<Code>InvalidParameter</Code>" in broken.text
    assert "<Message>Invalid parameter: Topic</Message>" in broken.text
    wrong = httpx.get(f"{server.url}/?Action=ConfirmSubscription&TopicArn={topic}&Token=abc123")
    assert "<Message>Invalid parameter: Token</Message>" in wrong.text
    other_region = topic.replace(":us-east-1:", ":eu-central-1:")
    elsewhere = httpx.get(
        f"{server.url}/?Action=ConfirmSubscription&TopicArn={other_region}&Token={token}"
    )
    assert "<Message>Invalid parameter: Topic</Message>" in elsewhere.text
    # AWS-recorded: a topic ARN naming no topic, in the right region, still confirms by token
    nonexistent = topic[:-1] + ("a" if topic[-1] != "a" else "b")
    anyway = httpx.get(
        f"{server.url}/?Action=ConfirmSubscription&TopicArn={nonexistent}&Token={token}"
    )
    assert anyway.status_code == 200
    assert f"<SubscriptionArn>{sub}</SubscriptionArn>" in anyway.text

    # AuthenticateOnUnsubscribe counts only on a signed request, never on the link
    confirmed = httpx.get(confirmation["SubscribeURL"] + "&AuthenticateOnUnsubscribe=true")
    assert confirmed.status_code == 200
    assert f"<ConfirmSubscriptionResponse {XMLNS}>" in confirmed.text
    assert f"<SubscriptionArn>{sub}</SubscriptionArn>" in confirmed.text
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert (attrs["PendingConfirmation"], attrs["ConfirmationWasAuthenticated"]) == (
        "false",
        "false",
    )

    sns.publish(TopicArn=topic, Message="test_external_http_endpoint")
    (notification,) = wait_until(lambda: receiver.of_type("Notification"))
    unsubscribe_url = f"{server.url}/?Action=Unsubscribe&SubscriptionArn={sub}"
    assert notification["UnsubscribeURL"] == unsubscribe_url

    # a page on another site cannot follow the link (the browser guard answers first)
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "http://evil.example"}):
        attack = httpx.get(unsubscribe_url, headers=headers)
        assert attack.status_code == 403, headers
    assert subscriptions_of(sns, topic) == [sub]

    unsubscribed = httpx.get(unsubscribe_url)
    assert unsubscribed.status_code == 200
    assert f"<UnsubscribeResponse {XMLNS}>" in unsubscribed.text
    assert subscriptions_of(sns, topic) == []

    # AWS's final UnsubscribeConfirmation; its SubscribeURL restores the subscription
    (farewell,) = wait_until(lambda: receiver.of_type("UnsubscribeConfirmation"))
    assert farewell["Message"] == (
        f"You have chosen to deactivate subscription {sub}.\nTo cancel this operation and"
        " restore the subscription, visit the SubscribeURL included in this message."
    )
    assert farewell["TopicArn"] == topic and farewell["Token"] != token
    assert farewell["SubscribeURL"] == (
        f"{server.url}/?Action=ConfirmSubscription&TopicArn={topic}&Token={farewell['Token']}"
    )
    restored = httpx.get(farewell["SubscribeURL"])
    assert f"<SubscriptionArn>{sub}</SubscriptionArn>" in restored.text
    assert subscriptions_of(sns, topic) == [sub]
    assert httpx.get(farewell["SubscribeURL"]).status_code == 200  # idempotent, as AWS


def test_unsubscribe_link_needs_a_signature_for_an_authenticated_subscription(
    sns: Any, sqs: Any, server: ServerProcess
) -> None:
    topic, sub = sqs_subscription(sns, sqs)
    refused_link = httpx.get(f"{server.url}/?Action=Unsubscribe&SubscriptionArn={sub}")
    assert refused_link.status_code == 403
    assert "<Code>AuthorizationError</Code>" in refused_link.text
    assert subscriptions_of(sns, topic) == [sub]
    sns.unsubscribe(SubscriptionArn=sub)  # the API call (signed, on AWS) does it
    assert subscriptions_of(sns, topic) == []


def test_the_old_link_path_still_works(sns: Any, server: ServerProcess, receiver: Receiver) -> None:
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    sub = sns.subscribe(
        TopicArn=topic, Protocol="http", Endpoint=receiver.url, ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    (confirmation,) = wait_until(lambda: receiver.of_type("SubscriptionConfirmation"))
    params = {"Action": "ConfirmSubscription", "TopicArn": topic, "Token": confirmation["Token"]}
    assert httpx.get(f"{server.url}/_sendoff/sns", params=params).status_code == 200
    params = {"Action": "Unsubscribe", "SubscriptionArn": sub}
    assert httpx.get(f"{server.url}/_sendoff/sns", params=params).status_code == 200
    assert subscriptions_of(sns, topic) == []
