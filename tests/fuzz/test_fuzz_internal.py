"""sendoff's own endpoints (``/_sendoff/...``, ``/metrics``): drawn paths, query strings and
bodies never answer 5xx nor drop the connection (``GET /_sendoff/code/a`` did both)."""

from __future__ import annotations

from urllib.parse import quote

import httpx
from hypothesis import given, note
from hypothesis import strategies as st

from tests.fuzz.oracle import TALLY
from tests.fuzz.runner import (
    HEALTH_EVERY,
    assert_healthy,
    examples,
    fail,
    fuzz_settings,
    reproducer,
)
from tests.fuzz.wire import Deep, HttpRequest

SEGMENTS = st.one_of(
    st.sampled_from(["a", "fuzz-ok", "x" * 5000, "%00", "..", "\u00b2", "=", "-1", ""]),
    st.text(max_size=12),
)
QUERY_NAMES = st.sampled_from(
    ["after", "limit", "state", "function", "prefix", "kind", "account", "region", "Action",
     "TopicArn", "SubscriptionArn", "Token", "x"]
)  # fmt: skip
QUERY_VALUES = st.one_of(
    st.sampled_from(
        [
            "-1",
            "0",
            "99999999999999999999",
            "abc",
            "",
            "queued",
            "failed",
            "ConfirmSubscription",
            "Unsubscribe",
            "\u00b2",
            "1e5",
        ]
    ),
    st.text(max_size=12),
)
PATHS = st.sampled_from(
    ["/_sendoff/logs/{}", "/_sendoff/events", "/_sendoff/events/{}", "/_sendoff/events/stats",
     "/_sendoff/code/{}", "/_sendoff/buses", "/_sendoff/sns", "/_sendoff/sns/topics",
     "/metrics", "/_sendoff/health"]
)  # fmt: skip
REDRIVE_BODIES = st.sampled_from(
    [b"", b"{", b"[]", b'{"ids": "x"}', b'{"ids": [1, {}]}', b'{"ids": ["nope"]}',
     b'{"function": "no-such-function"}', Deep("list").text().encode(), b"\xff"]
)  # fmt: skip


def _quoted(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def test_internal_endpoints(http: httpx.Client) -> None:
    problems: list[str] = []
    sent = [0]

    def exchange(method: str, url: str, body: bytes = b"") -> None:
        problem = kind = None
        try:
            response = http.request(method, url, content=body)
        except httpx.TransportError as exc:
            problem, kind = f"connection dropped: {exc!r}", "dropped"
        else:
            TALLY.statuses[("internal", response.status_code)] += 1
            if response.status_code >= 500:
                problem, kind = f"{response.status_code} {response.text[:200]}", "5xx"
        TALLY.requests["internal"] += 1
        sent[0] += 1
        if sent[0] % HEALTH_EVERY == 0:
            assert_healthy(http)
        if problem is not None:
            problems.append(f"{method} {url[:100]}: {problem}")
            note(reproducer(str(http.base_url), HttpRequest(method, url, {}, body)))
            where = "/".join(url.split("?")[0].split("/")[:3])[:40]
            fail(f"internal {method} {where} {kind}", problem)

    @fuzz_settings(examples(300))
    @given(
        PATHS,
        SEGMENTS,
        st.lists(st.tuples(QUERY_NAMES, QUERY_VALUES), max_size=4),
        st.one_of(st.none(), REDRIVE_BODIES),
    )
    def one(template: str, segment: str, query: list[tuple[str, str]],
            redrive: bytes | None) -> None:  # fmt: skip
        if redrive is not None:
            exchange("POST", "/_sendoff/events/redrive", redrive)
            return
        url = template.format(_quoted(segment)) if "{}" in template else template
        if query:
            url += "?" + "&".join(f"{_quoted(k)}={_quoted(v)}" for k, v in query)
        exchange("GET", url)

    one()
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:15])
