"""Create functions on a running server with boto3."""

from __future__ import annotations

import uuid
from typing import Any

from tests.support.server import wait_until
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


def wait_active(client: Any, name: str, timeout: float = 30.0) -> dict[str, Any]:
    """Poll until a new function is Active (AWS answers CreateFunction with Pending)."""

    def active() -> dict[str, Any] | None:
        config = dict(client.get_function_configuration(FunctionName=name))
        return config if config["State"] != "Pending" else None

    return wait_until(active, timeout=timeout, message=f"{name} to become Active")  # type: ignore[no-any-return]


def wait_updated(client: Any, name: str, timeout: float = 30.0) -> dict[str, Any]:
    """Poll until an update's LastUpdateStatus is no longer InProgress."""

    def updated() -> dict[str, Any] | None:
        config = dict(client.get_function_configuration(FunctionName=name))
        return config if config.get("LastUpdateStatus") != "InProgress" else None

    return wait_until(updated, timeout=timeout, message=f"{name} to finish updating")  # type: ignore[no-any-return]


def create_python(
    client: Any,
    name: str | None = None,
    source: str = PY_ECHO,
    *,
    wait: bool = True,
    **kwargs: Any,
) -> dict[str, Any]:
    """CreateFunction's answer (State Pending); with `wait`, returns once the function is
    Active, as callers that invoke it next need."""
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
    created = dict(client.create_function(**params))
    if wait:
        wait_active(client, params["FunctionName"])
    return created


def queue_with_arn(sqs: Any, prefix: str = "records") -> tuple[str, str]:
    """(url, ARN) of a new standard queue."""
    url = sqs.create_queue(QueueName=unique(prefix))["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return str(url), str(attrs["QueueArn"])


def with_sqs_destination(url: str, source: str, prefix: str = "fn") -> tuple[Any, Any, str, str]:
    """(lambda client, sqs client, queue URL, function name): a new Python function whose
    OnSuccess records go to a new queue, on the server at ``url``."""
    from tests.conftest import client_for

    lam, sqs = client_for(url, "lambda"), client_for(url, "sqs")
    queue_url, queue_arn = queue_with_arn(sqs)
    name = unique(prefix)
    create_python(lam, name, source=source)
    lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": queue_arn}}
    )
    return lam, sqs, queue_url, name
