"""Create functions on a running server with boto3."""

from __future__ import annotations

import uuid
from typing import Any

from tests.support.zips import make_zip

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

PY_ECHO = """
import json, os, time

def handler(event, context):
    if isinstance(event, dict) and event.get("fail"):
        raise ValueError(event.get("message", "boom"))
    if isinstance(event, dict) and event.get("sleep"):
        time.sleep(event["sleep"])
    if isinstance(event, dict) and event.get("print"):
        print(event["print"])
    return {"event": event, "request_id": context.aws_request_id,
            "version": context.function_version, "arn": context.invoked_function_arn,
            "env": os.environ.get("GREETING"), "pid": os.getpid()}
"""


def unique(prefix: str = "fn") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_python(
    client: Any, name: str | None = None, source: str = PY_ECHO, **kwargs: Any
) -> dict[str, Any]:
    name = name or unique()
    params: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": make_zip({"app.py": source})},
        "Timeout": 10,
    }
    params.update(kwargs)
    return dict(client.create_function(**params))
