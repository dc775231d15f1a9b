"""The authentication gate on an in-memory store: which requests it reads the body of,
and the caller it hands on (no server process: these are about the order of checks)."""

from __future__ import annotations

import asyncio
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from sendoff.auth.caller import CALLER_KEY
from sendoff.auth.gate import MAX_SIGNED_BODY, Authenticator, AuthGate
from sendoff.store.memory import MemoryStore

PATH = "/2015-03-31/functions/f/invocations"


def scope_for(key: str, secret: str, body: bytes, **headers: str) -> dict[str, Any]:
    request = AWSRequest(
        method="POST", url=f"http://h:1{PATH}", data=body, headers={"Host": "h:1", **headers}
    )
    SigV4Auth(Credentials(key, secret), "lambda", "us-east-1").add_auth(request)
    pairs = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    return {
        "type": "http",
        "method": "POST",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "headers": pairs,
    }


async def never() -> Any:
    raise AssertionError("the body was read")


def run(scope: dict[str, Any], receive: Any, *, known: bool = True) -> tuple[Any, Any, Any]:
    async def go() -> tuple[Any, Any, Any]:
        store = MemoryStore()
        await store.open()
        auth = Authenticator(store)
        await auth.start()
        gate = AuthGate(auth, metrics_token="")
        return gate, auth, await gate.admit(scope, receive)

    return asyncio.run(go())


def test_a_strangers_body_is_never_read() -> None:
    scope = scope_for("AKIAAAAAAAAAAAAAAAAA", "s" * 40, b"x" * 1000)
    _, _, (rejection, _) = run(scope, never)
    assert rejection.status_code == 403
    assert rejection.headers["x-amzn-errortype"] == "UnrecognizedClientException"


def test_signed_bodies_are_read_once_and_replayed_and_capped() -> None:
    async def go() -> None:
        store = MemoryStore()
        await store.open()
        auth = Authenticator(store)
        await auth.start()
        cred = await auth.credentials.create(account_id="111111111111", name="n")
        gate = AuthGate(auth, metrics_token="")
        body = b'{"a": 1}'
        sent = [
            {"type": "http.request", "body": body[:3], "more_body": True},
            {"type": "http.request", "body": body[3:], "more_body": False},
        ]

        async def receive() -> Any:
            return sent.pop(0)

        scope = scope_for(cred.access_key_id, cred.secret_access_key, body)
        rejection, replay = await gate.admit(scope, receive)
        assert rejection is None and scope[CALLER_KEY].account_id == "111111111111"
        assert await replay() == {"type": "http.request", "body": body, "more_body": False}
        big = scope_for(cred.access_key_id, cred.secret_access_key, b"{}")
        big["headers"].append((b"content-length", str(MAX_SIGNED_BODY + 1).encode()))
        rejection, _ = await gate.admit(big, never)
        assert rejection.status_code == 413
        unsigned = scope_for(
            cred.access_key_id,
            cred.secret_access_key,
            b"",
            **{"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"},
        )
        rejection, passed = await gate.admit(unsigned, never)
        assert rejection is None and passed is never  # streamed on, untouched

    asyncio.run(go())
