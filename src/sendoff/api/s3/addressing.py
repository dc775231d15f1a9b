"""Which requests are S3's, and the bucket and key they name.

A request is S3's when it is signed for the ``s3`` service (the ``Authorization``
header's credential scope, or a presigned URL's ``X-Amz-Credential``, or an S3 presigned
URL of Signature Version 2: ``AWSAccessKeyId`` and ``Signature``), or when its Host is
virtual-hosted under ``s3.localhost`` (``<bucket>.s3.localhost:<port>``), signed or not.
Unsigned path-style requests (``/bucket/key`` with no signature) are not S3's: they reach
sendoff's own routes (and their 404), so an anonymous request cannot read an object by
guessing a path; anonymous S3 access needs the virtual-hosted name.

Addressing:

* path style: ``http://127.0.0.1:PORT/<bucket>/<key>`` (what boto3 and the AWS CLI use
  with ``--endpoint-url``, the default ``addressing_style``);
* virtual-hosted: ``<bucket>.s3.localhost:PORT`` and, for a request signed for ``s3``,
  ``<bucket>.localhost:PORT`` (boto3 with ``addressing_style="virtual"`` and
  ``endpoint_url=http://s3.localhost:PORT`` or ``http://localhost:PORT``).

The key is taken from the raw path, percent-decoded once, so ``a/../b`` and ``a//b`` are
the keys they spell (no normalisation), as S3 keeps them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote_to_bytes

from starlette.types import Scope

_CREDENTIAL_RE = re.compile(rb"Credential=[^/,\s]+/\d{8}/[a-z0-9-]+/([a-z0-9-]+)/aws4_request")
S3_HOST = "s3.localhost"


@dataclass(frozen=True)
class Target:
    bucket: str | None
    key: str | None
    virtual: bool


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _host(scope: Scope) -> str:
    host = (_header(scope, b"host") or b"").decode("latin-1").strip().lower()
    if host.startswith("["):
        return host
    return host.rsplit(":", 1)[0] if ":" in host else host


def signed_for_s3(scope: Scope) -> bool:
    authorization = _header(scope, b"authorization")
    if authorization is not None:
        match = _CREDENTIAL_RE.search(authorization)
        return match is not None and match.group(1) == b"s3"
    query: bytes = scope.get("query_string", b"")
    if b"AWSAccessKeyId=" in query and b"Signature=" in query:
        return True  # a Signature Version 2 presigned URL: only S3 has those
    if b"X-Amz-Credential" not in query:
        return False
    for name, value in parse_qsl(query.decode("latin-1")):
        if name == "X-Amz-Credential":
            parts = value.split("/")
            return len(parts) >= 4 and parts[3] == "s3"
    return False


def s3_target(scope: Scope) -> Target | None:
    """The bucket and key of an S3 request, or None when the request is not S3's."""
    host = _host(scope)
    virtual_bucket: str | None = None
    if host == S3_HOST or host.endswith("." + S3_HOST):
        virtual_bucket = host[: -len(S3_HOST) - 1] if host != S3_HOST else None
        signed = True  # S3 whatever the signature says
    else:
        signed = signed_for_s3(scope)
        if not signed:
            return None
        if host.endswith(".localhost"):
            virtual_bucket = host[: -len(".localhost")]
    raw: bytes = scope.get("raw_path") or scope["path"].encode()
    path = raw.split(b"?", 1)[0]
    if virtual_bucket:
        return Target(virtual_bucket, _decoded(path[1:]), True)
    rest = path[1:]
    if not rest:
        return Target(None, None, False)
    bucket, slash, key = rest.partition(b"/")
    return Target(_decoded(bucket), _decoded(key) if slash else None, False)


def _decoded(part: bytes) -> str | None:
    """Percent-decoded UTF-8 (invalid UTF-8 kept as surrogates: the key check refuses it)."""
    if not part:
        return None
    return unquote_to_bytes(part).decode("utf-8", "surrogateescape")


def signing_path(scope: Scope) -> str | None:
    """For an S3 request, the path S3's Version 2 signatures sign (``/<bucket>/<key>`` as
    sent, the bucket put back for virtual-hosted requests); None for another service's."""
    target = s3_target(scope)
    if target is None:
        return None
    raw: bytes = scope.get("raw_path") or scope["path"].encode()
    path = raw.split(b"?", 1)[0].decode("latin-1")
    return "/" + (target.bucket or "") + path if target.virtual else path
