"""Recursive loops are stopped after 16 invocations of a function in one chain, whatever
the path (facts §7.2): destinations (SNS, EventBridge, SQS), SDK calls from inside the
function (Invoke, SNS Publish, EventBridge PutEvents), with retries counting once. The
dropped event goes to OnFailure and the DLQ and counts RecursiveInvocationsDropped."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from tests.conftest import client_for
from tests.support.functions import create_python, unique
from tests.support.server import ServerProcess, wait_until

OK = "def handler(event, context):\n    return 'ok'\n"

SELF_INVOKER = """
import json, boto3
def handler(event, context):
    depth = event.get("depth", 0) + 1
    if depth < event.get("stop_at", 100):
        boto3.client("lambda").invoke(FunctionName=context.function_name, InvocationType="Event",
                                      Payload=json.dumps({**event, "depth": depth}))
    return depth
"""

# Fails the first attempt of every invocation (a queue named after the request marks it
# as tried: sendoff's own SQS is reachable from every sandbox), then invokes itself.
FLAKY_SELF_INVOKER = """
import json, boto3
def handler(event, context):
    sqs = boto3.client("sqs")
    mark = "tried-" + context.aws_request_id
    try:
        sqs.get_queue_url(QueueName=mark)
    except sqs.exceptions.QueueDoesNotExist:
        sqs.create_queue(QueueName=mark)
        raise RuntimeError("first attempt fails")
    boto3.client("lambda").invoke(FunctionName=context.function_name, InvocationType="Event",
                                  Payload=json.dumps(event))
    return "retried"
"""

# Invokes itself synchronously and answers how deep the chain went and what stopped it.
SYNC_SELF_INVOKER = """
import json, boto3
from botocore.config import Config
def handler(event, context):
    depth = event.get("depth", 0) + 1
    client = boto3.client("lambda", config=Config(retries={"max_attempts": 1}))
    try:
        answer = client.invoke(FunctionName=context.function_name,
                               Payload=json.dumps({"depth": depth}))
    except client.exceptions.RecursiveInvocationException as error:
        return {"depth": depth, "stopped": error.response["Error"]["Code"]}
    return json.loads(answer["Payload"].read())
"""

RELAY = """
import boto3, os
def handler(event, context):
    boto3.client("lambda").invoke(FunctionName=os.environ["TARGET"], InvocationType="Event",
                                  Payload=b"{}")
    return "relayed"
"""

PUT_EVENTS_LOOP = """
import boto3
def handler(event, context):
    boto3.client("events").put_events(Entries=[
        {"Source": "loop.test", "DetailType": "again", "Detail": "{}", "EventBusName": "%s"}])
    return "put"
