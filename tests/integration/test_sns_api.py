"""The SNS query API driven by boto3 (and the AWS CLI): every operation and its errors.

Deliveries are covered by test_sns_delivery.py; here subscriptions use SQS queue ARNs and
function ARNs that are never delivered to.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from typing import Any

import botocore.exceptions
import httpx
import pytest

from tests.conftest import client_for
from tests.support.cli import aws
from tests.support.server import ServerProcess

ACCOUNT = "000000000000"
QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:sns-api-never-delivered"
FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:sns-api-never-invoked"


@pytest.fixture(scope="module")
def sns(server: ServerProcess) -> Any:
    return client_for(server.url, "sns")


def unique(prefix: str = "topic") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call(**kwargs)
    return dict(info.value.response["Error"])


def invalid(message: str) -> dict[str, str]:
    return {
        "Type": "Sender",
        "Code": "InvalidParameter",
        "Message": f"Invalid parameter: {message}",
    }


NOT_FOUND = {"Type": "Sender", "Code": "NotFound", "Message": "Topic does not exist"}


# ---------------------------------------------------------------- topics
def test_create_topic_is_idempotent_and_listed(sns: Any) -> None:
    name = unique()
    arn = sns.create_topic(Name=name, Attributes={"DisplayName": "Hello"})["TopicArn"]
    assert arn == f"arn:aws:sns:us-east-1:{ACCOUNT}:{name}"
    assert sns.create_topic(Name=name)["TopicArn"] == arn
    assert sns.create_topic(Name=name, Attributes={"DisplayName": "Hello"})["TopicArn"] == arn
    assert error(sns.create_topic, Name=name, Attributes={"DisplayName": "Other"}) == invalid(
        "Attributes Reason: Topic already exists with different attributes"
    )
    listed = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert arn in listed


def test_topic_attributes(sns: Any) -> None:
    arn = sns.create_topic(Name=unique())["TopicArn"]
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["TopicArn"] == arn
    assert attrs["Owner"] == ACCOUNT
    assert attrs["DisplayName"] == ""
    assert (attrs["SubscriptionsConfirmed"], attrs["SubscriptionsPending"]) == ("0", "0")
    assert attrs["SubscriptionsDeleted"] == "0"
    assert "FifoTopic" not in attrs
    policy = json.loads(attrs["Policy"])
    assert policy["Statement"][0]["Resource"] == arn
    effective = json.loads(attrs["EffectiveDeliveryPolicy"])
    assert effective["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 3

    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Shop <&>")
    delivery = {"http": {"defaultHealthyRetryPolicy": {"numRetries": 7}}}
    sns.set_topic_attributes(
        TopicArn=arn, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(delivery)
    )
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["DisplayName"] == "Shop <&>"
    assert json.loads(attrs["DeliveryPolicy"]) == delivery
    effective = json.loads(attrs["EffectiveDeliveryPolicy"])["http"]
    assert effective["defaultHealthyRetryPolicy"]["numRetries"] == 7
    assert effective["defaultHealthyRetryPolicy"]["minDelayTarget"] == 20

    assert error(
        sns.set_topic_attributes, TopicArn=arn, AttributeName="Bogus", AttributeValue="x"
    ) == invalid("AttributeName")
    assert error(
        sns.set_topic_attributes, TopicArn=arn, AttributeName="Policy", AttributeValue="{not json"
    ) == invalid("Policy: failed to parse JSON")
    assert (
        error(
            sns.set_topic_attributes,
            TopicArn=arn,
            AttributeName="ContentBasedDeduplication",
            AttributeValue="true",
        )["Code"]
        == "InvalidParameter"
    )
    assert error(sns.get_topic_attributes, TopicArn=arn + "-missing") == NOT_FOUND
    assert (
        error(
            sns.set_topic_attributes,
            TopicArn=arn + "-missing",
            AttributeName="DisplayName",
            AttributeValue="x",
        )
        == NOT_FOUND
    )


def test_fifo_topics(sns: Any) -> None:
    name = unique() + ".fifo"
    arn = sns.create_topic(Name=name, Attributes={"FifoTopic": "true"})["TopicArn"]
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["FifoTopic"] == "true"
    assert attrs["ContentBasedDeduplication"] == "false"
    sns.set_topic_attributes(
        TopicArn=arn, AttributeName="ContentBasedDeduplication", AttributeValue="true"
    )
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["ContentBasedDeduplication"] == "true"
    assert error(sns.create_topic, Name=unique() + ".fifo")["Message"] == (
        "Invalid parameter: Topic Name"
    )
    assert error(sns.create_topic, Name=unique(), Attributes={"FifoTopic": "true"})[
        "Message"
    ].startswith("Invalid parameter: Fifo Topic names must end with .fifo")


@pytest.mark.parametrize("name", ["", "has space", "x" * 257, "sl/ash", "dot.ted"])
def test_create_topic_rejects_bad_names(sns: Any, name: str) -> None:
    assert error(sns.create_topic, Name=name) == invalid("Topic Name")


def test_delete_topic_removes_its_subscriptions(sns: Any) -> None:
    arn = sns.create_topic(Name=unique())["TopicArn"]
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=QUEUE)["SubscriptionArn"]
    sns.delete_topic(TopicArn=arn)
    assert arn not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert error(sns.get_subscription_attributes, SubscriptionArn=sub)["Code"] == "NotFound"
    sns.delete_topic(TopicArn=arn)  # deleting again is no error (AWS: idempotent)


def test_list_topics_pages_and_is_scoped_per_region(server: ServerProcess) -> None:
    region = "eu-west-3"
    sns = client_for(server.url, "sns", region)
    arns = [sns.create_topic(Name=f"page-{i:03d}")["TopicArn"] for i in range(105)]
    first = sns.list_topics()
    assert len(first["Topics"]) == 100 and "NextToken" in first
    second = sns.list_topics(NextToken=first["NextToken"])
    assert "NextToken" not in second
    listed = [t["TopicArn"] for t in first["Topics"] + second["Topics"]]
    assert listed == arns
    assert all(a.startswith(f"arn:aws:sns:{region}:") for a in listed)
    other = client_for(server.url, "sns", "ap-south-1")
    assert other.list_topics()["Topics"] == []
    # a topic of another region is not addressable from this one
    assert error(other.get_topic_attributes, TopicArn=arns[0]) == invalid("TopicArn")
    assert error(sns.list_topics, NextToken="bm90LWEta2V5") == invalid("NextToken")


def test_tags(sns: Any) -> None:
    arn = sns.create_topic(Name=unique(), Tags=[{"Key": "team", "Value": "a"}])["TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}])
    tags = sns.list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("env", "dev"), ("team", "a")]
    sns.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    assert error(sns.list_tags_for_resource, ResourceArn=arn + "-missing")["Code"] == (
        "ResourceNotFound"
    )


# ---------------------------------------------------------------- subscriptions
def test_subscribe_list_and_unsubscribe(sns: Any) -> None:
    arn = sns.create_topic(Name=unique())["TopicArn"]
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=QUEUE)["SubscriptionArn"]
    assert sub.startswith(arn + ":")
    again = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=QUEUE)["SubscriptionArn"]
    assert again == sub  # idempotent
    fn = sns.subscribe(TopicArn=arn, Protocol="lambda", Endpoint=FUNCTION)["SubscriptionArn"]

    by_topic = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert sorted(s["SubscriptionArn"] for s in by_topic) == sorted([sub, fn])
    row = next(s for s in by_topic if s["SubscriptionArn"] == sub)
    assert row == {
        "SubscriptionArn": sub,
        "Owner": ACCOUNT,
        "Protocol": "sqs",
        "Endpoint": QUEUE,
        "TopicArn": arn,
    }
    everything = [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]]
    assert sub in everything and fn in everything

    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attrs["SubscriptionArn"] == sub and attrs["TopicArn"] == arn
    assert attrs["Protocol"] == "sqs" and attrs["Endpoint"] == QUEUE
    assert attrs["PendingConfirmation"] == "false"
    assert attrs["RawMessageDelivery"] == "false"
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsConfirmed"] == "2"

    sns.unsubscribe(SubscriptionArn=fn)
    topic_attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert topic_attrs["SubscriptionsConfirmed"] == "1"
    assert topic_attrs["SubscriptionsDeleted"] == "1"
    missing = {"Type": "Sender", "Code": "NotFound", "Message": "Subscription does not exist"}
    assert error(sns.unsubscribe, SubscriptionArn=fn) == missing
    assert error(sns.get_subscription_attributes, SubscriptionArn=fn) == missing


def test_http_subscriptions_are_pending_until_confirmed(sns: Any) -> None:
    arn = sns.create_topic(Name=unique())["TopicArn"]
    # nothing listens there: the confirmation request fails, the subscription stays pending
    endpoint = "http://127.0.0.1:9/never"
    assert sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=endpoint)["SubscriptionArn"] == (
        "pending confirmation"
    )
    full = sns.subscribe(
        TopicArn=arn, Protocol="http", Endpoint=endpoint, ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    assert full.startswith(arn + ":")
    listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == ["PendingConfirmation"]
    attrs = sns.get_subscription_attributes(SubscriptionArn=full)["Attributes"]
    assert attrs["PendingConfirmation"] == "true"
    assert json.loads(attrs["EffectiveDeliveryPolicy"])["healthyRetryPolicy"]["numRetries"] == 3
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsPending"] == "1"
    assert error(sns.confirm_subscription, TopicArn=arn, Token="nope") == invalid("Token")


@pytest.mark.parametrize(
    ("protocol", "endpoint", "message"),
    [
        ("carrier-pigeon", "x", "Amazon SNS does not support this protocol string: carrier-pigeon"),
        ("sqs", "not-an-arn", "SQS endpoint ARN"),
        ("lambda", QUEUE, "Lambda endpoint ARN"),
        ("http", "https://example.com/", "Endpoint must match the specified protocol"),
        ("email", "nobody", "Email address"),
    ],
)
def test_subscribe_rejects_bad_endpoints(
    sns: Any, protocol: str, endpoint: str, message: str
) -> None:
    arn = sns.create_topic(Name="bad-endpoints")["TopicArn"]
    assert error(sns.subscribe, TopicArn=arn, Protocol=protocol, Endpoint=endpoint) == invalid(
        message
    )


def test_subscribe_errors(sns: Any) -> None:
    arn = sns.create_topic(Name=unique())["TopicArn"]
    assert error(sns.subscribe, TopicArn=arn + "-missing", Protocol="sqs", Endpoint=QUEUE) == (
        NOT_FOUND
    )
    assert error(
        sns.subscribe,
        TopicArn=arn,
        Protocol="lambda",
        Endpoint=FUNCTION,
        Attributes={"RawMessageDelivery": "true"},
    ) == invalid(
        "Attributes Reason: Delivery protocol [lambda] does not support raw message delivery."
    )
    bad = error(
        sns.subscribe,
        TopicArn=arn,
        Protocol="sqs",
        Endpoint=QUEUE,
        Attributes={"FilterPolicy": '{"a": "not-a-list"}'},
    )
    assert bad["Code"] == "InvalidParameter"
    assert bad["Message"].startswith("Invalid parameter: Attributes Reason: FilterPolicy: ")
    fifo = sns.create_topic(Name=unique() + ".fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    assert (
        error(sns.subscribe, TopicArn=fifo, Protocol="lambda", Endpoint=FUNCTION)["Code"]
        == "InvalidParameter"
    )
    assert error(sns.subscribe, TopicArn=arn, Protocol="sqs", Endpoint=QUEUE + ".fifo") == (
        invalid(  # AWS-recorded, prefix twice
            "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to"
            " standard SNS topics"
        )
    )


def test_subscription_attributes(sns: Any) -> None:
    arn = sns.create_topic(Name=unique())["TopicArn"]
    sub = sns.subscribe(
        TopicArn=arn, Protocol="sqs", Endpoint=QUEUE, Attributes={"RawMessageDelivery": "true"}
    )["SubscriptionArn"]

    def attrs() -> dict[str, str]:
        return dict(sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"])

    def set_attr(name: str, value: str) -> None:
        sns.set_subscription_attributes(
            SubscriptionArn=sub, AttributeName=name, AttributeValue=value
        )

    assert attrs()["RawMessageDelivery"] == "true"
    policy = '{"store": ["example_corp"], "price": [{"numeric": [">", 10]}]}'
    set_attr("FilterPolicy", policy)
    assert attrs()["FilterPolicy"] == policy
    assert attrs()["FilterPolicyScope"] == "MessageAttributes"
    set_attr("FilterPolicyScope", "MessageBody")
    assert attrs()["FilterPolicyScope"] == "MessageBody"
    set_attr("RawMessageDelivery", "false")
    dlq = f"arn:aws:sqs:us-east-1:{ACCOUNT}:dead-letters"
    set_attr("RedrivePolicy", json.dumps({"deadLetterTargetArn": dlq}))
    current = attrs()
    assert current["RawMessageDelivery"] == "false"
    assert json.loads(current["RedrivePolicy"]) == {"deadLetterTargetArn": dlq}

    nested = '{"a": {"b": ["c"]}}'
    set_attr("FilterPolicy", nested)  # nested policies are fine for MessageBody...
    bad_scope = error(
        sns.set_subscription_attributes,
        SubscriptionArn=sub,
        AttributeName="FilterPolicyScope",
        AttributeValue="MessageAttributes",
    )
    assert bad_scope["Code"] == "InvalidParameter"  # ...but not for MessageAttributes
    assert error(
        sns.set_subscription_attributes,
        SubscriptionArn=sub,
        AttributeName="Nope",
        AttributeValue="x",
    ) == invalid("AttributeName")
    assert error(
        sns.set_subscription_attributes,
        SubscriptionArn=sub,
        AttributeName="RedrivePolicy",
        AttributeValue='{"x": 1}',
    )["Code"] == ("InvalidParameter")
    assert error(
        sns.set_subscription_attributes,
        SubscriptionArn=sub,
        AttributeName="FilterPolicy",
        AttributeValue="{",
    )["Message"].startswith("Invalid parameter: FilterPolicy: ")
    set_attr("FilterPolicy", "")
    assert "FilterPolicy" not in attrs()


# ---------------------------------------------------------------- publishing
def test_publish_returns_message_ids(sns: Any) -> None:
    arn = sns.create_topic(Name=unique())["TopicArn"]
    first = sns.publish(
        TopicArn=arn,
        Message="hello",
        Subject="Greetings",
        MessageAttributes={
            "n": {"DataType": "Number", "StringValue": "5"},
            "b": {"DataType": "Binary", "BinaryValue": b"\0"},
        },
    )
    second = sns.publish(TargetArn=arn, Message="hello")
    assert first["MessageId"] != second["MessageId"]
    assert "SequenceNumber" not in first
    structured = json.dumps({"default": "plain", "sqs": "for queues"})
    assert sns.publish(TopicArn=arn, Message=structured, MessageStructure="json")["MessageId"]


def test_publish_errors(sns: Any) -> None:
    arn = sns.create_topic(Name=unique())["TopicArn"]

    def publish_error(**kwargs: Any) -> dict[str, Any]:
        return error(sns.publish, **{"TopicArn": arn, "Message": "m", **kwargs})

    assert publish_error(TopicArn=arn + "-missing") == NOT_FOUND
    assert publish_error(Message="") == invalid("Empty message")
    assert publish_error(Message="x" * (256 * 1024 + 1)) == invalid("Message too long")
    assert sns.publish(TopicArn=arn, Message="x" * (256 * 1024))["MessageId"]
    assert publish_error(Subject="two\nlines") == invalid("Subject")
    assert publish_error(Subject="x" * 101) == invalid("Subject")
    assert publish_error(MessageStructure="json", Message="not json") == invalid(
        "Message Structure - JSON message body failed to parse"
    )
    assert publish_error(MessageStructure="json", Message='{"sqs": "x"}') == invalid(
        "Message Structure - No default entry in JSON message body"
    )
    assert publish_error(MessageAttributes={"a": {"DataType": "Float", "StringValue": "1"}}) == (
        invalid(
            "The message attribute 'a' has an invalid message attribute type, the set of "
            "supported type prefixes is Binary, Number, and String."
        )
    )
    assert publish_error(MessageAttributes={"a": {"DataType": "Number", "StringValue": "x"}}) == (
        invalid("Could not cast message attribute 'a' value to number.")
    )
    assert publish_error(MessageAttributes={"a": {"DataType": "String", "StringValue": ""}}) == (
        invalid(
            "The message attribute 'a' must contain non-empty message attribute value for "
            "message attribute type 'String'."
        )
    )
    assert publish_error(MessageDeduplicationId="d")["Code"] == "InvalidParameter"
    assert error(sns.publish, Message="m") == invalid(
        "TopicArn or TargetArn Reason: no value for required parameter"
    )
    assert error(sns.publish, TopicArn="not-an-arn", Message="m") == invalid(
        "TopicArn Reason: An ARN must have at least 6 elements, not 1"
    )


def test_fifo_publish_sequence_and_deduplication(sns: Any) -> None:
    arn = sns.create_topic(Name=unique() + ".fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    assert error(sns.publish, TopicArn=arn, Message="m", MessageDeduplicationId="d") == invalid(
        "The MessageGroupId parameter is required for FIFO topics"
    )
    assert error(sns.publish, TopicArn=arn, Message="m", MessageGroupId="g") == invalid(
        "The topic should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly"
    )
    one = sns.publish(TopicArn=arn, Message="m", MessageGroupId="g", MessageDeduplicationId="1")
    two = sns.publish(TopicArn=arn, Message="m", MessageGroupId="g", MessageDeduplicationId="2")
    dup = sns.publish(TopicArn=arn, Message="m", MessageGroupId="g", MessageDeduplicationId="1")
    assert int(two["SequenceNumber"]) > int(one["SequenceNumber"])
    assert dup["MessageId"] == one["MessageId"]
    assert dup["SequenceNumber"] == one["SequenceNumber"]
    sns.set_topic_attributes(
        TopicArn=arn, AttributeName="ContentBasedDeduplication", AttributeValue="true"
    )
    a = sns.publish(TopicArn=arn, Message="same body", MessageGroupId="g")
    b = sns.publish(TopicArn=arn, Message="same body", MessageGroupId="other")
    assert a["MessageId"] == b["MessageId"]


def test_publish_batch(sns: Any) -> None:
    arn = sns.create_topic(Name=unique())["TopicArn"]
    result = sns.publish_batch(
        TopicArn=arn,
        PublishBatchRequestEntries=[
            {
                "Id": "ok-1",
                "Message": "one",
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            },
            {"Id": "bad", "Message": "two", "Subject": "bad\nsubject"},
            {"Id": "ok-2", "Message": "three", "Subject": "fine"},
        ],
    )
    assert [s["Id"] for s in result["Successful"]] == ["ok-1", "ok-2"]
    assert all(s["MessageId"] for s in result["Successful"])
    assert result["Failed"] == [
        {
            "Id": "bad",
            "Code": "InvalidParameter",
            "Message": "Invalid parameter: Subject",
            "SenderFault": True,
        }
    ]

    def batch_error(entries: list[dict[str, Any]], topic: str = arn) -> str:
        return str(
            error(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=entries)["Code"]
        )

    assert batch_error([]) == "EmptyBatchRequest"
    assert batch_error([{"Id": str(i), "Message": "m"} for i in range(11)]) == (
        "TooManyEntriesInBatchRequest"
    )
    assert batch_error([{"Id": "a", "Message": "m"}] * 2) == "BatchEntryIdsNotDistinct"
    assert batch_error([{"Id": "a b", "Message": "m"}]) == "InvalidBatchEntryId"
    assert batch_error([{"Id": str(i), "Message": "x" * 100_000} for i in range(3)]) == (
        "BatchRequestTooLong"
    )
    assert batch_error([{"Id": "a", "Message": "m"}], topic=arn + "-missing") == "NotFound"


# ---------------------------------------------------------------- wire details
def test_unknown_action_and_raw_error_xml(server: ServerProcess, sns: Any) -> None:
    arn = "arn:aws:sns:us-east-1:000000000000:" + unique()
    resp = httpx.post(server.url + "/", data={"Action": "GetTopicAttributes", "TopicArn": arn})
    assert resp.status_code == 404
    assert "<Code>NotFound</Code>" in resp.text and "<Type>Sender</Type>" in resp.text
    assert "<Message>Topic does not exist</Message>" in resp.text
    assert "<RequestId>" in resp.text
    resp = httpx.post(server.url + "/", data={"Action": "Frobnicate", "Version": "2010-03-31"})
    assert resp.status_code == 400


def _aws(server: ServerProcess, *args: str) -> Any:
    return aws(server.url, "sns", *args)


def test_aws_cli(server: ServerProcess) -> None:
    name = unique("cli")
    arn = _aws(server, "create-topic", "--name", name)["TopicArn"]
    assert arn.endswith(f":{name}")
    assert arn in [t["TopicArn"] for t in _aws(server, "list-topics")["Topics"]]
    sub = _aws(
        server,
        "subscribe",
        "--topic-arn",
        arn,
        "--protocol",
        "sqs",
        "--notification-endpoint",
        QUEUE,
    )["SubscriptionArn"]
    published = _aws(
        server,
        "publish",
        "--topic-arn",
        arn,
        "--message",
        "from the cli",
        "--message-attributes",
        '{"kind": {"DataType": "String", "StringValue": "cli"}}',
    )
    assert published["MessageId"]
    attrs = _aws(server, "get-subscription-attributes", "--subscription-arn", sub)["Attributes"]
    assert attrs["Endpoint"] == QUEUE
    _aws(server, "delete-topic", "--topic-arn", arn)


def test_sendoff_topics_list(server: ServerProcess, sns: Any) -> None:
    arn = sns.create_topic(Name=unique("listed"))["TopicArn"]
    sub = sns.subscribe(TopicArn=arn, Protocol="http", Endpoint="http://127.0.0.1:9/x")
    assert sub["SubscriptionArn"] == "pending confirmation"
    done = subprocess.run(
        [sys.executable, "-m", "sendoff.cli.main", "--endpoint-url", server.url, "topics",
         "list", "--region", "us-east-1"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"{arn}  subscriptions: 1  failed deliveries: 0" in done.stdout
    assert "-> http       http://127.0.0.1:9/x  [pending confirmation]" in done.stdout
