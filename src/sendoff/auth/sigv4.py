"""Verify AWS Signature Version 4 with botocore's signer as the reference.

A request is parsed once (:func:`parse`: header-signed or presigned), its secret looked up
by the caller, then :func:`verify` re-signs it and compares in constant time: first with
the direct canonical form of :mod:`sendoff.auth.canonical` (the hot path), then, only if
that does not match, with botocore's ``SigV4Auth`` (:mod:`sendoff.auth.reference`), which
decides. The inputs: the path and query exactly as sent (``raw_path``, ``query_string``:
Starlette has already decoded ``path``), the headers the client listed in
``SignedHeaders`` and nothing else, and the timestamp from ``X-Amz-Date`` (or ``Date``).

Payload: ``x-amz-content-sha256`` set to a hex hash must equal the body's SHA-256;
``UNSIGNED-PAYLOAD`` and ``STREAMING-*`` are signed as they are (for
``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` this checks the seed signature; the per-chunk
signatures only S3 uses are checked by S3 as the body streams, with
:class:`ChunkSigning`). Without the header the body's hash is signed,
as every non-S3 SDK does.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import unquote

from sendoff.auth.canonical import canonical_request
from sendoff.auth.reference import BotoRequest, Headers, Reference
from sendoff.model.digits import is_digits

log = logging.getLogger("sendoff.auth")

SKEW_S = 15 * 60
MAX_PRESIGN_EXPIRES_S = 7 * 24 * 3600
ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED = "UNSIGNED-PAYLOAD"
HEX64 = re.compile(r"[0-9a-f]{64}")
_TS_FORMAT = "%Y%m%dT%H%M%SZ"


class AuthFailure(Exception):
    """Why a request is not authenticated. ``kind`` picks the wire code (auth.wire):

    ``missing``, ``incomplete``, ``unknown_key``, ``bad_signature``, ``expired`` (clock
    skew; the message is AWS's), ``presign_expired``, ``token_expired``, ``too_large``.
    """

    def __init__(self, kind: str, message: str = "") -> None:
        super().__init__(message or kind)
        self.kind = kind
        self.message = message


class Incoming:
    """One request as received, nothing decoded: ``raw_headers`` are the ASGI (lower-case
    name, value) byte pairs in order. Values are decoded only when asked for."""

    __slots__ = ("_index", "body", "method", "query_string", "raw_headers", "raw_path")

    def __init__(
        self,
        *,
        method: str,
        raw_path: str,
        query_string: str,
        raw_headers: Sequence[tuple[bytes, bytes]],
        body: bytes = b"",
    ) -> None:
        self.method = method
        self.raw_path = raw_path
        self.query_string = query_string
        self.raw_headers = raw_headers
        self.body = body
        self._index: dict[bytes, bytes] = dict(raw_headers)  # the last of repeated names

    @property
    def repeated(self) -> bool:
        """Some header name appears more than once."""
        return len(self._index) != len(self.raw_headers)

    @property
    def headers(self) -> list[tuple[str, str]]:
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self.raw_headers]

    def header(self, name: str) -> str | None:
        if self.repeated:
            for key, value in self.raw_headers:  # the first, as HTTP readers take it
                if key == name.encode():
                    return value.decode("latin-1")
            return None
        raw = self._index.get(name.encode())
        return None if raw is None else raw.decode("latin-1")


@dataclass(kw_only=True, slots=True)  # not frozen: built on every request, never changed
class Parsed:
    access_key_id: str
    scope_date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: str  # YYYYMMDDTHHMMSSZ
    presigned: bool
    expires_s: int = 0
    security_token: str | None = None
    query: list[tuple[str, str]] = field(default_factory=list)  # decoded, without signature


def _query_pairs(query_string: str) -> list[tuple[str, str]]:
    pairs = []
    for part in query_string.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((unquote(key), unquote(value)))
    return pairs


def parse(request: Incoming) -> Parsed:
    """The signature's parts, or AuthFailure (``missing`` / ``incomplete``)."""
    authorization = request.header("authorization")
    query = _query_pairs(request.query_string) if request.query_string else []
    presigned = any(k == "X-Amz-Algorithm" for k, _ in query)
    if authorization is not None and presigned:
        raise AuthFailure(
            "incomplete",
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as"
            " HTTP header.",
        )
    if presigned:
        return _parse_query(query)
    if not authorization or not authorization.startswith("AWS4-"):
        raise AuthFailure("missing")
    return _parse_header(request, authorization, query)


def _scope(credential: str, where: str) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise AuthFailure(
            "incomplete",
            "Credential must have exactly 5 slash-delimited elements, e.g."
            f" keyid/date/region/service/term, got '{credential}'{where}",
        )
    return parts[0], parts[1], parts[2], parts[3]


def _parse_header(request: Incoming, authorization: str, query: list[tuple[str, str]]) -> Parsed:
    algorithm, _, rest = authorization.partition(" ")
    credential = signed_headers = signature = ""
    for item in rest.split(","):
        key, _, value = item.strip().partition("=")
        if key == "Credential":
            credential = value
        elif key == "SignedHeaders":
            signed_headers = value
        elif key == "Signature":
            signature = value
    timestamp = request.header("x-amz-date")
    if timestamp is None:
        date = request.header("date")
        timestamp = None if date is None else _from_http_date(date)
    if not (credential and signed_headers and signature and timestamp):
        present = {"Credential": credential, "Signature": signature,
                   "SignedHeaders": signed_headers}  # fmt: skip
        message = "".join(
            f"Authorization header requires '{p}' parameter. " for p, v in present.items() if not v
        )
        if timestamp is None:
            message += (
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date'"
                " header. "
            )
        raise AuthFailure("incomplete", message + f"Authorization={algorithm}")
    if algorithm != ALGORITHM:
        raise AuthFailure(
            "incomplete", f"Unsupported AWS 'algorithm': '{algorithm}' (only {ALGORITHM} for now)."
        )
    key_id, date, region, service = _scope(credential, "")
    return Parsed(
        access_key_id=key_id,
        scope_date=date,
        region=region,
        service=service,
        signed_headers=tuple(signed_headers.split(";")),
        signature=signature,
        timestamp=_check_timestamp(timestamp),
        presigned=False,
        security_token=request.header("x-amz-security-token"),
        query=query,
    )


def _parse_query(query: list[tuple[str, str]]) -> Parsed:
    values = dict(query)
    required = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders",
                "X-Amz-Date")  # fmt: skip
    missing = [p for p in required if not values.get(p)]
    if missing:
        message = "".join(f"AWS query-string parameters must include '{p}'. " for p in missing)
        raise AuthFailure("incomplete", message + "Re-examine the query-string parameters.")
    if values["X-Amz-Algorithm"] != ALGORITHM:
        raise AuthFailure(
            "incomplete",
            f"Unsupported AWS 'algorithm': '{values['X-Amz-Algorithm']}' (only {ALGORITHM} for"
            " now).",
        )
    try:
        expires = int(values.get("X-Amz-Expires", "3600"))
    except ValueError:
        raise AuthFailure("incomplete", "X-Amz-Expires must be a number of seconds.") from None
    if not 0 <= expires <= MAX_PRESIGN_EXPIRES_S:
        raise AuthFailure(
            "incomplete", "X-Amz-Expires must be less than a week (in seconds) that is 604800"
        )
    key_id, date, region, service = _scope(values["X-Amz-Credential"], "")
    return Parsed(
        access_key_id=key_id,
        scope_date=date,
        region=region,
        service=service,
        signed_headers=tuple(values["X-Amz-SignedHeaders"].split(";")),
        signature=values["X-Amz-Signature"],
        timestamp=_check_timestamp(values["X-Amz-Date"]),
        presigned=True,
        expires_s=expires,
        security_token=values.get("X-Amz-Security-Token"),
        query=[(k, v) for k, v in query if k != "X-Amz-Signature"],
    )


