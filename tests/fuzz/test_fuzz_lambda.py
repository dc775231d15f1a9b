"""Lambda (rest-json): every implemented operation, generated from botocore's model, and
every Event invoke accepted during the run reaches a terminal state."""

from __future__ import annotations

import time
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.model import Operation, implemented
from tests.fuzz.oracle import TALLY
from tests.fuzz.runner import Resources, Run, examples, fuzz_operations, fuzz_settings, report
from tests.fuzz.strategies import HUGE, JSON_VALUES
from tests.fuzz.wire import Deep, HttpRequest, auth_header, dumps

FUNCTIONS = "/2015-03-31/functions"
TERMINAL = {"succeeded", "failed"}
EVENT_DEADLINE_S = 90.0

PAYLOADS: st.SearchStrategy[bytes] = st.one_of(
    JSON_VALUES.map(dumps),
    st.just(b'{"fail": true}'),
    st.just(b""),
    st.binary(max_size=32),
    st.just(Deep("list").text().encode()),
    st.just(Deep("dict").text().encode()),
    st.sampled_from([900, 901, 977, 979]).map(lambda d: Deep("list", d).text().encode()),
    st.just(Deep("dict", 900).text().encode()),
    st.just(dumps({"big": "x" * HUGE})),
    st.just(b'"\\ud800"'),
)


def test_lambda_operations(http: httpx.Client, resources: Resources) -> None:
    accepted: list[str] = []

    def after(op: Operation, response: httpx.Response, params: dict[str, Any]) -> None:
        if op.name in ("Invoke", "InvokeAsync") and response.status_code == 202:
            accepted.append(response.headers["x-amzn-requestid"])
        if op.name == "CreateFunction" and response.status_code == 201:
            resources.created_functions.append(response.json()["FunctionName"])

    problems = fuzz_operations(
        http,
        implemented("lambda"),
        resources,
        examples(900),
        payloads=PAYLOADS,
        after=after,
        favour={"Invoke": 8},  # a third of the requests: enough Event invokes to follow
    )
    TALLY.accepted_events += accepted
    assert not problems, report(problems)
    stranded = wait_terminal(http, accepted)
    assert not stranded, f"{len(stranded)} of {len(accepted)} events not terminal: {stranded[:5]}"


def wait_terminal(http: httpx.Client, ids: list[str]) -> dict[str, str]:
    """Poll each accepted event until it is terminal; answer those still not, with state."""
    pending = {event_id: "unknown" for event_id in ids}
    deadline = time.monotonic() + EVENT_DEADLINE_S
    while pending and time.monotonic() < deadline:
        for event_id in list(pending):
            response = http.get(f"/_sendoff/events/{event_id}")
            assert response.status_code == 200, (event_id, response.status_code, response.text)
            state = response.json()["state"]
            if state in TERMINAL:
                del pending[event_id]
            else:
                pending[event_id] = state
        if pending:
            time.sleep(0.2)
    return pending


def test_event_invokes_all_end(http: httpx.Client, resources: Resources) -> None:
    """Event invokes with drawn payloads (valid, failing, odd, deep, huge) on functions that
    succeed or fail: each is refused with a 4xx or accepted, and every accepted one ends."""
    accepted: list[str] = []
    problems: list[str] = []
    run = Run(http)
    invoke = next(op for op in implemented("lambda") if op.name == "Invoke")

    @fuzz_settings(examples(150))
    @given(
        st.sampled_from(["fuzz-ok", "fuzz-fail", "fuzz-ok:live", "fuzz-ok:1"]),
        st.one_of(PAYLOADS, st.just(b'{"fail": true}')),
    )
    def one(target: str, payload: bytes) -> None:
        headers = {"x-amz-invocation-type": b"Event", "authorization": auth_header("lambda")}
        request = HttpRequest("POST", f"{FUNCTIONS}/{target}/invocations", headers, payload)

        def after(response: httpx.Response) -> None:
            if response.status_code == 202:
                accepted.append(response.headers["x-amzn-requestid"])
            elif response.status_code != 400 and response.status_code != 413:
                problems.append(f"{target} {payload[:60]!r}: {response.status_code}")

        run.exchange(invoke, request, f"{target} {payload[:60]!r}", after)

    one()
    TALLY.accepted_events += accepted
    assert not problems, problems[:10]
    assert len(accepted) >= 10, "too few accepted events to prove anything"
    stranded = wait_terminal(http, accepted)
    assert not stranded, f"{len(stranded)} of {len(accepted)} events not terminal: {stranded}"
