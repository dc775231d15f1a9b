"""sendoff.auth.sigv4 and .session against requests signed by botocore itself: the same
bytes a client sends, through the verifier, in every shape SDKs produce."""

from __future__ import annotations

import datetime
import time
from typing import Any
from urllib.parse import urlsplit

import botocore.auth
import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from sendoff.auth.session import SessionError, SessionIssuer
from sendoff.auth.sigv4 import AuthFailure, Incoming, check_time, parse, verify

KEY, SECRET = "AKIAAAAAAAAAAAAAAAAA", "s" * 40


@pytest.fixture(autouse=True)
def _fast_path_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every accepted request must be accepted by the fast canonical form alone."""
    from sendoff.auth import sigv4

    def fail(request: Incoming) -> None:
        raise AssertionError(f"only botocore's canonical form matched {request.raw_path}")

    monkeypatch.setattr(sigv4, "_reference_only", fail)


def incoming(request: AWSRequest) -> Incoming:
    url = urlsplit(request.url)
    body = request.body or b""
    return Incoming(
        method=request.method,
        raw_path=url.path,
        query_string=url.query,
        raw_headers=[
            (b"host", url.netloc.encode()),
            *((k.lower().encode(), v.encode()) for k, v in request.headers.items()),
        ],
        body=body if isinstance(body, bytes) else body.encode(),
    )


def sign(method: str, url: str, *, body: bytes = b"", headers: dict[str, str] | None = None,
         service: str = "lambda", token: str | None = None) -> AWSRequest:  # fmt: skip
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    SigV4Auth(Credentials(KEY, SECRET, token), service, "eu-west-1").add_auth(request)
    return request


def accepts(request: AWSRequest, secret: str = SECRET) -> bool:
    found = incoming(request)
    parsed = parse(found)
    check_time(parsed, time.time())
    try:
        verify(found, parsed, secret)
    except AuthFailure:
        return False
    return True


@pytest.mark.parametrize(
    "url",
    [
        "http://h:4566/2015-03-31/functions/f/invocations",
        # an ARN in the path: percent-encoded on the wire, double-encoded when canonical
        "http://h:4566/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A111111111111"
        "%3Afunction%3Af/invocations?Qualifier=%24LATEST",
        "http://h:4566/2015-03-31/functions/?Marker=a%2Fb%20c&MaxItems=5&FunctionVersion=ALL",
        "http://h:4566/_sendoff/events?function=f&after=&limit=10",
    ],
)
def test_botocore_signatures_verify(url: str) -> None:
    request = sign("GET", url, headers={"X-Custom": "  two   spaces  "})
    assert accepts(request)
    assert not accepts(request, secret="t" * 40)


@pytest.mark.parametrize(
    "url",
    [
        "http://h:4566/2015-03-31/functions/a%3Ab/invocations?Qualifier=%24LATEST",
        "http://h:4566/./x/../2015-03-31//functions/?Marker=a%2Fb%20c&B=1&A=2&A=1&e=",
        "http://h:4566/_sendoff/logs/f%20g?after=10&n=%E2%9C%93",
    ],
)
def test_the_fast_canonical_request_is_botocores(url: str) -> None:
    from botocore.compat import HTTPHeaders

    from sendoff.auth.canonical import canonical_request
    from sendoff.auth.reference import BotoRequest, Reference

    request = sign("POST", url, body=b"{}", headers={"X-A": " a  b ", "X-Amz-Target": "T.X"})
    found = incoming(request)
    parsed = parse(found)
    signed: dict[str, list[str]] = {}
    reference_headers = HTTPHeaders()
    for name, value in found.headers:
        if name in parsed.signed_headers:
            signed.setdefault(name, []).append(value)
            reference_headers[name] = value
    reference = Reference(SECRET, parsed, reference_headers)
    expected = reference.canonical_request(BotoRequest(found, parsed, None))
    ours = canonical_request(method="POST", raw_path=found.raw_path, query=parsed.query,
                             signed=signed, payload_hash=expected.rsplit("\n", 1)[1])  # fmt: skip
    assert ours == expected
    assert accepts(request)


def test_region_and_service_come_from_the_scope() -> None:
    parsed = parse(incoming(sign("POST", "http://h/", body=b"Action=ListTopics", service="sns")))
    assert (parsed.region, parsed.service, parsed.access_key_id) == ("eu-west-1", "sns", KEY)


def test_body_and_headers_are_covered() -> None:
    request = sign("POST", "http://h/", body=b'{"a": 1}', headers={"X-Amz-Target": "A.B"})
    assert accepts(request)
    request.data = b'{"a": 2}'
    assert not accepts(request)
    request = sign("POST", "http://h/", body=b"{}", headers={"X-Amz-Target": "A.B"})
    request.headers.replace_header("X-Amz-Target", "A.C")
    assert not accepts(request)


@pytest.mark.parametrize("mode", ["UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"])
def test_unsigned_and_streaming_payload_modes(mode: str) -> None:
    request = sign("PUT", "http://h/x", body=b"chunked...", headers={"X-Amz-Content-SHA256": mode})
    assert accepts(request)  # the seed signature covers the declared mode, not the body


def test_declared_hash_must_match_the_body() -> None:
    import hashlib

    body = b"payload"
    good = hashlib.sha256(body).hexdigest()
    assert accepts(sign("PUT", "http://h/x", body=body, headers={"X-Amz-Content-SHA256": good}))
    wrong = hashlib.sha256(b"other").hexdigest()
    request = sign("PUT", "http://h/x", body=body, headers={"X-Amz-Content-SHA256": wrong})
    assert not accepts(request)


def test_presigned_query_string() -> None:
    request = AWSRequest(
        method="GET", url="http://h:1/?Action=GetCallerIdentity&Version=2011-06-15"
    )
    SigV4QueryAuth(Credentials(KEY, SECRET), "sts", "us-east-1", expires=60).add_auth(request)
    found = incoming(request)
    parsed = parse(found)
    assert parsed.presigned and parsed.expires_s == 60
    verify(found, parsed, SECRET)
    with pytest.raises(AuthFailure) as info:
        check_time(parsed, time.time() + 61)
    assert info.value.kind == "presign_expired"


def test_clock_skew_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    at = datetime.datetime(2026, 1, 1, 0, 0, 0)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: at)
    parsed = parse(incoming(sign("GET", "http://h/")))
    now = datetime.datetime(2026, 1, 1, 0, 20, 0, tzinfo=datetime.UTC).timestamp()
    with pytest.raises(AuthFailure) as info:
        check_time(parsed, now)
    assert info.value.kind == "expired"
    assert info.value.message == (
        "Signature expired: 20260101T000000Z is now earlier than 20260101T000500Z"
        " (20260101T002000Z - 15 min.)"
    )
    check_time(parsed, now - 6 * 60)  # 14 minutes: fine
    with pytest.raises(AuthFailure) as info:
        check_time(parsed, now - 40 * 60)
    assert info.value.message.startswith("Signature not yet current: 20260101T000000Z")


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ({}, "missing"),
        ({"Authorization": "Bearer x"}, "missing"),
        ({"Authorization": "AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request"}, "incomplete"),
        ({"Authorization": "AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=x",
          "X-Amz-Date": "20260101T000000Z"}, "incomplete"),
        ({"Authorization": "AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request, "
          "SignedHeaders=host, Signature=x", "X-Amz-Date": "yesterday"}, "incomplete"),
    ],
)  # fmt: skip
def test_malformed_requests(headers: dict[str, str], kind: str) -> None:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    request = Incoming(method="GET", raw_path="/", query_string="", raw_headers=raw)
    with pytest.raises(AuthFailure) as info:
        parse(request)
    assert info.value.kind == kind


def test_session_tokens() -> None:
    now = [1_000_000.0]
    issuer = SessionIssuer(b"k" * 32, clock=lambda: now[0])
    env: dict[str, Any] = issuer.issue("111111111111", "fn")
    key, secret, token = (
        env["AWS_ACCESS_KEY_ID"],
        env["AWS_SECRET_ACCESS_KEY"],
        env["AWS_SESSION_TOKEN"],
    )
    assert key.startswith("ASIA") and len(key) == 20 and len(secret) == 40
    claims, derived = issuer.verify(key, token)
    assert (claims.account_id, claims.function_name, derived) == ("111111111111", "fn", secret)
    with pytest.raises(SessionError):
        issuer.verify("ASIAOTHEROTHEROTHER1", token)  # a token is bound to its key
    with pytest.raises(SessionError):
        SessionIssuer(b"x" * 32).verify(key, token)  # and to the server secret
    forged = token.split(".")
    forged[1] = forged[1][:-2] + "AA"
    with pytest.raises(SessionError):
        issuer.verify(key, ".".join(forged))
    now[0] += 13 * 3600
    with pytest.raises(SessionError) as info:
        issuer.verify(key, token)
    assert info.value.expired


def test_sts_sessions_carry_their_principal_and_expire() -> None:
    now = [1_000_000.0]
    issuer = SessionIssuer(b"k" * 32, clock=lambda: now[0])
    arn = "arn:aws:sts::111111111111:assumed-role/deployer/ci"
    session = issuer.issue_session(
        account_id="111111111111", arn=arn, user_id="AROAEXAMPLE:ci", duration_s=900
    )
    assert session.expires_at == now[0] + 900
    claims, secret = issuer.verify(session.access_key_id, session.session_token)
    assert (claims.arn, claims.user_id, claims.function_name) == (arn, "AROAEXAMPLE:ci", "")
    assert secret == session.secret_access_key
    now[0] += 901
    with pytest.raises(SessionError) as info:
        issuer.verify(session.access_key_id, session.session_token)
    assert info.value.expired


def test_botocore_is_the_fallback_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """Should the fast form ever disagree, botocore's canonical request decides."""
    from sendoff.auth import sigv4

    fallbacks: list[str] = []
    monkeypatch.setattr(sigv4, "canonical_request", lambda **_: "not it")
    monkeypatch.setattr(sigv4, "_reference_only", lambda r: fallbacks.append(r.raw_path))
    request = sign("POST", "http://h/2015-03-31/functions/f/invocations?Qualifier=1", body=b"{}")
    assert accepts(request)
    assert fallbacks == ["/2015-03-31/functions/f/invocations"]
    assert not accepts(request, secret="t" * 40)
