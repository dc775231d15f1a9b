"""The Runtime API fuzzed from inside a function, as a hostile function would (issue 17).

Each environment's Runtime API (sendoff/executor/runtime_api.py) only serves its own
function's processes, so the client here is a function: ``HOSTILE`` opens raw sockets to
``AWS_LAMBDA_RUNTIME_API`` and sends the requests hypothesis drew in the test process
(passed in the invoke payload): wrong methods and paths, unknown, finished and foreign
request ids, broken and lying Content-Length, chunked bodies cut short, CRLF in the error
type header, bodies past the 6 MiB limit, pipelined pairs, raw garbage. Some go to another
function's environment (the victim's port, which the victim told us).

What must hold:
* the hostile function's own invocation ends (its Invoke answers; never a 5xx);
* the server stays healthy, and a normal function still answers afterwards;
* nothing the hostile function receives holds another request's payload: Event invokes
  of the victim carrying a secret run meanwhile, and the secret never shows up; a
  connection to the victim's Runtime API is closed without a byte;
* every victim event still ends, and the executor logged no unhandled exception.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from tests.conftest import client_for
from tests.fuzz.oracle import TALLY
from tests.fuzz.runner import (
    HEALTH_EVERY,
    Resources,
    assert_healthy,
    examples,
    fail,
    fuzz_settings,
)
from tests.fuzz.test_fuzz_lambda import wait_terminal
from tests.support.functions import ROLE, wait_active
from tests.support.server import ServerProcess
from tests.support.zips import make_zip

SECRET_PREFIX = "S3CR3T-"

HOSTILE = r"""
import base64, os, socket

def _complete(got):
    head, sep, body = got.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                return len(body) >= int(value.strip())
            except ValueError:
                return True
    return True

def _exchange(host, port, raw, pipelined):
    got = b""
    try:
        with socket.create_connection((host, port), timeout=2) as s:
            s.settimeout(0.25)
            s.sendall(raw)
            try:
                while len(got) < 1 << 20:
                    chunk = s.recv(65536)
                    if not chunk:
                        return got, "closed"
                    got += chunk
                    if not pipelined and _complete(got):
                        return got, "answered"
            except socket.timeout:
                return got, "silent"
    except OSError as exc:
        return got, "error " + type(exc).__name__
    return got, "answered"

def _expand(event, raw):
    raw = raw.replace(b"{prev}", event.get("prev", "x").encode())
    for token, (char, count) in event.get("expand", {}).items():
        raw = raw.replace(token.encode(), char.encode() * count)
    return raw

def handler(event, context):
    host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
    out, leaked = [], False
    for item in event.get("requests", []):
        head, body = (_expand(event, base64.b64decode(item[k])) for k in ("head", "body"))
        raw = head.replace(b"{CL}", str(len(body)).encode()) + body
        raw += base64.b64decode(item.get("tail", ""))
        target = int(item["port"]) if item.get("port") else int(port)
        got, how = _exchange(host, target, raw, item.get("pipelined", False))
        leaked = leaked or event.get("secret_prefix", "\0").encode() in got
        out.append({"how": how, "foreign": bool(item.get("port")),
                    "head": base64.b64encode(got[:300]).decode(), "size": len(got)})
    return {"request_id": context.aws_request_id, "results": out, "leaked": leaked,
            "runtime_api": os.environ["AWS_LAMBDA_RUNTIME_API"]}
"""

VICTIM = r"""
import os

def handler(event, context):
    return {"runtime_api": os.environ["AWS_LAMBDA_RUNTIME_API"], "got": event}