"""


def _events(server: ServerProcess, name: str) -> list[dict[str, Any]]:
    # The function's key, not its bare name: a bare name filters after the page limit.
    key = f"000000000000/us-east-1/{name}"
    page = httpx.get(f"{server.url}/_sendoff/events", params={"function": key}).json()
    return [e for e in page["events"] if e["function"] == name]


def _wait_stopped(server: ServerProcess, name: str) -> list[dict[str, Any]]:
    """Every event of the chain, once the loop was stopped and nothing is left running."""

    def stopped() -> list[dict[str, Any]] | None:
        events = _events(server, name)
        states = [e["state"] for e in events]
        if "failed" in states and all(s in ("succeeded", "failed") for s in states):
            return events
        return None

    return wait_until(stopped, timeout=180, message=f"the loop of {name} to be stopped")


def _assert_stopped_after_16(server: ServerProcess, name: str) -> None:
    events = _wait_stopped(server, name)
    failed = [e for e in events if e["state"] == "failed"]
    assert [e["condition"] for e in failed] == ["RecursiveInvocationDetected"]
    assert sum(1 for e in events if e["state"] == "succeeded") == 16
    metrics = httpx.get(f"{server.url}/metrics").text
    assert f'RecursiveInvocationsDropped_total{{function_name="{name}",resource="{name}"}} 1.0' in (
        metrics
    )


def _arn(lambda_client: Any, name: str) -> str:
    return str(lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"])


def _queue(server: ServerProcess) -> tuple[Any, str, str]:
    sqs = client_for(server.url, "sqs")
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return sqs, url, arn


def _receive(sqs: Any, url: str, count: int) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []

    def enough() -> bool:
        answer = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            MessageSystemAttributeNames=["AWSTraceHeader"],
            MessageAttributeNames=["All"],
        )
        got.extend(answer.get("Messages", []))
        return len(got) >= count

    wait_until(enough, timeout=60, message=f"{count} messages")
    return got


def _sns_destination_loop(
    lambda_client: Any, server: ServerProcess, loop: str
) -> tuple[str, str, str]:
    """fn -> OnSuccess SNS topic -> relay -> Invoke(fn): the relay hands fn a small event,
    so the loop is not cut short by the record growing (see the test below)."""
    sns = client_for(server.url, "sns")
    topic = sns.create_topic(Name=unique("dest"))["TopicArn"]
    name, relay = unique("snsdest"), unique("relay")
    create_python(lambda_client, name, source=OK)
    create_python(lambda_client, relay, source=RELAY, Environment={"Variables": {"TARGET": name}})
    for function in (name, relay):
        lambda_client.put_function_recursion_config(FunctionName=function, RecursiveLoop=loop)
    subscription = sns.subscribe(
        TopicArn=topic, Protocol="lambda", Endpoint=_arn(lambda_client, relay)
    )["SubscriptionArn"]
    lambda_client.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": topic}}
    )
    lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    return name, relay, subscription


def test_loop_through_an_sns_destination_is_stopped_after_16(
    lambda_client: Any, server: ServerProcess
) -> None:
    name, relay, _ = _sns_destination_loop(lambda_client, server, "Terminate")
    _assert_stopped_after_16(server, name)
    assert sum(1 for e in _events(server, relay) if e["state"] == "succeeded") == 16


def test_a_self_loop_through_an_sns_destination_ends_on_the_topic_size_limit(
    lambda_client: Any, server: ServerProcess
) -> None:
    """fn -> OnSuccess SNS -> fn: each record embeds the previous one as an escaped JSON
    string, so it roughly doubles at every hop and passes SNS's 256 KiB before the 16th
    invocation: the 12th record cannot be published (DestinationDeliveryFailures), as
    on AWS. The lineage still counts one per invocation."""
    sns = client_for(server.url, "sns")
    topic = sns.create_topic(Name=unique("dest"))["TopicArn"]
    name = unique("snsself")
    create_python(lambda_client, name, source=OK)
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=_arn(lambda_client, name))
    lambda_client.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": topic}}
    )
    lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    labels = f'function_name="{name}",resource="{name}:$LATEST"'
    failures = f"DestinationDeliveryFailures_total{{{labels}}} 1.0"
    wait_until(
        lambda: failures in httpx.get(f"{server.url}/metrics").text,
        timeout=180,
        message="the oversized record to fail delivery",
    )
    events = _events(server, name)
    assert [e["state"] for e in events] == ["succeeded"] * 12
    counts = []
    for event in events:
        body = httpx.get(f"{server.url}/_sendoff/events/{event['id']}").json()["body"]
        counts.append(int(body["trace_header"].rsplit(":", 1)[1]))
    assert counts == list(range(1, 13))


def test_loop_through_an_eventbridge_destination_is_stopped_after_16(
    lambda_client: Any, server: ServerProcess
) -> None:
    events = client_for(server.url, "events")
    bus = unique("bus")
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    name = unique("ebdest")
    create_python(lambda_client, name, source=OK)
    events.put_rule(Name="again", EventBusName=bus, EventPattern=json.dumps({"source": ["lambda"]}))
    events.put_targets(
        Rule="again", EventBusName=bus, Targets=[{"Id": "fn", "Arn": _arn(lambda_client, name)}]
    )
    lambda_client.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": bus_arn}}
    )
    lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    _assert_stopped_after_16(server, name)


def test_loop_through_put_events_from_the_function_is_stopped_after_16(
    lambda_client: Any, server: ServerProcess
) -> None:
    events = client_for(server.url, "events")
    bus = unique("bus")
    events.create_event_bus(Name=bus)
    name = unique("ebsdk")
    create_python(lambda_client, name, source=PUT_EVENTS_LOOP % bus)
    events.put_rule(
        Name="again", EventBusName=bus, EventPattern=json.dumps({"source": ["loop.test"]})
    )
    events.put_targets(
        Rule="again", EventBusName=bus, Targets=[{"Id": "fn", "Arn": _arn(lambda_client, name)}]
    )
    lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    _assert_stopped_after_16(server, name)


def test_retries_count_once_in_the_chain(lambda_client: Any, server: ServerProcess) -> None:
    name = unique("flaky")
    create_python(lambda_client, name, source=FLAKY_SELF_INVOKER)
    lambda_client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    _assert_stopped_after_16(server, name)
    succeeded = [e for e in _events(server, name) if e["state"] == "succeeded"]
    assert all(e["attempts"] == 2 for e in succeeded)


def test_sqs_destination_messages_carry_the_chain_count(
    lambda_client: Any, server: ServerProcess
) -> None:
    sqs, url, arn = _queue(server)
    name = unique("sqsdest")
    create_python(lambda_client, name, source=SELF_INVOKER)
    lambda_client.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}}
    )
    lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"stop_at": 3}')
    messages = _receive(sqs, url, 3)
    counts = {}
    for message in messages:
        header = message["Attributes"]["AWSTraceHeader"]
        lineage = re.search(r"Lineage=([^;]*)", header)
        assert lineage is not None, header
        entries = lineage.group(1).split("|")
        assert len(entries) == 1 and re.fullmatch(r"1:[0-9a-f]{8}:\d+", entries[0])
        counts[json.loads(message["Body"])["responsePayload"]] = int(entries[0].split(":")[2])
    assert counts == {1: 1, 2: 2, 3: 3}  # the depth-th invocation of the chain carries depth


def test_dropped_event_goes_to_on_failure_and_the_dlq(
    lambda_client: Any, server: ServerProcess
) -> None:
    sqs, failure_url, failure_arn = _queue(server)
    _, dlq_url, dlq_arn = _queue(server)
    name = unique("loopdlq")
    create_python(lambda_client, name, source=SELF_INVOKER, DeadLetterConfig={"TargetArn": dlq_arn})
    lambda_client.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnFailure": {"Destination": failure_arn}}
    )
    lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"start": 1}')
    _assert_stopped_after_16(server, name)
    (failure,) = _receive(sqs, failure_url, 1)
    record = json.loads(failure["Body"])
    assert record["requestContext"]["condition"] == "RecursiveInvocationDetected"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert record["requestPayload"] == {"start": 1, "depth": 16}
    assert "responsePayload" not in record and "responseContext" not in record
    (dead,) = _receive(sqs, dlq_url, 1)
    assert json.loads(dead["Body"]) == {"start": 1, "depth": 16}
    attributes = dead["MessageAttributes"]
    assert attributes["ErrorMessage"]["StringValue"].startswith(
        "Lambda has detected your function being invoked in a recursive loop"
    )
    assert "ErrorCode" not in attributes


def test_allow_lets_a_destination_loop_run_past_16(
    lambda_client: Any, server: ServerProcess
) -> None:
    name, _, subscription = _sns_destination_loop(lambda_client, server, "Allow")
    sns = client_for(server.url, "sns")
    try:
        wait_until(
            lambda: sum(1 for e in _events(server, name) if e["state"] == "succeeded") >= 18,
            timeout=180,
            message="18 invocations of the allowed loop",
        )
    finally:
        sns.unsubscribe(SubscriptionArn=subscription)  # end the loop
    assert all(e["state"] != "failed" for e in _events(server, name))


def test_a_synchronous_self_loop_is_refused_at_the_17th_call(
    lambda_client: Any, server: ServerProcess
) -> None:
    name = unique("syncloop")
    create_python(lambda_client, name, source=SYNC_SELF_INVOKER, Timeout=60)
    answer = lambda_client.invoke(FunctionName=name, Payload=b"{}")
    assert json.loads(answer["Payload"].read()) == {
        "depth": 16,
        "stopped": "RecursiveInvocationException",
    }
    metrics = httpx.get(f"{server.url}/metrics").text
    assert f'RecursiveInvocationsDropped_total{{function_name="{name}",resource="{name}"}} 1.0' in (
        metrics
    )
