"""Issue 17's inputs, one by one, against the fuzz server: each answered 500, dropped the
connection, was stored wrongly or produced an unparseable error body before."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from tests.fuzz.conftest import TINY_ZIP
from tests.fuzz.runner import ROLE, Resources
from tests.fuzz.wire import Deep, auth_header

DEEP_LIST = Deep("list").text().encode()  # 100,000 levels
FUNCTIONS = "/2015-03-31/functions"


def lambda_error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, response.headers["x-amzn-errortype"], body.get("message", "")


def json_error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["__type"].rsplit("#", 1)[-1]


def xml_code(response: httpx.Response) -> str | None:
    node = ElementTree.fromstring(response.content).find(".//{*}Error/{*}Code")
    return None if node is None else node.text


def new_function(**extra: Any) -> dict[str, Any]:
    return {
        "FunctionName": f"fz-{uuid.uuid4().hex[:10]}",
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": base64.b64encode(TINY_ZIP).decode()},
        **extra,
    }


def sqs(http: httpx.Client, operation: str, body: bytes) -> httpx.Response:
    headers = {
        "x-amz-target": f"AmazonSQS.{operation}",
        "content-type": "application/x-amz-json-1.0",
        "authorization": auth_header("sqs").decode(),
    }
    return http.post("/", content=body, headers=headers)


def events(http: httpx.Client, operation: str, body: Any) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "x-amz-target": f"AWSEvents.{operation}",
        "content-type": "application/x-amz-json-1.1",
        "authorization": auth_header("events").decode(),
    }
    return http.post("/", content=content, headers=headers)


def sns(http: httpx.Client, body: str | dict[str, str]) -> httpx.Response:
    headers = {"authorization": auth_header("sns").decode()}
    if isinstance(body, dict):
        return http.post("/", data=body, headers=headers)
    headers["content-type"] = "application/x-www-form-urlencoded"
    return http.post("/", content=body.encode(), headers=headers)


# ---------------------------------------------------------------- Lambda: wrong types
@pytest.mark.parametrize(
    "member",
    [
        {"DeadLetterConfig": "x"},
        {"TracingConfig": [1]},
        {"EphemeralStorage": 5},
        {"EphemeralStorage": {"Size": "huge"}},
        {"Architectures": "x86_64"},
        {"Tags": [1, 2]},
    ],
)
def test_create_function_refuses_wrong_types(http: httpx.Client, member: dict[str, Any]) -> None:
    body = new_function(**member)
    response = http.post(FUNCTIONS, json=body)
    status, code, message = lambda_error(response)
    assert (status, code) == (400, "InvalidRequestContentException"), response.text
    assert message.startswith("Could not parse request body into json: ")
    assert http.get(f"{FUNCTIONS}/{body['FunctionName']}").status_code == 404  # not stored


def test_update_configuration_refuses_wrong_types(http: httpx.Client) -> None:
    for member in ({"DeadLetterConfig": "x"}, {"TracingConfig": [1]}, {"EphemeralStorage": 5}):
        response = http.put(f"{FUNCTIONS}/fuzz-scratch/configuration", json=member)
        assert lambda_error(response)[:2] == (400, "InvalidRequestContentException"), member


def test_constraint_violations_use_aws_wording(http: httpx.Client) -> None:
    response = http.post(FUNCTIONS, json=new_function(Architectures=["X86_64"]))
    assert lambda_error(response) == (
        400,
        "ValidationException",
        "1 validation error detected: Value '[X86_64]' at 'architectures' failed to satisfy"
        " constraint: Member must satisfy constraint: [Member must satisfy enum value set:"
        " [x86_64, arm64], Member must not be null]",
    )
    response = http.post(FUNCTIONS, json=new_function(EphemeralStorage={"Size": 99999}))
    assert lambda_error(response)[2] == (
        "1 validation error detected: Value '99999' at 'ephemeralStorage.size' failed to"
        " satisfy constraint: Member must have value less than or equal to 10240"
    )


def test_architectures_stored_as_given(http: httpx.Client) -> None:
    body = new_function(Architectures=["arm64"])
    created = http.post(FUNCTIONS, json=body)
    assert created.status_code == 201, created.text
    try:
        assert created.json()["Architectures"] == ["arm64"]
    finally:
        http.delete(f"{FUNCTIONS}/{body['FunctionName']}")


def test_layers_are_refused_not_ignored(http: httpx.Client) -> None:
    arn = "arn:aws:lambda:us-east-1:000000000000:layer:shared:1"
    status, code, message = lambda_error(http.post(FUNCTIONS, json=new_function(Layers=[arn])))
    assert (status, code) == (400, "InvalidParameterValueException")
    assert message.startswith(f"Layer version {arn} does not exist.")
    status, code, _ = lambda_error(http.post(FUNCTIONS, json=new_function(Layers=["nope"])))
    assert (status, code) == (400, "ValidationException")


def test_alias_routing_config_of_wrong_type(http: httpx.Client) -> None:
    response = http.put(f"{FUNCTIONS}/fuzz-ok/aliases/live", json={"RoutingConfig": "x"})
    assert lambda_error(response)[:2] == (400, "InvalidRequestContentException")
    response = http.put(
        f"{FUNCTIONS}/fuzz-ok/aliases/live",
        json={"RoutingConfig": {"AdditionalVersionWeights": [1]}},
    )
    assert lambda_error(response)[:2] == (400, "InvalidRequestContentException")


@pytest.mark.parametrize("config", ["x", {"OnFailure": [1]}, {"OnSuccess": "arn"}])
def test_destination_config_of_wrong_type(http: httpx.Client, config: Any) -> None:
    path = "/2019-09-25/functions/fuzz-scratch/event-invoke-config"
    for method in ("PUT", "POST"):
        response = http.request(method, path, json={"DestinationConfig": config})
        assert lambda_error(response)[:2] == (400, "InvalidRequestContentException"), method


# ---------------------------------------------------------------- 100,000-deep JSON
def test_deep_json_on_lambda(http: httpx.Client, resources: Resources) -> None:
    response = http.post(FUNCTIONS, content=DEEP_LIST)
    assert lambda_error(response)[:2] == (400, "InvalidRequestContentException")
    for invocation_type in ("RequestResponse", "Event"):
        response = http.post(
            f"{FUNCTIONS}/fuzz-ok/invocations",
            content=DEEP_LIST,
            headers={"x-amz-invocation-type": invocation_type},
        )
        status, code, message = lambda_error(response)
        assert (status, code) == (400, "InvalidRequestContentException")
        assert "nesting depth" in message


def test_deep_json_on_sqs(http: httpx.Client, resources: Resources) -> None:
    response = sqs(http, "SendMessage", b'{"QueueUrl": ' + DEEP_LIST + b"}")
    assert json_error(response) == (400, "InvalidParameterValueException")
    # a deep body inside a string member is just text to SQS
    body = json.dumps({"QueueUrl": resources.queue_url, "MessageBody": DEEP_LIST.decode()})
    assert sqs(http, "SendMessage", body.encode()).status_code == 200


def test_deep_json_on_eventbridge(http: httpx.Client) -> None:
    assert json_error(events(http, "PutEvents", DEEP_LIST)) == (400, "SerializationException")
    entry = {"Source": "fz", "DetailType": "fz", "Detail": DEEP_LIST.decode()}
    response = events(http, "PutEvents", {"Entries": [entry]})
    assert response.status_code == 200  # the entry fails alone, as AWS reports it
    assert response.json()["Entries"][0]["ErrorCode"] == "MalformedDetail"
    response = events(http, "TestEventPattern", {"EventPattern": '{"source": ["a"]}',
                                                 "Event": DEEP_LIST.decode()})  # fmt: skip
    assert json_error(response)[0] == 400
    response = events(http, "PutRule", {"Name": "fz-deep", "EventPattern": DEEP_LIST.decode()})
    assert response.status_code == 400


def test_deep_json_on_sns_message_structure(http: httpx.Client, resources: Resources) -> None:
    response = sns(
        http,
        {"Action": "Publish", "TopicArn": resources.topic_arn, "MessageStructure": "json",
         "Message": DEEP_LIST.decode()},  # 200 kB: under the 256 KB message limit
    )  # fmt: skip
    assert response.status_code == 400
    assert xml_code(response) == "InvalidParameter"


# ---------------------------------------------------------------- other inputs
def test_put_events_time_out_of_range(http: httpx.Client) -> None:
    entry = {"Source": "fz", "DetailType": "fz", "Detail": "{}", "Time": 1e20}
    response = events(http, "PutEvents", {"Entries": [entry]})
    assert json_error(response) == (400, "ValidationException")
    assert "entries.1.member.time" in response.json()["message"]


def test_schedule_expression_fields_checked(http: httpx.Client) -> None:
    response = events(http, "PutRule", {"Name": "fz-cron", "ScheduleExpression":
                                        "cron(99 99 * * ? *)"})  # fmt: skip
    assert json_error(response) == (400, "ValidationException")
    assert response.json()["message"] == "Parameter ScheduleExpression is not valid."
    response = events(http, "PutRule", {"Name": "fz-cron", "ScheduleExpression":
                                        "cron(0/15 8-17 ? * MON-FRI *)"})  # fmt: skip
    assert response.status_code == 200, response.text


def test_sns_index_that_is_a_digit_but_not_a_number(http: httpx.Client) -> None:
    body = "Action=CreateTopic&Name=fz-sup&Attributes.entry.%C2%B2.key=DisplayName"
    response = sns(http, body)
    assert response.status_code == 200, response.text
    ElementTree.fromstring(response.content)


def test_sns_error_body_with_control_characters_parses(
    http: httpx.Client, resources: Resources
) -> None:
    # the error message repeats the attribute name, \x11 included: XML 1.0 cannot carry it
    response = sns(
        http,
        {"Action": "Publish", "TopicArn": resources.topic_arn, "Message": "m",
         "MessageAttributes.entry.1.Name": "bad\x11name",
         "MessageAttributes.entry.1.Value.DataType": "String",
         "MessageAttributes.entry.1.Value.StringValue": "v"},
    )  # fmt: skip
    assert response.status_code == 400
    assert xml_code(response) == "InvalidParameter"


def test_code_link_with_a_bad_token(http: httpx.Client) -> None:
    # Code.Location is a signed, expiring URL: a token sendoff did not sign is refused,
    # as S3 refuses a bad presigned URL (it used to answer 500).
    assert http.get("/_sendoff/code/a").status_code == 403


def test_internal_endpoints_refuse_bad_parameters(http: httpx.Client) -> None:
    assert http.get("/_sendoff/logs/fuzz-ok?after=abc").status_code == 400
    assert http.get("/_sendoff/events?state=bogus").status_code == 400
    assert http.get("/_sendoff/events?limit=x").status_code == 400
    # found by the fuzzer: SQLite's INTEGER overflowed (500, then a reset connection)
    assert http.get("/_sendoff/logs/fuzz-ok?after=99999999999999999999").status_code == 400
    response = http.post("/_sendoff/events/redrive", content=DEEP_LIST)
    assert response.status_code == 400 and "message" in response.json()
    assert http.post("/_sendoff/events/redrive", json={"ids": "x"}).status_code == 400


# ---------------------------------------------------------------- malformed error bodies
@pytest.mark.parametrize("target", ['Bogus"Svc.Op', 'AmazonSQS"X', "x\\y.z", 'AWSEvents.Bo"gus'])
def test_unknown_targets_answer_valid_json(http: httpx.Client, target: str) -> None:
    response = http.post("/", content=b"{}", headers={"x-amz-target": target})
    assert response.status_code == 400
    assert response.json()["__type"].endswith("UnknownOperationException")


def test_unknown_sqs_operation_answers_as_aws(http: httpx.Client) -> None:
    response = sqs(http, "Bogus", b"{}")
    assert response.status_code == 400
    assert response.json() == {"__type": "com.amazon.coral.service#UnknownOperationException"}


def test_unknown_query_action_answers_xml(http: httpx.Client) -> None:
    response = http.post("/", data={"Action": 'Frob"<nicate\x05'})
    assert response.status_code == 400
    assert xml_code(response) == "InvalidAction"


@pytest.mark.parametrize(
    "path", ["/2015-03-31/functions//aliases", "/2015-03-31/functions/a%2Fb/versions"]
)
def test_unroutable_lambda_path_answers_json(http: httpx.Client, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 404
    assert response.headers["x-amzn-errortype"] == "UnknownOperationException"
    assert "message" in response.json()


def test_event_payload_depth_accepted_only_when_it_can_run(http: httpx.Client) -> None:
    """977 levels were accepted, then failed in the worker's handler for ever (issue 17);
    now the API refuses what the worker could not parse, and what it accepts ends."""
    from tests.fuzz.test_fuzz_lambda import wait_terminal

    def invoke(depth: int) -> httpx.Response:
        return http.post(
            f"{FUNCTIONS}/fuzz-ok/invocations",
            content=Deep("list", depth).text().encode(),
            headers={"x-amz-invocation-type": "Event"},
        )

    for depth in (901, 977, 979):
        status, code, message = lambda_error(invoke(depth))
        assert (status, code) == (400, "InvalidRequestContentException"), depth
        assert message.endswith("Document nesting depth exceeds the maximum allowed (900)")
    accepted = invoke(900)
    assert accepted.status_code == 202
    assert not wait_terminal(http, [accepted.headers["x-amzn-requestid"]])
    event = http.get(f"/_sendoff/events/{accepted.headers['x-amzn-requestid']}").json()
    assert event["state"] == "succeeded"


def test_sns_form_with_15000_members_answers_at_once(
    http: httpx.Client, resources: Resources
) -> None:
    """Found by the fuzzer: each index scanned every key, so 50,000 batch entries held the
    event loop (and every other request) for minutes. (50,000 no longer fit in the 2 MiB
    a query request may have: 15,000 still took minutes before the fix.)"""
    pairs = [("Action", "PublishBatch"), ("TopicArn", resources.topic_arn)]
    for i in range(1, 15_001):
        pairs += [(f"PublishBatchRequestEntries.member.{i}.Id", f"e{i}"),
                  (f"PublishBatchRequestEntries.member.{i}.Message", "m")]  # fmt: skip
    started = time.monotonic()
    response = sns(http, "&".join(f"{k}={v}" for k, v in pairs))
    assert time.monotonic() - started < 5
    assert response.status_code == 400
    assert xml_code(response) == "TooManyEntriesInBatchRequest"
