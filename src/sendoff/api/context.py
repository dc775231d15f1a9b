"""Per-request facts every protocol needs: account, region (from SigV4), request id, host."""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.requests import Request

from sendoff.model.ids import ordered_id

CALLER_KEY = "sendoff.caller"
"""The ASGI scope key where the authentication gate (sendoff.auth.gate) puts the verified
caller; its ``account_id`` overrides the server's default account."""

CHUNK_SIGNING_KEY = "sendoff.chunk_signing"
"""Where the gate puts a :class:`sendoff.auth.sigv4.ChunkSigning` for a verified request
whose body is sent in signed chunks (S3's ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``)."""

_CREDENTIAL_RE = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")


@dataclass(frozen=True, kw_only=True)
class RequestContext:
    account_id: str
    region: str
    request_id: str
    host: str  # host:port the client used (queue URLs are formed from it)
    service: str | None  # the SigV4 signing name, when signed


def region_and_service(authorization: str | None) -> tuple[str | None, str | None]:
    if not authorization:
        return None, None
    match = _CREDENTIAL_RE.search(authorization)
    if match is None:
        return None, None
    return match.group(1), match.group(2)


def request_context(request: Request, *, account_id: str, default_region: str) -> RequestContext:
    caller = request.scope.get(CALLER_KEY)
    if caller is not None:  # verified (sendoff.auth.gate): its scope is already parsed
        region, service = caller.region, caller.service
        account_id = caller.account_id
    else:
        region, service = region_and_service(request.headers.get("authorization"))
        if region is None and "X-Amz-Credential" in request.query_params:
            parts = request.query_params["X-Amz-Credential"].split("/")
            if len(parts) >= 4:
                region, service = parts[2], parts[3]
    return RequestContext(
        account_id=account_id,
        region=region or default_region,
        request_id=ordered_id(),
        host=request.headers.get("host", "localhost"),
        service=service,
    )
