"""Raw malformed requests per protocol: bodies no SDK would send, odd targets and keys."""

from __future__ import annotations

import httpx
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.model import Operation, implemented
from tests.fuzz.oracle import TALLY
from tests.fuzz.runner import Run, examples, fuzz_settings, report
from tests.fuzz.wire import JSON_CONTENT, Deep, HttpRequest, auth_header, form

BODIES: st.SearchStrategy[bytes] = st.one_of(
    st.sampled_from(
        [
            b"", b"null", b"[]", b"1", b'"s"', b"{", b'{"a":', b'{"a":NaN}', b'{"a":1e999}',
            b"\xff\xfe\x00", b'{"QueueUrl": "\xff"}', b'{"a":1,"a":2}', b"{}" * 3,
            Deep("list").text().encode(), Deep("dict").text().encode(),
            b'{"Entries": ' + Deep("list", 50_000).text().encode() + b"}",
            b'"\\ud800"', b'{"\\u0000": "\\ud800"}', b" " * 100_000,
        ]
    ),
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
)  # fmt: skip

TARGET_NAMES = st.one_of(
    st.sampled_from(["", "Bogus", 'Send"Message', "Send\\Message", "sendmessage", ".", "a.b"]),
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=30),
)

QUERY_KEYS = st.sampled_from(
    [
        "Attributes.entry.\u00b2.key", "Attributes.entry.1.key", "Attributes.entry.1.value",
        "Attributes.entry.99999999999999999999999.key", "Attributes.entry.-1.key",
        "Tags.member.1.Key", "Tags.member.0.Key", "Tags.member.1.Value", "TagKeys.member.1",
        "MessageAttributes.entry.1.Name", "MessageAttributes.entry.1.Value.DataType",
        "MessageAttributes.entry.1.Value.StringValue",
        "MessageAttributes.entry.1.Value.BinaryValue",
        "PublishBatchRequestEntries.member.1.Id", "PublishBatchRequestEntries.member.1.Message",
        "PublishBatchRequestEntries.member.\u00b9.Id", "TopicArn", "Name", "Message",
        "MessageStructure", "Subject", "Protocol", "Endpoint", "AttributeName",
        "AttributeValue", "NextToken", "SubscriptionArn", "ResourceArn", "%ZZ", "",
    ]
)  # fmt: skip
QUERY_VALUES = st.one_of(
    st.sampled_from(
        [
            "json",
            "arn:aws:sns:us-east-1:000000000000:fuzz-topic",
            "sqs",
            "",
            '{"default": "x"}',
            Deep("dict").text(),
            "\ud800",
            "\x00",
            "x" * 300_000,
            "true",
            "-1",
            "String",
            "Binary",
            "Number",
            "!!",
        ]
    ),
    st.text(max_size=30),
)


def _op(service: str, name: str) -> Operation:
    return next(op for op in implemented(service) if op.name == name)


def test_json_protocols_raw(http: httpx.Client) -> None:
    ops = implemented("sqs") + implemented("events")
    run, first = Run(http), len(TALLY.problems)

    @fuzz_settings(examples(300))
    @given(st.sampled_from(ops), st.one_of(st.none(), TARGET_NAMES), BODIES)
    def one(op: Operation, bogus: str | None, body: bytes) -> None:
        prefix = op.model.metadata["targetPrefix"]
        headers = {
            "authorization": auth_header(op.service),
            "x-amz-target": f"{prefix}.{op.name if bogus is None else bogus}".encode(),
            "content-type": JSON_CONTENT[op.service].encode(),
        }
        run.exchange(op, HttpRequest("POST", "/", headers, body), f"{bogus} {body[:80]!r}")

    one()
    problems = TALLY.problems[first:]
    assert not problems, report(problems)


def test_rest_json_raw(http: httpx.Client) -> None:
    ops = [op for op in implemented("lambda") if op.method in ("POST", "PUT")]
    run, first = Run(http), len(TALLY.problems)

    @fuzz_settings(examples(200))
    @given(st.sampled_from(ops), BODIES, st.sampled_from([b"application/json", b"text/plain", b""]))
    def one(op: Operation, body: bytes, content_type: bytes) -> None:
        path = op.uri.replace("{FunctionName}", "fuzz-scratch").replace("{Name}", "live")
        headers = {"authorization": auth_header("lambda"), "content-type": content_type}
        run.exchange(op, HttpRequest(op.method, path, headers, body), f"{path} {body[:80]!r}")

    one()
    problems = TALLY.problems[first:]
    assert not problems, report(problems)


def test_query_protocol_raw(http: httpx.Client) -> None:
    ops = implemented("sns")
    run, first = Run(http), len(TALLY.problems)

    @fuzz_settings(examples(300))
    @given(
        st.sampled_from(ops),
        st.lists(st.tuples(QUERY_KEYS, QUERY_VALUES), max_size=8),
        st.one_of(st.none(), BODIES),
    )
    def one(op: Operation, pairs: list[tuple[str, str]], raw: bytes | None) -> None:
        body = raw if raw is not None else form([("Action", op.name), *pairs])
        headers = {
            "authorization": auth_header("sns"),
            "content-type": b"application/x-www-form-urlencoded",
        }
        run.exchange(op, HttpRequest("POST", "/", headers, body), f"{body[:120]!r}")

    one()
    problems = TALLY.problems[first:]
    assert not problems, report(problems)