"""

API = "/2018-06-01/runtime"
# large parts travel as tokens the function expands (an invoke payload is at most 6 MB)
EXPAND = {
    "{X6M}": ("x", 6 * 1024 * 1024 + 101), "{H200K}": ("h", 200_000), "{A70K}": ("a", 70_000),
    "{E100K}": ("E", 100_000), "{I5000}": ("i", 5000), "{[100K}": ("[", 100_000),
}  # fmt: skip
PATHS = st.one_of(
    st.sampled_from(
        [
            f"{API}/invocation/next", f"{API}/init/error",
            f"{API}/invocation/{{prev}}/response", f"{API}/invocation/{{prev}}/error",
            f"{API}/invocation/{uuid.UUID(int=0)}/response", f"{API}/invocation//response",
            f"{API}/invocation/x/y/response", f"{API}/invocation/next/../next",
            f"{API}/invocation/%00/error", f"{API}/invocation/\u00b2/response",
            f"{API}/", "/", "*", "/2018-06-01/runtime/invocation/next?x=1",
            "/{A70K}", f"{API}/invocation/{{I5000}}/response",
        ]
    ),
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF), max_size=40).map(
        lambda t: "/" + t
    ),
)  # fmt: skip
METHODS = st.sampled_from(
    ["GET", "POST", "GET", "POST", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "BREW", "get", ""]
)
HEADERS = st.lists(
    st.sampled_from(
        [
            b"Content-Length: 0", b"Content-Length: -1", b"Content-Length: 99999999999999999999",
            b"Content-Length: 10", b"Content-Length: 1\r\nContent-Length: 2",
            b"Transfer-Encoding: chunked", b"Transfer-Encoding: gzip, chunked",
            b"Lambda-Runtime-Function-Error-Type: Runtime.Boom",
            b"Lambda-Runtime-Function-Error-Type: a\rb", b"Lambda-Runtime-Function-Error-Type: "
            + b"\xff" * 100, b"Lambda-Runtime-Function-Error-Type: {E100K}",
            b"Connection: close", b"Connection: keep-alive", b"Expect: 100-continue",
            b"Host: evil.example", b"X: {H200K}", b"Bad Header", b": empty name",
            b"\x00: nul",
        ]
    ),
    max_size=2,
)  # fmt: skip
BODIES = st.one_of(
    st.sampled_from(
        [
            b"", b"{}", b'{"errorMessage": "x", "errorType": "y"}', b"null", b"5\r\nabc",
            b"0\r\n\r\n", b"zz\r\n", b"\xff\xfe", b"{X6M}", b"{[100K}",
        ]
    ),
    st.binary(max_size=100),
)  # fmt: skip


@st.composite
def raw_request(draw: st.DrawFn) -> dict[str, Any]:
    """One request as bytes (or garbage), with how the hostile function sends it."""
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    if draw(st.integers(0, 9)) == 0:
        return {"head": b64(draw(st.binary(min_size=1, max_size=300))), "body": ""}
    method, path = draw(METHODS), draw(PATHS)
    headers, body = draw(HEADERS), draw(BODIES)
    if not any(h.lower().startswith((b"content-length", b"transfer-encoding")) for h in headers):
        headers = [*headers, b"Content-Length: {CL}"]  # the expanded body's length
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode("utf-8", "surrogatepass")
    head += b"".join(h + b"\r\n" for h in headers) + b"\r\n"
    pipelined = draw(st.integers(0, 7)) == 0
    if pipelined:
        tail = f"GET {API}/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        return {"head": b64(head), "body": b64(body), "tail": b64(tail), "pipelined": True}
    return {"head": b64(head), "body": b64(body), "pipelined": False}


def _status(result: dict[str, Any]) -> int:
    """The HTTP status the Runtime API answered (0: none, the connection closed or silent)."""
    head = base64.b64decode(result["head"])
    parts = head.split(b" ", 2)
    return int(parts[1]) if head.startswith(b"HTTP/1.1 ") and parts[1].isdigit() else 0


def _create(lam: Any, name: str, source: str) -> None:
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": source})}, Timeout=60, MemorySize=256,
    )  # fmt: skip
    wait_active(lam, name)  # Pending until its code is unpacked, as on AWS


def _invoke(http: httpx.Client, name: str, payload: dict[str, Any], **headers: str) -> Any:
    return http.post(
        f"/2015-03-31/functions/{name}/invocations",
        content=json.dumps(payload).encode(),
        headers=headers,
        timeout=90,
    )


def test_runtime_api_from_a_hostile_function(
    http: httpx.Client, fuzz_server: ServerProcess, resources: Resources
) -> None:
    lam = client_for(fuzz_server.url, "lambda")
    hostile, victim = f"fuzz-hostile-{uuid.uuid4().hex[:6]}", f"fuzz-victim-{uuid.uuid4().hex[:6]}"
    _create(lam, hostile, HOSTILE)
    _create(lam, victim, VICTIM)
    resources.created_functions += [hostile, victim]
    warm = _invoke(http, victim, {"warm": True})
    assert warm.status_code == 200, warm.text
    victim_port = warm.json()["runtime_api"].split(":")[1]
    first = _invoke(http, hostile, {})
    assert first.status_code == 200 and not first.headers.get("x-amz-function-error"), first.text
    state: dict[str, Any] = {
        "prev": first.json()["request_id"],
        "sent": 0,
        "victims": [],
        "answered": 0,
    }

    @fuzz_settings(examples(12))
    @given(st.lists(raw_request(), min_size=4, max_size=16), st.integers(0, 3))
    def one(requests: list[dict[str, Any]], foreign: int) -> None:
        for item in requests[:foreign]:
            item["port"] = victim_port
        secret = f"{SECRET_PREFIX}{uuid.uuid4().hex}"
        event = _invoke(http, victim, {"secret": secret}, **{"X-Amz-Invocation-Type": "Event"})
        if event.status_code == 202:
            state["victims"].append(event.headers["x-amzn-requestid"])
        payload = {"requests": requests, "prev": state["prev"], "secret_prefix": SECRET_PREFIX,
                   "expand": EXPAND}  # fmt: skip
        response = _invoke(http, hostile, payload)
        TALLY.requests["runtime"] += len(requests)
        state["sent"] += 1
        if state["sent"] % max(1, HEALTH_EVERY // 5) == 0:
            assert_healthy(http)
        note(f"hostile invoke answered {response.status_code}: {response.text[:300]}")
        if response.status_code >= 500:
            fail("runtime-api invoke 5xx", f"{response.status_code} {response.text[:300]}")
        if response.status_code != 200:
            fail("runtime-api invoke refused", f"{response.status_code} {response.text[:300]}")
        if response.headers.get("x-amz-function-error"):
            return  # the hostile function broke its own environment: allowed, checked below
        body = response.json()
        if not isinstance(body, dict) or "results" not in body:
            return  # it finished its own invocation with a drawn body
        state["prev"] = body["request_id"]
        if body["leaked"]:
            fail("runtime-api leak", "a victim's secret reached the hostile function")
        for item, result in zip(requests, body["results"], strict=True):
            state["answered"] += bool(result["size"])
            TALLY.statuses[("runtime", _status(result))] += 1
            if item.get("port") and result["size"]:
                fail("runtime-api foreign answer", f"another environment answered: {result}")

    one()
    assert state["answered"] >= state["sent"], "the hostile requests were hardly answered"
    assert_healthy(http)
    # the hostile function and a normal one still work (a broken environment is replaced)
    again = _invoke(http, hostile, {})
    assert again.status_code == 200 and not again.headers.get("x-amz-function-error"), again.text
    ok = _invoke(http, "fuzz-ok", {})
    assert ok.status_code == 200 and ok.json() == {"ok": True}
    stranded = wait_terminal(http, state["victims"])
    assert not stranded, stranded
    for event_id in state["victims"]:
        record = http.get(f"/_sendoff/events/{event_id}").json()
        assert record["state"] == "succeeded", record
    log = fuzz_server.log()
    for marker in ("Exception in callback", "Task exception was never retrieved"):
        assert marker not in log, log[log.index(marker) - 2000 : log.index(marker) + 2000]


@pytest.fixture(autouse=True)
def _count_runtime_in_summary() -> None:
    TALLY.requests.setdefault("runtime", 0)
