"""The request and error plumbing the JSON 1.1 services share (EventBridge, CloudWatch Logs).

Both read a JSON object from the body of a POST whose ``X-Amz-Target`` names the
operation, and answer errors as ``{"__type": code, "message": ...}`` with
``x-amzn-ErrorType``; only the service's own error classes and operations differ.
"""

from __future__ import annotations

import json
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from sendoff.api.json_shapes import (
    TOO_DEEP,
    NotJson,
    lone_surrogate_path,
    maybe_has_surrogate,
    parse_json,
)

CONTENT_TYPE: Final = "application/x-amz-json-1.1"


def wire_error(code: str, message: str, headers: dict[str, str], *, status: int = 400) -> Response:
    return Response(
        json.dumps({"__type": code, "message": message}).encode(),
        status_code=status,
        media_type=CONTENT_TYPE,
        headers={**headers, "x-amzn-ErrorType": code},
    )


async def read_object(
    request: Request, headers: dict[str, str]
) -> tuple[dict[str, Any], str | None] | Response:
    """The request's JSON object and where in it a lone surrogate sits (None: nowhere; the
    service words that error itself), or the ``SerializationException`` to answer."""
    raw = await request.body()
    try:
        body = parse_json(raw or b"{}")
    except NotJson as exc:
        message = TOO_DEEP if str(exc) == TOO_DEEP else "Request body is not valid JSON"
        return wire_error("SerializationException", message, headers)
    if not isinstance(body, dict):
        return wire_error("SerializationException", "Request body must be an object", headers)
    where = lone_surrogate_path(body) if maybe_has_surrogate(raw) else None
    return body, where
