"""Execution records, in AWS's exact JSON shape (facts §4)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sendoff.model.clock import iso_millis_z


@dataclass(frozen=True, kw_only=True)
class AttemptResponse:
    """What the last attempt produced, as the record reports it."""

    executed_version: str
    function_error: str | None
    payload: bytes


def embed_json(raw: bytes | str) -> Any:
    """Payloads are embedded as JSON when they parse; otherwise as a string."""
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
    if text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def execution_record(
    *,
    timestamp: float,
    request_id: str,
    function_arn: str,
    condition: str,
    approximate_invoke_count: int,
    request_payload: bytes | str,
    response: AttemptResponse | None,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": iso_millis_z(timestamp),
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": approximate_invoke_count,
        },
        "requestPayload": embed_json(request_payload) if request_payload else {},
    }
    if response is not None:
        context: dict[str, Any] = {"statusCode": 200, "executedVersion": response.executed_version}
        if response.function_error:
            context["functionError"] = response.function_error
        record["responseContext"] = context
        record["responsePayload"] = embed_json(response.payload)
    return record


_COMPACT = json.JSONEncoder(
    separators=(",", ":")
)  # json.dumps(..., separators) builds one per call


def compact(record: dict[str, Any]) -> str:
    return _COMPACT.encode(record)
