"""provided* runtimes: the user's `bootstrap` speaks the Runtime API itself.

Running AWS's own runtime client (awslambdaric) against sendoff's Runtime API is the
conformance check; a raw HTTP client probes the protocol's error statuses.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.executor.executor_harness import Harness

AWSLAMBDARIC_BOOTSTRAP = "#!/bin/sh\nexec python3 -m awslambdaric app.handler\n"

APP = """\
import os


def handler(event, context):
    if event.get("fail"):
        raise KeyError("missing thing")
    print("awslambdaric handled", event)
    return {
        "event": event,
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "remaining_ok": 0 < context.get_remaining_time_in_millis() <= 5000,
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
        "client_context": context.client_context.custom if context.client_context else None,
        "cwd": os.getcwd(),
        "task_root": os.environ["LAMBDA_TASK_ROOT"],
        "execution_env": os.environ.get("AWS_EXECUTION_ENV"),
    }
"""

# A raw client that probes the Runtime API's answers and reports them in its responses.
PROBE_BOOTSTRAP = """\
#!/usr/bin/env python3
import http.client, json, os

conn = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
BASE = "/2018-06-01/runtime"


def call(method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, dict(response.getheaders()), response.read()


# invocation 1: protocol checks while an invocation is in flight
status, headers, body = call("GET", BASE + "/invocation/next")
rid = headers["Lambda-Runtime-Aws-Request-Id"]
report = {"next_status": status, "next_headers": headers, "event": json.loads(body)}
bogus = call("POST", BASE + "/invocation/not-a-request/response", b"{}")
report["bogus"] = [bogus[0], json.loads(bogus[2])]
report["unknown_path"] = call("GET", BASE + "/nope")[0]
report["wrong_method"] = call("GET", BASE + "/invocation/" + rid + "/response")[0]
first = call("POST", BASE + "/invocation/" + rid + "/response", json.dumps(report).encode())
second = call("POST", BASE + "/invocation/" + rid + "/response", b"{}")
error_after = call("POST", BASE + "/invocation/" + rid + "/error", b"{}")

# invocation 2: report what the double post got
status, headers, body = call("GET", BASE + "/invocation/next")
rid2 = headers["Lambda-Runtime-Aws-Request-Id"]
late = call("POST", BASE + "/invocation/" + rid + "/response", b"{}")
answer = {
    "first": [first[0], json.loads(first[2])],
    "second": [second[0], json.loads(second[2])],
    "error_after": error_after[0],
    "late_previous": late[0],
}
call("POST", BASE + "/invocation/" + rid2 + "/response", json.dumps(answer).encode())

# invocation 3: a response above the limit
status, headers, body = call("GET", BASE + "/invocation/next")
rid3 = headers["Lambda-Runtime-Aws-Request-Id"]
too_big = call("POST", BASE + "/invocation/" + rid3 + "/response", b"x" * (6 * 1024 * 1024 + 101))

# invocation 4: report the 413 and use the error route with its header
status, headers, body = call("GET", BASE + "/invocation/next")
rid4 = headers["Lambda-Runtime-Aws-Request-Id"]
seen = str(too_big[0]) + " " + json.loads(too_big[2])["errorType"]
error_body = {"errorMessage": "413 was " + seen, "errorType": "Custom.Thing"}
call("POST", BASE + "/invocation/" + rid4 + "/error", json.dumps(error_body).encode(),
     {"Lambda-Runtime-Function-Error-Type": "Custom.Thing"})

status, headers, body = call("GET", BASE + "/invocation/next")
"""


def _provided(harness: Harness, files: dict[str, object], **kw: object):
    return harness.function(files, runtime="provided.al2023", handler="ignored", **kw)


def test_awslambdaric_runs_against_the_runtime_api(harness: Harness) -> None:
    pytest.importorskip("awslambdaric")
    spec = _provided(harness, {"bootstrap": (AWSLAMBDARIC_BOOTSTRAP, 0o755), "app.py": APP})
    request = harness.request(
        spec,
        b'{"hello": "world"}',
        request_id="ric-1",
        invoked_function_arn=spec.function_arn + ":prod",
        trace_id="Root=1-65f00000-aaaaaaaaaaaaaaaaaaaaaaaa;Sampled=0",
        client_context='{"custom": {"c": 1}, "client": {}, "env": {}}',
    )

    async def scenario(executor):
        ok = await executor.invoke(spec, request)
        bad = await executor.invoke(
            spec, harness.request(spec, b'{"fail": true}', request_id="ric-2")
        )
        again = await executor.invoke(spec, harness.request(spec, b'{"n": 3}'))
        return ok, bad, again

    ok, bad, again = harness.run(scenario)
    body = json.loads(ok.payload)
    assert ok.function_error is None, ok.payload
    assert body["event"] == {"hello": "world"}
    assert body["request_id"] == "ric-1"
    assert body["arn"] == spec.function_arn + ":prod"
    assert body["remaining_ok"] is True
    assert body["trace"] == request.trace_id
    assert body["client_context"] == {"c": 1}
    assert body["cwd"] == body["task_root"]
    assert body["execution_env"] is None  # not set on provided runtimes
    assert "awslambdaric handled {'hello': 'world'}" in ok.log

    error = json.loads(bad.payload)
    assert bad.function_error == "Unhandled" and bad.error_type == "KeyError"
    assert set(error) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert error["errorMessage"] == "'missing thing'" and error["requestId"] == "ric-2"
    assert error["stackTrace"][0].startswith('  File "')
    assert json.loads(again.payload)["event"] == {"n": 3} and not again.cold_start


def test_runtime_api_status_codes(harness: Harness) -> None:
    spec = _provided(harness, {"bootstrap": (PROBE_BOOTSTRAP, 0o755)})

    async def scenario(executor):
        results = []
        for n in range(4):
            request = harness.request(
                spec, json.dumps({"n": n}).encode(), request_id=f"probe-{n}", trace_id="T-1"
            )
            results.append(await executor.invoke(spec, request))
        return results

    first, second, third, fourth = harness.run(scenario)
    report = json.loads(first.payload)
    assert report["next_status"] == 200
    headers = report["next_headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["Lambda-Runtime-Aws-Request-Id"] == "probe-0"
    assert headers["Lambda-Runtime-Invoked-Function-Arn"] == spec.function_arn
    assert headers["Lambda-Runtime-Trace-Id"] == "T-1"
    assert int(headers["Lambda-Runtime-Deadline-Ms"]) > 1_600_000_000_000
    assert headers["Content-Length"] == str(len(b'{"n": 0}'))
    assert "Lambda-Runtime-Client-Context" not in headers
    assert report["event"] == {"n": 0}
    assert report["bogus"] == [
        400,
        {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"},
    ]
    assert report["unknown_path"] == 404
    assert report["wrong_method"] == 405

    answer = json.loads(second.payload)
    assert answer["first"] == [202, {"status": "OK"}]
    assert answer["second"][0] == 403
    assert answer["second"][1]["errorType"] == "InvalidStateTransition"
    assert answer["error_after"] == 403
    assert answer["late_previous"] == 403

    assert third.error_type == "Function.ResponseSizeTooLarge"
    assert fourth.error_type == "Custom.Thing"
    assert json.loads(fourth.payload)["errorMessage"] == "413 was 413 RequestEntityTooLarge"
    assert not fourth.cold_start


def test_bootstrap_that_exits_during_init(harness: Harness) -> None:
    spec = _provided(
        harness, {"bootstrap": ("#!/bin/sh\necho 'starting up'\necho oops >&2\nexit 3\n", 0o755)}
    )
    result = harness.run(lambda ex: ex.invoke(spec, harness.request(spec, request_id="ex-1")))
    assert result.function_error == "Unhandled"
    assert result.error_type == "Runtime.ExitError"
    assert json.loads(result.payload)["errorMessage"] == (
        "RequestId: ex-1 Error: Runtime exited with error: exit status 3"
    )
    assert result.log.index("starting up") < result.log.index("START RequestId: ex-1")
    assert "oops" in result.log
    assert result.cold_start and result.init_duration_ms is not None


def test_missing_or_non_executable_bootstrap(harness: Harness) -> None:
    missing = _provided(harness, {"other": "x"})
    not_executable = _provided(harness, {"bootstrap": ("#!/bin/sh\nexit 0\n", 0o644)})

    async def scenario(executor):
        return (
            await executor.invoke(missing, harness.request(missing, request_id="m-1")),
            await executor.invoke(
                not_executable, harness.request(not_executable, request_id="m-2")
            ),
            executor.stats(),
        )

    missing_result, denied_result, stats = harness.run(scenario)
    assert missing_result.error_type == "Runtime.InvalidEntrypoint"
    assert json.loads(missing_result.payload)["errorMessage"].startswith(
        "RequestId: m-1 Error: Couldn't find valid bootstrap(s): ["
    )
    assert denied_result.error_type == "Runtime.InvalidEntrypoint"
    assert json.loads(denied_result.payload)["errorMessage"].endswith(": permission denied")
    assert stats["environments"] == 0


def test_bootstrap_posting_init_error(harness: Harness) -> None:
    bootstrap = """\
#!/usr/bin/env python3
import http.client, json, os
conn = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
body = json.dumps({"errorMessage": "cannot start", "errorType": "Runtime.ConfigInvalid"})
conn.request("POST", "/2018-06-01/runtime/init/error", body,
             {"Lambda-Runtime-Function-Error-Type": "Runtime.ConfigInvalid"})
print("init error status", conn.getresponse().status, flush=True)
import time
time.sleep(30)
"""
    spec = _provided(harness, {"bootstrap": (bootstrap, 0o755)})
    result = harness.run(lambda ex: ex.invoke(spec, harness.request(spec)))
    assert result.error_type == "Runtime.ConfigInvalid"
    assert json.loads(result.payload) == {
        "errorMessage": "cannot start",
        "errorType": "Runtime.ConfigInvalid",
    }


@pytest.mark.parametrize("route", ["init/error", "invocation/{id}/error"])
def test_a_deeply_nested_error_body_is_the_functions_error(harness: Harness, route: str) -> None:
    """Found by tests/fuzz/test_fuzz_runtime_api.py: an error body nested 100,000 deep made
    the invoke fail inside sendoff (RecursionError reading its errorType); it is the
    function's error, typed by the header."""
    bootstrap = f"""\
#!/usr/bin/env python3
import http.client, os
conn = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
conn.request("GET", "/2018-06-01/runtime/invocation/next")
got = conn.getresponse()
request_id = got.getheader("Lambda-Runtime-Aws-Request-Id")
got.read()
path = "/2018-06-01/runtime/{route}".replace("{{id}}", request_id)
conn.request("POST", path, b"[" * 100_000, {{"Lambda-Runtime-Function-Error-Type": "Deep.Error"}})
conn.getresponse().read()
import time
time.sleep(30)
"""
    spec = _provided(harness, {"bootstrap": (bootstrap, 0o755)})
    result = harness.run(lambda ex: ex.invoke(spec, harness.request(spec)))
    assert result.function_error == "Unhandled"
    assert result.error_type == "Deep.Error"
    assert result.payload == b"[" * 100_000


def test_response_posted_just_before_exit_still_counts(harness: Harness) -> None:
    bootstrap = """\
#!/usr/bin/env python3
import os, socket
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
sock = socket.create_connection((host, int(port)))
sock.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
head = b""
while b"\\r\\n\\r\\n" not in head:
    head += sock.recv(65536)
rid = [line.split(b": ")[1] for line in head.split(b"\\r\\n")
       if line.lower().startswith(b"lambda-runtime-aws-request-id")][0]
body = b'"' + b"z" * (5 * 1024 * 1024) + b'"'
sock.sendall(b"POST /2018-06-01/runtime/invocation/" + rid + b"/response HTTP/1.1\\r\\n"
             b"Host: x\\r\\nContent-Length: " + str(len(body)).encode() + b"\\r\\n\\r\\n" + body)
os._exit(0)  # without waiting for the 202
"""
    spec = _provided(harness, {"bootstrap": (bootstrap, 0o755)})
    result = harness.run(lambda ex: ex.invoke(spec, harness.request(spec)))
    assert result.function_error is None, result.payload[:200]
    assert len(result.payload) == 5 * 1024 * 1024 + 2


# Answers its first event, then never asks for another (a stuck runtime loop).
STUCK_AFTER_ONE = """\
#!/usr/bin/env python3
import http.client, os, time

conn = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
conn.request("GET", "/2018-06-01/runtime/invocation/next")
response = conn.getresponse()
rid = response.getheader("Lambda-Runtime-Aws-Request-Id")
response.read()
conn.request("POST", f"/2018-06-01/runtime/invocation/{rid}/response", b'"first"')
conn.getresponse().read()
time.sleep(3600)
"""


def test_a_warm_runtime_that_never_asks_again_times_out(harness: Harness) -> None:
    """Issue #17: the timeout runs from the invoke, not from the hand-over, so an event a
    stuck runtime never takes ends in Sandbox.Timedout and the environment is replaced."""
    spec = _provided(harness, {"bootstrap": (STUCK_AFTER_ONE, 0o755)}, timeout_s=1)

    async def scenario(executor):
        first = await executor.invoke(spec, harness.request(spec, request_id="one"))
        async with asyncio.timeout(10):
            second = await executor.invoke(spec, harness.request(spec, request_id="two"))
        return first, second, executor.stats()

    first, second, stats = harness.run(scenario)
    assert first.payload == b'"first"' and first.function_error is None
    assert second.error_type == "Sandbox.Timedout"
    assert json.loads(second.payload)["errorMessage"] == (
        "RequestId: two Error: Task timed out after 1.00 seconds"
    )
    assert stats["environments"] == 0 and stats["busy"] == 0
