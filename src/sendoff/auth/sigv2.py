"""S3's query-string authentication with Signature Version 2 (``AWSAccessKeyId``,
``Signature``, ``Expires``): what boto3's ``generate_presigned_url`` and ``aws s3 presign``
produce for S3 unless ``signature_version="s3v4"`` is configured.

The string to sign (AWS's "Signing and authenticating REST requests", query string
authentication), as botocore's ``HmacV1QueryAuth`` builds it::

    METHOD \\n Content-MD5 \\n Content-Type \\n Expires \\n
    x-amz-* headers (sorted, lower-case, "name:value\\n") resource

where the resource is ``/<bucket>/<key>`` as sent (with the bucket put back for
virtual-hosted requests) followed by the sub-resources botocore signs
(``HmacV1Auth.QSAOfInterest``), sorted. The signature is base64 HMAC-SHA1.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, unquote

from botocore.auth import HmacV1Auth

from sendoff.auth.sigv4 import AuthFailure
from sendoff.model.digits import is_digits

_SIGNED_SUBRESOURCES = frozenset(HmacV1Auth.QSAOfInterest)
_AUTH_PARAMS = frozenset({"AWSAccessKeyId", "Signature", "Expires"})


def is_presigned_v2(query_string: bytes) -> bool:
    names = {pair.split(b"=", 1)[0] for pair in query_string.split(b"&")}
    return {b"AWSAccessKeyId", b"Signature", b"Expires"} <= names


def access_key(query_string: str) -> tuple[str, str | None]:
    """(access key id, security token) of a presigned V2 URL."""
    params = dict(parse_qsl(query_string, keep_blank_values=True))
    return params.get("AWSAccessKeyId", ""), params.get("x-amz-security-token")


def verify_presigned_v2(
    *,
    method: str,
    resource_path: str,
    query_string: str,
    headers: dict[str, str],
    secret: str,
    now: float,
) -> None:
    """AuthFailure unless the URL is signed with ``secret`` and not expired.

    ``resource_path`` is the raw path with the bucket (``/bucket/key``, percent-encoded
    as sent); ``headers`` lower-case names."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    params = dict(pairs)
    expires = params.get("Expires", "")
    if not is_digits(expires):
        raise AuthFailure("incomplete", "Expires must be a number of seconds since the epoch.")
    if now > int(expires):
        raise AuthFailure("presign_expired", "Request has expired")
    amz: dict[str, str] = {}
    for name, value in headers.items():
        if name.startswith("x-amz-"):
            amz[name] = value.strip()
    for name, value in pairs:
        if name.lower().startswith("x-amz-"):
            amz[name.lower()] = value
    content_md5 = headers.get("content-md5") or params.get("content-md5", "")
    content_type = headers.get("content-type") or params.get("content-type", "")
    subresources = sorted(
        (name, value)
        for name, value in _raw_pairs(query_string)
        if name in _SIGNED_SUBRESOURCES and name not in _AUTH_PARAMS
    )
    resource = resource_path
    if subresources:
        resource += "?" + "&".join(f"{n}={unquote(v)}" if v is not None else n
                                   for n, v in subresources)  # fmt: skip
    lines = [method, content_md5, content_type, expires]
    lines += [f"{name}:{amz[name]}" for name in sorted(amz)]
    to_sign = "\n".join([*lines, resource])
    expected = base64.b64encode(
        hmac.new(secret.encode(), to_sign.encode("utf-8"), hashlib.sha1).digest()
    ).decode()
    if not hmac.compare_digest(expected, params.get("Signature", "")):
        raise AuthFailure("bad_signature")


def _raw_pairs(query_string: str) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for part in query_string.split("&"):
        if not part:
            continue
        name, eq, value = part.partition("=")
        out.append((name, value if eq else None))
    return out
