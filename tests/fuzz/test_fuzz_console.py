"""The web console's routes (``/console/...``), fuzzed as a browser on the same origin would
reach them (issue 17): every route the console serves, with drawn path segments, query
strings and form bodies, and the methods it does not serve.

What must hold: never a 5xx nor a dropped connection; and nothing drawn comes back as
markup: a value carrying ``<script>`` is escaped in every HTML page (the console renders
names, payloads and errors it was sent). Forms that change things aim at scratch
resources, so the functions other fuzz tests follow are never changed under them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import httpx
from hypothesis import given, note
from hypothesis import strategies as st
from starlette.routing import Route

from tests.fuzz.oracle import TALLY
from tests.fuzz.runner import (
    HEALTH_EVERY,
    Resources,
    assert_healthy,
    examples,
    fail,
    fuzz_settings,
    reproducer,
)
from tests.fuzz.wire import Deep, HttpRequest

MARKER = "<script>fz</script>"


def console_routes() -> list[tuple[str, str]]:
    """(method, path template) of every console route, read from the console itself."""
    from unittest import mock

    from sendoff.console.routes import console_routes as build

    routes = []
    for route in build(mock.MagicMock()):  # the pages only keep the console; no I/O here
        if isinstance(route, Route):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    routes.append((method, "/console" + route.path.rstrip("/")))
    return routes


ROUTES = console_routes()
READ_NAMES = ["fuzz-ok", "fuzz-fail", "fuzz-q", "fuzz-topic", "fuzz-bus", "default", "fuzz-rule"]
SCRATCH_NAMES = ["fuzz-scratch", "fuzz-console-new", "no-such-thing"]
ODD = ["", "%00", "..", "%2e%2e", "a%2Fb", "\u00b2", "x" * 3000, MARKER, "%ZZ", "'\"<>&", "-1"]
SEGMENTS = st.one_of(st.sampled_from(ODD), st.text(max_size=12))
FIELDS = st.sampled_from(
    ["name", "runtime", "handler", "role", "code", "new_file", "memory", "timeout", "payload",
     "event", "condition", "destination", "type", "arn", "dlq", "dlq_type", "window",
     "revision", "mode", "body", "group", "dedup", "subject", "message", "protocol",
     "endpoint", "pattern", "rule", "target", "source", "fifo", "peek", "after", "q", "next",
     "access_key_id", "secret_access_key", "x"]
)  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(
        ["", "python3.12", "nodejs20.x", "provided.al2023", "app.handler", "{}", '{"a": 1}',
         "arn:aws:iam::000000000000:role/r", "arn:aws:sqs:us-east-1:000000000000:fuzz-scratch",
         "OnFailure", "OnSuccess", "0", "-1", "99999999999999999999", "1e309", "NaN", MARKER,
         "true", "sqs", "lambda", "http://169.254.169.254/", '{"source": ["x"]}',
         Deep("dict", 5000).text(), "x" * 70_000, "\x00", "\ud800"]
    ),
    st.text(max_size=30),
)  # fmt: skip
QUERIES = st.lists(st.tuples(FIELDS, VALUES), max_size=3)


def _q(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="%")


@st.composite
def console_request(draw: st.DrawFn) -> HttpRequest:
    method, template = draw(st.sampled_from(ROUTES))
    if draw(st.integers(0, 9)) == 0:
        method = draw(st.sampled_from(["PUT", "DELETE", "PATCH", "OPTIONS", "POST", "GET"]))
    names = SCRATCH_NAMES if method != "GET" else READ_NAMES + SCRATCH_NAMES

    def segment(key: str) -> str:
        if key == "condition":
            return draw(st.sampled_from(["OnFailure", "OnSuccess", "x", MARKER]))
        return _q(draw(st.one_of(st.sampled_from(names), SEGMENTS)))

    path = template
    for key in ("name", "condition", "id"):
        if "{" + key + "}" in path:
            path = path.replace("{" + key + "}", segment(key))
    query = draw(QUERIES)
    if query:
        path += "?" + "&".join(f"{_q(k)}={_q(v)}" for k, v in query)
    headers = {"sec-fetch-site": draw(st.sampled_from([b"same-origin"] * 4 + [b"cross-site"]))}
    body = b""
    if method == "POST":
        pairs = draw(st.lists(st.tuples(FIELDS, VALUES), max_size=8))
        if draw(st.integers(0, 7)) == 0:
            body = draw(st.sampled_from([b"\xff\xfe", b"a=%", b"=" * 1000, b"a" * 2_000_000]))
        else:
            encoded = [(k, v.encode("utf-8", "surrogatepass")) for k, v in pairs]
            body = urlencode(encoded).encode()
        headers["content-type"] = b"application/x-www-form-urlencoded"
    return HttpRequest(method, path, headers, body)


def test_console_routes(http: httpx.Client, resources: Resources) -> None:
    assert len(ROUTES) >= 30, ROUTES  # every page the console serves, read from its routes
    sent = [0]

    @fuzz_settings(examples(100))
    @given(console_request())
    def one(request: HttpRequest) -> None:
        try:
            response = http.request(request.method, request.path, headers=request.headers,
                                    content=request.content)  # fmt: skip
        except (httpx.LocalProtocolError, httpx.InvalidURL, UnicodeError):
            return  # a request httpx itself refuses to send
        except httpx.TransportError as exc:
            note(reproducer(str(http.base_url), request))
            fail(f"console {request.method} dropped", repr(exc))
        TALLY.requests["console"] += 1
        TALLY.statuses[("console", response.status_code)] += 1
        sent[0] += 1
        if sent[0] % HEALTH_EVERY == 0:
            assert_healthy(http)
        where = request.path.split("?")[0].split("/")[2] if request.path.count("/") > 1 else ""
        problem: Any = None
        if response.status_code >= 500:
            problem = f"{response.status_code}: {response.text[:300]}"
            kind = f"console {request.method} {where} 5xx"
        elif MARKER.encode() in response.content and "html" in response.headers.get(
            "content-type", ""
        ):
            problem, kind = "a drawn <script> came back unescaped", f"console {where} markup"
        if problem is not None:
            TALLY.problems.append(f"console {request.method} {request.path[:100]}: {problem}")
            note(reproducer(str(http.base_url), request))
            fail(kind, problem)

    one()
    assert_healthy(http)