def _from_http_date(value: str) -> str | None:
    try:
        return parsedate_to_datetime(value).astimezone(UTC).strftime(_TS_FORMAT)
    except (TypeError, ValueError):
        return None


@lru_cache(maxsize=256)
def _epoch_or_none(timestamp: str) -> float | None:
    """``YYYYMMDDTHHMMSSZ`` as epoch seconds (cached: within a second every request has the
    same stamp, and strptime costs more than the rest of the parse)."""
    if len(timestamp) != 16 or timestamp[8] != "T" or timestamp[15] != "Z":
        return None
    digits = timestamp[:8] + timestamp[9:15]
    if not is_digits(digits):
        return None
    try:
        year, month, day = int(digits[0:4]), int(digits[4:6]), int(digits[6:8])
        hour, minute, second = int(digits[8:10]), int(digits[10:12]), int(digits[12:14])
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
    return moment.timestamp()


def _check_timestamp(timestamp: str) -> str:
    if _epoch_or_none(timestamp) is None:
        raise AuthFailure(
            "incomplete",
            f"Date must be in ISO-8601 'basic format'. Got '{timestamp}'. See"
            " http://en.wikipedia.org/wiki/ISO_8601",
        )
    return timestamp


def _epoch(timestamp: str) -> float:
    epoch = _epoch_or_none(timestamp)
    assert epoch is not None  # checked by parse
    return epoch


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime(_TS_FORMAT)


def check_time(parsed: Parsed, now: float) -> None:
    """Clock skew (±15 min, AWS's messages) or a presigned URL past its expiry."""
    signed_at = _epoch(parsed.timestamp)
    if parsed.presigned:
        if now > signed_at + parsed.expires_s:
            raise AuthFailure("presign_expired", "Request has expired.")
        if signed_at > now + SKEW_S:
            raise AuthFailure(
                "expired",
                f"Signature not yet current: {parsed.timestamp} is still later than"
                f" {_stamp(now + SKEW_S)} ({_stamp(now)} + 15 min.)",
            )
        return
    if signed_at < now - SKEW_S:
        raise AuthFailure(
            "expired",
            f"Signature expired: {parsed.timestamp} is now earlier than {_stamp(now - SKEW_S)}"
            f" ({_stamp(now)} - 15 min.)",
        )
    if signed_at > now + SKEW_S:
        raise AuthFailure(
            "expired",
            f"Signature not yet current: {parsed.timestamp} is still later than"
            f" {_stamp(now + SKEW_S)} ({_stamp(now)} + 15 min.)",
        )


