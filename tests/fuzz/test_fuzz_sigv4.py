"""SigV4-signed requests against a server with ``--auth sigv4`` (issue 17).

Requests for every implemented operation are drawn from botocore's models as in the other
fuzz tests, signed with botocore's own signer and a key made by ``sendoff credentials
create``, then broken in one way: the body, path or query changed after signing, a signed
header changed, a signature from 20 minutes ago or ahead, an unknown key or a wrong
secret, an Authorization header or X-Amz-Date rewritten into garbage (missing parts, bad
scopes, odd algorithms, odd characters, huge values), no date at all, presigned-URL query
parameters that make no sense.

What must hold, besides the oracle every fuzz test applies (never a 5xx, an error body in
the protocol's format with a known code): a request broken in any of these ways is refused
with one of AWS's authentication errors (status 400 or 403; 413 when the body is too
large, which is refused before the signature is read) — never served — and a request
signed properly gets past authentication.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import botocore.auth
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, note
from hypothesis import strategies as st

from tests.fuzz.model import Operation, implemented
from tests.fuzz.oracle import TALLY, check, error_code
from tests.fuzz.runner import (
    HEALTH_EVERY,
    assert_healthy,
    examples,
    fail,
    fuzz_settings,
    problem_kind,
    reproducer,
)
from tests.fuzz.strategies import Hints, request_params
from tests.fuzz.wire import SIGNING, HttpRequest, build
from tests.support.server import ServerProcess, start_server

# AWS's authentication errors: Lambda/JSON codes and the query protocol's
AUTH_CODES = frozenset(
    {
        "MissingAuthenticationTokenException", "MissingAuthenticationToken",
        "IncompleteSignatureException", "IncompleteSignature",
        "InvalidSignatureException", "SignatureDoesNotMatch",
        "UnrecognizedClientException", "InvalidClientTokenId",
        "ExpiredTokenException", "ExpiredToken", "AccessDeniedException", "RequestExpired",
        "RequestEntityTooLargeException", "RequestEntityTooLarge",
    }
)  # fmt: skip

# mutations after which AWS refuses the request
REFUSED = (
    "body_changed", "path_changed", "query_added", "signed_header_changed", "twenty_minutes_old",
    "twenty_minutes_ahead", "unknown_key", "wrong_secret", "authorization_garbage",
    "date_garbage", "no_date", "presigned_garbage",
)  # fmt: skip
MUTATIONS = ("none", "none", "none", *REFUSED)

AUTHORIZATION = st.one_of(
    st.sampled_from(
        [
            "", "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 ", "aws4-hmac-sha256 Credential=x",
            "AWS4-HMAC-SHA512 Credential={key}/{date}/us-east-1/{svc}/aws4_request,"
            " SignedHeaders=host;x-amz-date, Signature={sig}",
            "AWS4-HMAC-SHA256 Credential={key}/{date}/us-east-1/{svc}/aws4_request",
            "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature={sig}",
            "AWS4-HMAC-SHA256 Credential={key}/{date}/us-east-1/{svc}/aws4_request,"
            " Signature={sig}",
            "AWS4-HMAC-SHA256 Credential={key}/{date}/us-east-1/aws4_request,"
            " SignedHeaders=host;x-amz-date, Signature={sig}",
            "AWS4-HMAC-SHA256 Credential={key}/{date}/us-east-1/{svc}/aws4_request/x,"
            " SignedHeaders=host;x-amz-date, Signature={sig}",
            "AWS4-HMAC-SHA256 Credential={key}/2026-01-01/us-east-1/{svc}/aws4_request,"
            " SignedHeaders=host;x-amz-date, Signature={sig}",
            "AWS4-HMAC-SHA256 Credential={key}/{date}/us-east-1/{svc}/aws4_requests,"
            " SignedHeaders=host;x-amz-date, Signature={sig}",
            "AWS4-HMAC-SHA256 Credential={key}/{date}/\u00e9\u00e9/{svc}/aws4_request,"
            " SignedHeaders=host;x-amz-date, Signature={sig}",
            "AWS4-HMAC-SHA256 Credential={key}/{date}//{svc}/aws4_request,"
            " SignedHeaders=host;x-amz-date, Signature={sig}",
            "AWS4-HMAC-SHA256 Credential=/{date}/us-east-1/{svc}/aws4_request,"
            " SignedHeaders=host;x-amz-date, Signature={sig}",
            "AWS4-HMAC-SHA256 Credential={key}/{date}/us-east-1/{svc}/aws4_request,"
            " SignedHeaders=, Signature={sig}",
            "AWS4-HMAC-SHA256 Credential={key}/{date}/us-east-1/{svc}/aws4_request,"
            " SignedHeaders=x-amz-date, Signature={sig}",
            "AWS4-HMAC-SHA256 Credential={key}/{date}/us-east-1/{svc}/aws4_request,"
            " SignedHeaders=host;x-amz-date;x-not-sent, Signature={sig}",
            "AWS4-HMAC-SHA256 Credential={key}/{date}/us-east-1/{svc}/aws4_request,"
            " SignedHeaders=host;x-amz-date, Signature={SIG}",
            "AWS4-HMAC-SHA256 Credential={key}/{date}/us-east-1/{svc}/aws4_request,"
            " SignedHeaders=host;x-amz-date, Signature=zz",
            "AWS4-HMAC-SHA256 Credential={key}/{date}/us-east-1/{svc}/aws4_request,"
            " SignedHeaders=host;x-amz-date, Signature={sig}, Signature={sig}",
            "AWS4-HMAC-SHA256 Credential={key}/{date}/us-east-1/{svc}/aws4_request,,,"
            " SignedHeaders=host;x-amz-date,Signature={sig}0",
            "AWS4-HMAC-SHA256 Credential=" + "A" * 100_000,
            "AWS4-HMAC-SHA256 Credential={key}/{date}/us-east-1/{svc}/aws4_request\x00,"
            " SignedHeaders=host;x-amz-date, Signature={sig}",
            "Bearer abc", "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",
        ]
    ),
    st.text(max_size=120),
)  # fmt: skip
DATES = st.one_of(
    st.sampled_from(["", "2026", "20261304T000000Z", "99999999T999999Z", "20260101T000000",
                     "2026-01-01T00:00:00Z", "Thu, 01 Jan 2026 00:00:00 GMT", "\u00b2" * 16,
                     "00000000T000000Z", "1" * 10_000]),
    st.text(max_size=20),
)  # fmt: skip
PRESIGN_KEYS = st.sampled_from(
    ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
     "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token"]
)  # fmt: skip
PRESIGN_VALUES = st.one_of(
    st.sampled_from(["AWS4-HMAC-SHA256", "-1", "0", "604801", "99999999999999999999", "host",
                     "{key}/{date}/us-east-1/{svc}/aws4_request", "", "\u00e9", "x" * 5000]),
    st.text(max_size=20),
)  # fmt: skip


def _sendoff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sendoff.cli.main", *args], capture_output=True, text=True,
        env={**os.environ},
    )  # fmt: skip


@pytest.fixture(scope="module")
def signed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz-sigv4")
    made = _sendoff("credentials", "create", "--data-dir", str(data_dir), "--output", "json")
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    proc: ServerProcess = start_server(data_dir, "--auth", "sigv4", "--time-scale", "0.01")
    with httpx.Client(base_url=proc.url, timeout=20) as http:
        yield {"server": proc, "http": http, "key": key}
    assert proc.stop() == 0, proc.log()[-3000:]


def _sign(url: str, request: HttpRequest, service: str, access: str, secret: str,
          at: datetime.datetime | None = None) -> dict[str, bytes] | None:  # fmt: skip
    headers = {k: v.decode("latin-1") for k, v in request.headers.items() if k != "authorization"}
    aws = AWSRequest(method=request.method, url=url + request.path, data=request.content,
                     headers=headers)  # fmt: skip
    with mock.patch.object(
        botocore.auth, "get_current_datetime",
        (lambda: at) if at is not None else botocore.auth.get_current_datetime,
    ):  # fmt: skip
        try:
            SigV4Auth(Credentials(access, secret), SIGNING[service], "us-east-1").add_auth(aws)
        except (ValueError, UnicodeError):
            return None  # a drawn input botocore itself cannot sign
    return {k.lower(): (v.encode("latin-1") if isinstance(v, str) else v)
            for k, v in aws.headers.items()}  # fmt: skip


def _fill(template: str, key: str, service: str, signature: str) -> str:
    date = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d")
    return (template.replace("{key}", key).replace("{date}", date)
            .replace("{svc}", SIGNING[service]).replace("{sig}", signature)
            .replace("{SIG}", signature.upper()))  # fmt: skip


def _mutate(draw: st.DrawFn, mutation: str, url: str, request: HttpRequest, op: Operation,
            key: dict[str, str]) -> HttpRequest | None:  # fmt: skip
    access, secret = key["AccessKeyId"], key["SecretAccessKey"]
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    at = {"twenty_minutes_old": now - datetime.timedelta(minutes=20),
          "twenty_minutes_ahead": now + datetime.timedelta(minutes=20)}.get(mutation)  # fmt: skip
    if mutation == "unknown_key":
        access = "AKIA" + "Z" * 16
    if mutation == "wrong_secret":
        secret += "x"
    headers = _sign(url, request, op.service, access, secret, at)
    if headers is None:
        return None
    path, body = request.path, request.content
    signature = headers["authorization"].decode().rsplit("Signature=", 1)[-1]
    if mutation == "body_changed":
        body = body + b" " if body else b"{}"
    elif mutation == "path_changed":
        head, sep, query = path.partition("?")
        path = head.rstrip("/") + "/x" + sep + query
    elif mutation == "query_added":
        path += ("&" if "?" in path else "?") + "sendoff-fuzz=1"
    elif mutation == "signed_header_changed":
        stamp = headers["x-amz-date"].decode()
        headers["x-amz-date"] = (
            stamp[:-2] + ("58" if stamp[-3:-1] != "58" else "57") + "Z"
        ).encode()
    elif mutation == "authorization_garbage":
        text = _fill(draw(AUTHORIZATION), access, op.service, signature)
        headers["authorization"] = text.encode("utf-8", "surrogatepass")
    elif mutation == "date_garbage":
        headers["x-amz-date"] = draw(DATES).encode("utf-8", "surrogatepass")
    elif mutation == "no_date":
        del headers["x-amz-date"]
    elif mutation == "presigned_garbage":
        del headers["authorization"]
        pairs = draw(st.lists(st.tuples(PRESIGN_KEYS, PRESIGN_VALUES), min_size=1, max_size=7))
        query = "&".join(
            f"{k}={httpx.QueryParams({'v': _fill(v, access, op.service, signature)})['v']}"
            for k, v in pairs
        )
        query = "&".join(f"{k}={v}" for k, v in httpx.QueryParams(query).multi_items())
        path += ("&" if "?" in path else "?") + str(httpx.QueryParams(query))
    return HttpRequest(request.method, path, headers, body)


def _http_refusal(response: httpx.Response) -> bool:
    """The HTTP layer's own refusal of a malformed message, before any AWS protocol: uvicorn's
    400 for a header h11/httptools reject, sendoff's 431 for a head past its bound."""
    return (response.status_code, response.content) in (
        (400, b"Invalid HTTP request received."),
        (431, b"Request Header Fields Too Large"),
    ) or response.status_code == 431


