"""REST-JSON rendering (the Lambda protocol): JSON bodies and AWS error shapes."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from sendoff.functions.errors import LambdaError, TooManyRequests


def json_response(
    body: Any, *, status: int = 200, request_id: str, headers: dict[str, str] | None = None
) -> Response:
    all_headers = {"x-amzn-RequestId": request_id}
    if headers:
        all_headers.update(headers)
    return Response(
        json.dumps(body, separators=(",", ":")).encode(),
        status_code=status,
        media_type="application/json",
        headers=all_headers,
    )


def empty_response(*, status: int, request_id: str) -> Response:
    return Response(b"", status_code=status, headers={"x-amzn-RequestId": request_id})


def error_response(error: LambdaError, *, request_id: str) -> Response:
    """The one place Lambda domain errors become wire errors."""
    body: dict[str, Any] = {"Type": "Service" if error.status >= 500 else "User"}
    if not error.typed:
        body = {}
    body[error.message_key] = error.message
    headers = {"x-amzn-RequestId": request_id, "X-Amzn-ErrorType": error.code}
    if isinstance(error, TooManyRequests):
        if error.reason:
            body["Reason"] = error.reason
        if error.retry_after is not None:
            headers["Retry-After"] = str(error.retry_after)
    return Response(
        json.dumps(body).encode(),
        status_code=error.status,
        media_type="application/json",
        headers=headers,
    )