@lru_cache(maxsize=1024)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


_warned = False


def _reference_only(request: Incoming) -> None:
    """botocore accepted a signature the fast canonical form did not: a gap in
    :mod:`sendoff.auth.canonical` (said once per process; the request is accepted)."""
    global _warned
    if not _warned:
        _warned = True
        log.warning("SigV4: only botocore's canonical form matched %s %s", request.method,
                    request.raw_path)  # fmt: skip


def verify(
    request: Incoming, parsed: Parsed, secret: str, *, body_checked_later: bool = False
) -> None:
    """Recompute the signature with ``secret``; AuthFailure(``bad_signature``) if it
    differs or the body does not match its declared hash (unless ``body_checked_later``:
    S3 checks a streamed body against the signed hash as it stores it)."""
    signed: dict[str, list[str]] = {}
    if not request.repeated:  # the usual case
        index = request._index
        for name in parsed.signed_headers:
            raw = index.get(name.encode())
            if raw is None:
                raise AuthFailure("bad_signature")  # a signed header is missing
            signed[name] = [raw.decode("latin-1")]
    else:
        wanted = set(parsed.signed_headers)
        for name, value in request.headers:
            if name in wanted:
                signed.setdefault(name, []).append(value)
        if len(signed) != len(wanted):
            raise AuthFailure("bad_signature")
    declared = request.header("x-amz-content-sha256")
    if declared is not None and HEX64.fullmatch(declared) and not body_checked_later:
        body_hash = hashlib.sha256(request.body).hexdigest()
        if not hmac.compare_digest(declared, body_hash):
            raise AuthFailure("bad_signature")
    candidates: list[str | None] = [declared]
    if parsed.presigned and declared is None:
        candidates.append(UNSIGNED)  # S3-style presigned URLs sign UNSIGNED-PAYLOAD
    key = _signing_key(secret, parsed.timestamp[0:8], parsed.region, parsed.service)
    scope = f"{parsed.timestamp[0:8]}/{parsed.region}/{parsed.service}/aws4_request"
    for payload_hash in candidates:
        canonical = canonical_request(
            method=request.method,
            raw_path=request.raw_path,
            query=parsed.query,
            signed=signed,
            payload_hash=payload_hash or hashlib.sha256(request.body).hexdigest(),
        )
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        to_sign = f"{ALGORITHM}\n{parsed.timestamp}\n{scope}\n{digest}"
        expected = hmac.digest(key, to_sign.encode(), "sha256").hex()
        if hmac.compare_digest(expected, parsed.signature):
            return
    # The reference: botocore's own canonical request (they should never disagree).
    signer = Reference(secret, parsed, Headers(signed))
    for payload_hash in candidates:
        incoming = BotoRequest(request, parsed, payload_hash)
        canonical = signer.canonical_request(incoming)
        expected = signer.signature(signer.string_to_sign(incoming, canonical), incoming)
        if hmac.compare_digest(expected, parsed.signature):
            _reference_only(request)
            return
    raise AuthFailure("bad_signature")


EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True, kw_only=True)
class ChunkSigning:
    """What checks the chunks of a ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` body: each
    chunk's signature chains from the previous one, starting at the request's (seed)
    signature (AWS's "Signature calculations ... transferring payload in multiple chunks")."""

    key: bytes
    timestamp: str
    scope: str  # date/region/service/aws4_request
    seed: str

    def chunk(self, previous: str, data_sha256: str) -> str:
        to_sign = (f"{ALGORITHM}-PAYLOAD\n{self.timestamp}\n{self.scope}\n{previous}\n"
                   f"{EMPTY_SHA256}\n{data_sha256}")  # fmt: skip
        return hmac.digest(self.key, to_sign.encode(), "sha256").hex()

    def trailer(self, previous: str, trailer_sha256: str) -> str:
        to_sign = (
            f"{ALGORITHM}-TRAILER\n{self.timestamp}\n{self.scope}\n{previous}\n{trailer_sha256}"
        )
        return hmac.digest(self.key, to_sign.encode(), "sha256").hex()


def chunk_signing(parsed: Parsed, secret: str) -> ChunkSigning:
    """The chunk checker of a request whose seed signature :func:`verify` accepted."""
    date = parsed.timestamp[0:8]
    return ChunkSigning(
        key=_signing_key(secret, date, parsed.region, parsed.service),
        timestamp=parsed.timestamp,
        scope=f"{date}/{parsed.region}/{parsed.service}/aws4_request",
        seed=parsed.signature,
    )
