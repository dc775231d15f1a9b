"""Log lines and error payloads worded like AWS Lambda's. Pure functions."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

from sendoff.executor.runtime_api import MAX_PAYLOAD_BYTES


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}\n"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}\n"


def report_line(
    *,
    request_id: str,
    duration_ms: float,
    billed_duration_ms: int,
    memory_mb: int,
    max_memory_used_mb: int,
    init_duration_ms: float | None,
) -> str:
    """The REPORT line; like AWS, every field (the last one too) ends with a tab."""
    fields = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {billed_duration_ms} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {max_memory_used_mb} MB",
    ]
    if init_duration_ms is not None:
        fields.append(f"Init Duration: {init_duration_ms:.2f} ms")
    return "\t".join(fields) + "\t\n"


def billed_duration(duration_ms: float) -> int:
    """Lambda bills in 1 ms increments, at least 1 ms."""
    return max(1, math.ceil(duration_ms))


def timestamp(now: datetime | None = None) -> str:
    """`2024-01-01T00:00:00.000Z`."""
    moment = now or datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def error_payload(error_type: str, message: str) -> bytes:
    return json.dumps(
        {"errorType": error_type, "errorMessage": message}, separators=(",", ":")
    ).encode()


def timeout_message(request_id: str, timeout_s: float) -> str:
    return f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds"


def timeout_log_line(request_id: str, timeout_s: float) -> str:
    return f"{timestamp()} {request_id} Task timed out after {timeout_s:.2f} seconds\n"


TOO_LARGE_MESSAGE = (
    f"Response payload size exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."
)


def error_type_of(body: bytes, header: str | None) -> str:
    """The `errorType` of a posted error: from the JSON body, else the header. A body the
    runtime posted is the function's to shape: one nested past Python's recursion limit is
    read as no JSON at all, never an error of sendoff's (issue 17)."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        parsed = None
    error_type = parsed.get("errorType") if isinstance(parsed, dict) else None
    if isinstance(error_type, str) and error_type:
        return error_type
    return header or "Runtime.Unknown"


def with_request_id(body: bytes, request_id: str) -> bytes:
    """Fill an empty `requestId` in an init error (AWS reports it with the invoke's id)."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return body
    if isinstance(parsed, dict) and parsed.get("requestId") == "":
        parsed["requestId"] = request_id
        return json.dumps(parsed).encode()
    return body
