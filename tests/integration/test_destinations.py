"""Records delivered to SQS, SNS and EventBridge destinations, and dead-letter queues (§5, §6)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import client_for
from tests.support.events import wait_terminal
from tests.support.functions import create_python, unique
from tests.support.server import wait_until

ARN = "arn:aws:lambda:us-east-1:000000000000:function:"


@pytest.fixture(scope="module")
def sqs(server: Any) -> Any:
    return client_for(server.url, "sqs")


def make_queue(sqs: Any, name: str | None = None, **attrs: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name or unique("q"), Attributes=attrs)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def receive_one(sqs: Any, url: str, **kwargs: Any) -> dict[str, Any]:
    def get() -> dict[str, Any] | None:
        msgs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, **kwargs).get("Messages")
        return msgs[0] if msgs else None

    return wait_until(get, timeout=30, message=f"a message in {url}")  # type: ignore[no-any-return]


def event_invoke(client: Any, name: str, payload: Any) -> str:
    resp = client.invoke(
        FunctionName=name, InvocationType="Event", Payload=json.dumps(payload).encode()
    )
    return str(resp["ResponseMetadata"]["RequestId"])


def test_sqs_destinations_get_compact_records(lambda_client: Any, sqs: Any, server: Any) -> None:
    ok_url, ok_arn = make_queue(sqs)
    bad_url, bad_arn = make_queue(sqs)
    name = unique()
    create_python(lambda_client, name)
    lambda_client.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=0,
        DestinationConfig={
            "OnSuccess": {"Destination": ok_arn},
            "OnFailure": {"Destination": bad_arn},
        },
    )
    ok_id = event_invoke(lambda_client, name, {"x": 1})
    msg = receive_one(
        sqs, ok_url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]
    )
    assert ": " not in msg["Body"] and ", " not in msg["Body"]  # compact JSON, as AWS sends
    record = json.loads(msg["Body"])
    assert record["requestContext"]["requestId"] == ok_id
    assert record["requestContext"]["condition"] == "Success"
    assert "MessageAttributes" not in msg
    assert "Root=" in msg["Attributes"]["AWSTraceHeader"]
    bad_id = event_invoke(lambda_client, name, {"fail": True, "message": "bad"})
    record = json.loads(receive_one(sqs, bad_url)["Body"])
    assert record["requestContext"]["requestId"] == bad_id
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responsePayload"]["errorMessage"] == "bad"


def test_sns_destination(lambda_client: Any, sqs: Any, server: Any) -> None:
    sns = client_for(server.url, "sns")
    topic = sns.create_topic(Name=unique("t"))["TopicArn"]
    url, arn = make_queue(sqs)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    name = unique()
    create_python(lambda_client, name)
    lambda_client.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": topic}}
    )
    request_id = event_invoke(lambda_client, name, {"via": "sns"})
    envelope = json.loads(receive_one(sqs, url)["Body"])
    assert envelope["Type"] == "Notification" and envelope["TopicArn"] == topic
    record = json.loads(envelope["Message"])
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestPayload"] == {"via": "sns"}


def test_eventbridge_destination_envelope(lambda_client: Any, sqs: Any, server: Any) -> None:
    events = client_for(server.url, "events")
    bus = unique("bus")
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    url, arn = make_queue(sqs)
    events.put_rule(
        Name="all-lambda", EventBusName=bus, EventPattern=json.dumps({"source": ["lambda"]})
    )
    events.put_targets(Rule="all-lambda", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    name = unique()
    create_python(lambda_client, name)
    lambda_client.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": bus_arn}},
    )
    request_id = event_invoke(lambda_client, name, {"fail": True})
    envelope = json.loads(receive_one(sqs, url)["Body"])
    assert envelope["source"] == "lambda"
    assert envelope["detail-type"] == "Lambda Function Invocation Result - Failure"
    assert envelope["resources"] == [bus_arn, f"{ARN}{name}:$LATEST"]
    assert envelope["detail"]["requestContext"]["requestId"] == request_id
    assert envelope["detail"]["responseContext"]["functionError"] == "Unhandled"


def test_fifo_destination_fails_visibly(lambda_client: Any, sqs: Any, server: Any) -> None:
    _, fifo_arn = make_queue(sqs, unique("f") + ".fifo", FifoQueue="true")
    name = unique()
    create_python(lambda_client, name)
    lambda_client.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": fifo_arn}}
    )
    request_id = event_invoke(lambda_client, name, {})

    def delivery_failed() -> dict[str, Any] | None:
        event = wait_terminal(server.url, request_id)
        delivery = event["deliveries"][0]
        return delivery if delivery["state"] == "failed" else None

    delivery = wait_until(delivery_failed, timeout=30, message="the delivery to fail")
    assert delivery["target"] == fifo_arn and delivery["failures"]
    metrics = httpx.get(f"{server.url}/metrics").text
    assert f'DestinationDeliveryFailures_total{{function_name="{name}"' in metrics


def test_missing_queue_is_retried_then_counted(lambda_client: Any, sqs: Any, server: Any) -> None:
    url, arn = make_queue(sqs)
    name = unique()
    create_python(lambda_client, name)
    lambda_client.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}}
    )
    sqs.delete_queue(QueueUrl=url)  # the destination is down
    request_id = event_invoke(lambda_client, name, {})
    event = wait_terminal(server.url, request_id)
    assert event["state"] == "succeeded"  # the invocation itself succeeded

    def failed() -> bool:
        return bool(wait_terminal(server.url, request_id)["deliveries"][0]["state"] == "failed")

    wait_until(failed, timeout=30, message="delivery to be given up")


def test_dead_letter_queue_gets_the_event_with_attributes(
    lambda_client: Any, sqs: Any, server: Any
) -> None:
    dlq_url, dlq_arn = make_queue(sqs)
    dest_url, dest_arn = make_queue(sqs)
    name = unique()
    create_python(lambda_client, name, DeadLetterConfig={"TargetArn": dlq_arn})
    lambda_client.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": dest_arn}},
    )
    long_message = "x" * 3000
    request_id = event_invoke(lambda_client, name, {"fail": True, "message": long_message})
    msg = receive_one(sqs, dlq_url, MessageAttributeNames=["All"])
    assert json.loads(msg["Body"]) == {"fail": True, "message": long_message}
    attrs = msg["MessageAttributes"]
    assert attrs["RequestID"] == {"StringValue": request_id, "DataType": "String"}
    assert attrs["ErrorCode"] == {"StringValue": "200", "DataType": "Number"}
    assert attrs["ErrorMessage"]["StringValue"] == "x" * 1024
    record = json.loads(receive_one(sqs, dest_url)["Body"])  # the destination got it too
    assert record["requestContext"]["requestId"] == request_id


def test_sns_dead_letter_target(lambda_client: Any, sqs: Any, server: Any) -> None:
    sns = client_for(server.url, "sns")
    topic = sns.create_topic(Name=unique("dlt"))["TopicArn"]
    url, arn = make_queue(sqs)
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    name = unique()
    create_python(lambda_client, name, DeadLetterConfig={"TargetArn": topic})
    lambda_client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    request_id = event_invoke(lambda_client, name, {"fail": True, "message": "to sns"})
    msg = receive_one(sqs, url, MessageAttributeNames=["All"])
    assert json.loads(msg["Body"]) == {"fail": True, "message": "to sns"}
    assert msg["MessageAttributes"]["RequestID"]["StringValue"] == request_id
    assert msg["MessageAttributes"]["ErrorMessage"]["StringValue"] == "to sns"


def test_a_record_delivered_at_once_is_shown_without_a_delivery_job(
    lambda_client: Any, sqs: Any, server: Any
) -> None:
    """A destination that takes the record at once gets it before the event settles, and
    the event names the delivery itself (no delivery job is stored for it)."""
    url, arn = make_queue(sqs)
    name = unique()
    create_python(lambda_client, name)
    lambda_client.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}}
    )
    request_id = event_invoke(lambda_client, name, {"n": 1})
    message = receive_one(sqs, url)
    event = wait_terminal(server.url, request_id)
    (delivery,) = event["deliveries"]
    assert delivery["state"] == "succeeded" and "job" not in delivery
    assert delivery["result"]["message_id"] == message["MessageId"]
    assert delivery["delivered_at"] <= event["body"]["outcome"]["at"] + 1
    jobs = httpx.get(
        f"{server.url}/_sendoff/events", params={"kind": "deliver", "limit": 1000}
    ).json()["events"]
    assert not [j for j in jobs if j.get("target") == arn]
