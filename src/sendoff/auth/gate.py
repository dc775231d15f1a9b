"""The authentication check every request passes before routing (``SendoffApp``).

Under ``--auth sigv4`` every route needs a valid SigV4 signature except:

* ``/_sendoff/health`` (open, for load balancers);
* ``/console`` (its own sign-in: :mod:`sendoff.console.signin`);
* ``/_sendoff/code/<token>`` (the token is a signed, expiring URL: :mod:`sendoff.auth.urls`);
* ``GET /_sendoff/sns`` and an unsigned ``GET /?Action=ConfirmSubscription|Unsubscribe``
  (SNS SubscribeURL/UnsubscribeURL links, as AWS serves them: the token or the
  subscription's id is the secret; see :meth:`sendoff.api.sns.SnsApi.link`);
* ``/metrics`` (``Authorization: Bearer <--metrics-token>``).

S3's requests (:func:`sendoff.api.s3.addressing.s3_target`) with a hex
``x-amz-content-sha256`` are not read here: the signature covers that header, and the S3
edge streams the body into its store, refusing it (XAmzContentSHA256Mismatch) before the
object is committed when it does not hash to it. Their failures answer in S3's XML.

The verified caller goes into ``scope["sendoff.caller"]``; ``api.context.request_context``
reads its account, so every service scopes resources by the caller's account.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from urllib.parse import parse_qs

from starlette.responses import Response
from starlette.types import Message, Receive, Scope

from sendoff.auth.caller import CALLER_KEY, CHUNK_SIGNING_KEY, Caller
from sendoff.auth.credentials import Credential, Credentials, server_secret
from sendoff.auth.session import SessionError, SessionIssuer
from sendoff.auth.sigv2 import access_key, is_presigned_v2, verify_presigned_v2
from sendoff.auth.sigv4 import (
    HEX64,
    AuthFailure,
    Incoming,
    Parsed,
    check_time,
    chunk_signing,
    parse,
    verify,
)
from sendoff.auth.wire import failure_response, protocol_of, s3_failure_response
from sendoff.model.digits import is_digits
from sendoff.store import Store

_SIGNED_CHUNKS = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"  # and ...-PAYLOAD-TRAILER
FOUND_TTL_S = 2.0
"""How long a looked-up key is trusted: a deleted key is refused within this time."""
MISSING_TTL_S = 0.5
MAX_SIGNED_BODY = 70_167_211
"""The largest body read to check its signature: AWS's limit for a CreateFunction request
(a 50 MB zip, base64 in JSON). Bodies sent as UNSIGNED-PAYLOAD or STREAMING-* are not read
here (their size is for the body-size guard)."""


class Authenticator:
    """Finds the secret for an access key (stored keys, or function session tokens) and
    verifies requests and key pairs. Shared by the gate and the console's sign-in."""

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.credentials = Credentials(store)
        self.clock = clock
        self.issuer: SessionIssuer | None = None
        self._cache: dict[str, tuple[float, Credential | None]] = {}
        self._callers: dict[tuple[Credential, str | None, str | None], Caller] = {}

    async def start(self) -> None:
        """Load the server secret (session tokens, code URLs) from the store."""
        if self.issuer is None:
            self.issuer = SessionIssuer(await server_secret(self.store), clock=self.clock)

    def function_credentials(self, account_id: str, function_name: str) -> dict[str, str]:
        """The executor's hook (ExecutorSettings.session_credentials)."""
        return {} if self.issuer is None else self.issuer.issue(account_id, function_name)

    async def _credential(self, access_key_id: str) -> Credential | None:
        now = time.monotonic()
        hit = self._cache.get(access_key_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        credential = await self.credentials.get(access_key_id)
        if len(self._cache) > 10_000:
            self._cache.clear()
        ttl = FOUND_TTL_S if credential is not None else MISSING_TTL_S
        self._cache[access_key_id] = (now + ttl, credential)
        return credential

    async def identify(
        self, access_key_id: str, token: str | None, parsed: Parsed | None = None
    ) -> tuple[Caller, str]:
        """The caller (with the scope's region and service, when ``parsed`` is given) and
        the secret key for an access key id, or AuthFailure."""
        region, service = (parsed.region, parsed.service) if parsed is not None else (None, None)
        if access_key_id.startswith("ASIA"):
            if not token or self.issuer is None:
                raise AuthFailure("unknown_key")
            try:
                claims, secret = self.issuer.verify(access_key_id, token)
            except SessionError as exc:
                raise AuthFailure("token_expired" if exc.expired else "unknown_key") from None
            if claims.arn:  # STS AssumeRole / GetSessionToken
                arn, user_id = claims.arn, claims.user_id
            else:  # a function's own credentials
                arn = (
                    f"arn:aws:sts::{claims.account_id}:assumed-role/"
                    f"{claims.function_name}-role/{claims.function_name}"
                )
                user_id = f"AROA{access_key_id[4:]}:{claims.function_name}"
            caller = Caller(
                account_id=claims.account_id,
                access_key_id=access_key_id,
                arn=arn,
                user_id=user_id,
                region=region,
                service=service,
                temporary=True,
            )
            return caller, secret
        credential = await self._credential(access_key_id)
        if credential is None:
            raise AuthFailure("unknown_key")
        key = (credential, region, service)
        known = self._callers.get(key)
        if known is not None:  # one Caller per key and scope: built once, not per request
            return known, credential.secret_access_key
        if len(self._callers) > 10_000:
            self._callers.clear()
        caller = self._callers[key] = Caller(
            account_id=credential.account_id,
            access_key_id=access_key_id,
            arn=credential.arn,
            user_id=credential.user_id,
            region=region,
            service=service,
        )
        return caller, credential.secret_access_key

    async def check_pair(self, access_key_id: str, secret: str) -> Caller | None:
        """The caller for a key id and secret typed into a form (console sign-in)."""
        try:
            caller, expected = await self.identify(access_key_id.strip(), None)
        except AuthFailure:
            return None
        return caller if hmac.compare_digest(expected.encode(), secret.strip().encode()) else None


def _open_path(method: str, path: str, query: bytes = b"", signed: bool = False) -> bool:
    if path == "/_sendoff/health" or path.startswith("/_sendoff/code/"):
        return True
    if path == "/console" or path.startswith("/console/"):
        return True
    if method != "GET":
        return False
    return path == "/_sendoff/sns" or (path == "/" and not signed and is_sns_link(query))


_LINK_ACTIONS = frozenset({"ConfirmSubscription", "Unsubscribe"})


def is_sns_link(query: bytes) -> bool:
    """Whether a query string is an SNS SubscribeURL/UnsubscribeURL link
    (``Action=ConfirmSubscription`` or ``Action=Unsubscribe``, no presigning)."""
    params = parse_qs(query.decode("latin-1"))
    if "X-Amz-Signature" in params or "X-Amz-Credential" in params:
        return False
    return params.get("Action", [""])[0] in _LINK_ACTIONS


class AuthGate:
    """``admit`` answers a rejection, or lets the request through with the caller set
    (and, when it read the body to check its hash, a ``receive`` that replays it)."""

    def __init__(
        self,
        authenticator: Authenticator,
        *,
        metrics_token: str,
        s3_path: Callable[[Scope], str | None] = lambda scope: None,
    ) -> None:
        self.authenticator = authenticator
        self.metrics_token = metrics_token
        self.s3_path = s3_path  # the S3 edge's signing_path: which requests are S3's

    async def admit(self, scope: Scope, receive: Receive) -> tuple[Response | None, Receive]:
        path: str = scope["path"]
        raw_headers = scope["headers"]  # ASGI: lower-case names
        signed = any(key == b"authorization" for key, _ in raw_headers)
        if _open_path(scope["method"], path, scope.get("query_string", b""), signed):
            return None, receive
        if path == "/metrics":
            bearer = dict(raw_headers).get(b"authorization")
            return self._metrics(bearer.decode("latin-1") if bearer else None), receive
        raw_path = scope.get("raw_path") or path.encode()
        s3_path = self.s3_path(scope)  # None unless S3's (sendoff.api.s3.addressing)
        is_s3 = s3_path is not None
        request = Incoming(
            method=scope["method"],
            raw_path=raw_path.decode("latin-1"),
            query_string=scope.get("query_string", b"").decode("latin-1"),
            raw_headers=raw_headers,
        )
        parsed: Parsed | None = None
        if s3_path is not None and not signed and is_presigned_v2(scope.get("query_string", b"")):
            return await self._admit_v2(scope, request, s3_path), receive
        try:
            # everything that needs no body first: a stranger's body is never read
            parsed = parse(request)
            check_time(parsed, self.authenticator.clock())
            caller, secret = await self.authenticator.identify(
                parsed.access_key_id, parsed.security_token, parsed
            )
            declared = request.header("x-amz-content-sha256")
            streamed = is_s3 and declared is not None and HEX64.fullmatch(declared) is not None
            if streamed or (is_s3 and parsed.presigned):
                pass  # S3 streams the body (checking a signed hash itself); presigned: unsigned
            elif declared is None or HEX64.fullmatch(declared):  # the body is signed: read it
                request.body, receive = await _read_body(receive, request.header("content-length"))
            verify(request, parsed, secret, body_checked_later=streamed)
            if is_s3 and declared is not None and declared.startswith(_SIGNED_CHUNKS):
                scope[CHUNK_SIGNING_KEY] = chunk_signing(parsed, secret)
        except AuthFailure as failure:
            if is_s3:
                return s3_failure_response(failure), receive
            protocol = protocol_of(path, request.header("x-amz-target"))
            service = parsed.service if parsed is not None else None
            return failure_response(failure, protocol=protocol, service=service), receive
        scope[CALLER_KEY] = caller
        return None, receive

    async def _admit_v2(self, scope: Scope, request: Incoming, path: str) -> Response | None:
        """An S3 presigned URL of Signature Version 2 (sendoff.auth.sigv2)."""
        key_id, token = access_key(request.query_string)
        try:
            caller, secret = await self.authenticator.identify(key_id, token)
            verify_presigned_v2(
                method=request.method, resource_path=path, query_string=request.query_string,
                headers=dict(request.headers), secret=secret, now=self.authenticator.clock(),
            )  # fmt: skip
        except AuthFailure as failure:
            return s3_failure_response(failure)
        scope[CALLER_KEY] = caller
        return None

    def _metrics(self, authorization: str | None) -> Response | None:
        if not self.metrics_token:
            return Response(
                "/metrics needs a bearer token when authentication is on: start the server"
                " with --metrics-token (or SENDOFF_METRICS_TOKEN) and send"
                " 'Authorization: Bearer <token>'.\n",
                status_code=403,
                media_type="text/plain",
            )
        expected = f"Bearer {self.metrics_token}".encode()
        if authorization is None or not hmac.compare_digest(authorization.encode(), expected):
            return Response("a valid bearer token is required\n", status_code=401,
                            media_type="text/plain",
                            headers={"WWW-Authenticate": 'Bearer realm="metrics"'})  # fmt: skip
        return None


async def _read_body(receive: Receive, length: str | None) -> tuple[bytes, Receive]:
    """The whole body (at most MAX_SIGNED_BODY), and a ``receive`` that hands it to the
    app as one message."""
    if length is not None and is_digits(length) and int(length) > MAX_SIGNED_BODY:
        raise AuthFailure("too_large")
    size = 0
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"", receive  # disconnected: nothing to verify, nothing to replay
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_SIGNED_BODY:
            raise AuthFailure("too_large")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