def test_signed_requests(signed_server: dict[str, Any]) -> None:
    http: httpx.Client = signed_server["http"]
    key: dict[str, str] = signed_server["key"]
    url = signed_server["server"].url
    ops = [op for s in ("lambda", "sqs", "sns", "events") for op in implemented(s)]
    tally = {"sent": 0, "passed_auth": 0, "valid": 0}

    @fuzz_settings(examples(120))
    @given(st.data())
    def one(data: st.DataObject) -> None:
        op: Operation = data.draw(st.sampled_from(ops))
        mutation: str = data.draw(st.sampled_from(MUTATIONS))
        _, params = data.draw(request_params(op, Hints({})))
        request = _mutate(data.draw, mutation, url, build(op, params), op, key)
        if request is None:
            return
        try:
            response = http.request(request.method, request.path, headers=request.headers,
                                    content=request.content)  # fmt: skip
        except (httpx.LocalProtocolError, httpx.InvalidURL, UnicodeError):
            return  # a request httpx itself refuses to send (a header value h11 rejects)
        except httpx.TransportError as exc:
            note(reproducer(url, request))
            fail(f"sigv4 {op.service} {mutation} dropped", repr(exc))
        tally["sent"] += 1
        TALLY.requests["sigv4"] += 1
        TALLY.statuses[("sigv4", response.status_code)] += 1
        if tally["sent"] % HEALTH_EVERY == 0:
            assert_healthy(http)
        if _http_refusal(response):
            return  # a header no HTTP/1.1 server accepts (a control character, too large)
        if mutation == "path_changed" and op.protocol != "rest-json":
            # "/" became "/x", a path of no AWS protocol: refused in any format, never served
            if not 400 <= response.status_code < 500:
                note(reproducer(url, request))
                fail(f"sigv4 path_changed {op.service} {response.status_code}", response.text)
            return
        widened = dataclasses.replace(op, errors=op.errors | AUTH_CODES)
        problem = check(widened, response)
        code = error_code(op.protocol, response) if response.status_code >= 400 else None
        # 413: the body limit refuses an oversized request before its signature is read
        refused = response.status_code in (400, 403, 413) and code in AUTH_CODES
        if problem is None and mutation in REFUSED and not refused:
            problem = f"{response.status_code} {code}: a request with {mutation} was served"
        if mutation == "none" and code not in AUTH_CODES:
            tally["passed_auth"] += 1
        tally["valid"] += mutation == "none"
        if problem is not None:
            TALLY.problems.append(f"sigv4 {op.service}.{op.name} [{mutation}]: {problem}")
            note(reproducer(url, request))
            fail(problem_kind(f"sigv4 {mutation} {op.service}", problem), problem)

    one()
    assert_healthy(http)
    # properly signed requests get through (a few drawn paths may not be signable as sent)
    assert tally["passed_auth"] >= 0.8 * tally["valid"], tally
