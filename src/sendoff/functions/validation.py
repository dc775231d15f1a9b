"""Checks on function settings, with AWS's error codes and wording."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Mapping
from typing import Any

from sendoff.executor.codecache import UNZIPPED_LIMIT, UNZIPPED_MESSAGE
from sendoff.functions.errors import InvalidParameterValue, RequestTooLarge, validation_error
from sendoff.model.arn import arn_service

ROLE_RE = re.compile(r"^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
ENV_KEY_RE = re.compile(r"^[a-zA-Z]([a-zA-Z0-9_])+$")
RESERVED_ENV_KEYS = frozenset(
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    }
)  # fmt: skip
ENV_LIMIT_BYTES = 4096
MAX_ZIP_BYTES = 50 * 1024 * 1024
INLINE_ZIP_REQUEST_LIMIT = 69_905_067
"""AWS's request limit for CreateFunction/UpdateFunctionCode with an inline ZipFile: the
base64 of 50 MiB. Over it AWS answers 413 RequestEntityTooLargeException "Request must be
smaller than 69905067 bytes for the CreateFunction operation" (LocalStack's
LAMBDA_LIMITS_CREATE_FUNCTION_REQUEST_SIZE documents the same number)."""


def check_range(value: Any, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterValue(f"Invalid type for parameter {path}")
    if value < low:
        raise validation_error(
            value, path, f"Member must have value greater than or equal to {low}"
        )
    if value > high:
        raise validation_error(value, path, f"Member must have value less than or equal to {high}")
    return value


def check_role(role: Any) -> str:
    if not isinstance(role, str) or not ROLE_RE.match(role):
        raise validation_error(
            role,
            "role",
            "Member must satisfy regular expression pattern: "
            r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+",
        )
    return role


def check_environment(env: Any) -> dict[str, str]:
    if env is None:
        return {}
    if not isinstance(env, Mapping):
        raise InvalidParameterValue("Environment must be an object with Variables")
    variables = env.get("Variables") or {}
    if not isinstance(variables, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in variables.items()
    ):
        raise InvalidParameterValue("Environment variables must be a map of strings to strings")
    for key in variables:
        if not ENV_KEY_RE.match(key):
            raise validation_error(
                "[" + ", ".join(variables) + "]",
                "environment.variables",
                "Map keys must satisfy constraint: [Member must satisfy regular expression "
                "pattern: [a-zA-Z]([a-zA-Z0-9_])+]",
            )
    reserved = sorted(k for k in variables if k in RESERVED_ENV_KEYS)
    if reserved:
        raise InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the environment"
            " variables you have provided contains reserved keys that are currently not"
            f" supported for modification. Reserved keys used in this request: {','.join(reserved)}"
        )
    measured = json.dumps(dict(variables), separators=(",", ":"))
    if len(measured.encode()) > ENV_LIMIT_BYTES:
        raise InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the environment"
            " variables you have provided exceeded the 4KB limit. String measured: " + measured
        )
    return dict(variables)


def check_runtime_handler(runtime: Any, handler: Any) -> tuple[str, str]:
    from sendoff.executor import SUPPORTED_RUNTIMES, validate_handler

    if not isinstance(runtime, str) or runtime not in SUPPORTED_RUNTIMES:
        allowed = ", ".join(sorted(SUPPORTED_RUNTIMES))
        raise InvalidParameterValue(
            f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy"
            f" enum value set: [{allowed}] or be a valid ARN"
        )
    if not isinstance(handler, str) or not handler or len(handler) > 128 or " " in handler:
        raise validation_error(
            handler, "handler", r"Member must satisfy regular expression pattern: [^\s]+"
        )
    problem = validate_handler(runtime, handler)
    if problem:
        raise InvalidParameterValue(problem)
    return runtime, handler


async def read_package(zip_b64: Any, *, operation: str) -> tuple[bytes, str]:
    """Decode and check an inline ZipFile; returns the zip bytes and their CodeSha256.

    Runs in a worker thread: decoding, hashing and reading the central directory of a
    50 MB package take long enough to stall every other request if run on the loop.
    """
    return await asyncio.to_thread(_read_package, zip_b64, operation)


def _read_package(zip_b64: Any, operation: str) -> tuple[bytes, str]:
    data = decode_zip(zip_b64, operation=operation)
    return data, code_sha256(data)


_B64_CHUNK = 1 << 20  # characters, a multiple of 4


def _b64decode(text: str) -> bytes:
    """Strict base64, decoded a megabyte at a time: one call on a 70 MB string holds the
    GIL for about 0.4 s, which stalls the event loop even from a worker thread; between
    chunks the loop gets its turn."""
    if len(text) <= _B64_CHUNK:
        return base64.b64decode(text, validate=True)
    parts = []
    for start in range(0, len(text), _B64_CHUNK):
        chunk = text[start : start + _B64_CHUNK]
        if start + _B64_CHUNK < len(text) and chunk.endswith("="):
            raise binascii.Error("Discontinuous padding")  # padding only at the very end
        parts.append(base64.b64decode(chunk, validate=True))
    return b"".join(parts)


def decode_zip(zip_b64: Any, *, operation: str = "CreateFunction") -> bytes:
    """ZipFile arrives base64-encoded in the JSON body (botocore encodes blobs)."""
    if not isinstance(zip_b64, str):
        raise InvalidParameterValue("ZipFile must be base64-encoded zip bytes")
    try:
        data = _b64decode(zip_b64)
    except (binascii.Error, ValueError) as exc:
        raise InvalidParameterValue("Could not decode ZipFile: invalid base64") from exc
    if len(data) > MAX_ZIP_BYTES:
        # the request limit (api.body_limit) normally answers first, with the same words
        raise RequestTooLarge(
            f"Request must be smaller than {INLINE_ZIP_REQUEST_LIMIT} bytes for the"
            f" {operation} operation"
        )
    check_package(data)
    return data


def check_package(data: bytes) -> None:
    """Refuse a zip that is not one, or whose declared unzipped size is over AWS's quota.

    Only the central directory is read (no decompression), so this is cheap; the sizes
    it declares can lie, which is why unpacking counts the bytes it really writes
    (executor.codecache) and stops at the same limit.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            declared = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise InvalidParameterValue(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from exc
    if declared >= UNZIPPED_LIMIT:
        # "smaller than": a package of exactly the limit is refused too (as LocalStack does)
        raise InvalidParameterValue(UNZIPPED_MESSAGE)


def code_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def check_dead_letter_config(config: Any) -> str | None:
    """DeadLetterConfig.TargetArn: a standard SQS queue or SNS topic ARN; empty clears it."""
    if not config:
        return None
    target = config.get("TargetArn")
    if not target:
        return None
    if not isinstance(target, str) or not target.startswith("arn:"):
        raise validation_error(
            target,
            "deadLetterConfig.targetArn",
            "Member must satisfy regular expression pattern: "
            "(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()",
        )
    service = arn_service(target)
    if service not in ("sqs", "sns"):
        raise InvalidParameterValue(
            f"The provided target ARN {target} is invalid. Only SQS queues and SNS topics are"
            " supported as dead-letter targets."
        )
    return target
