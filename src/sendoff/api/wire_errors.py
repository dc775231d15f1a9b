"""Errors raised before a request reaches its service, in the wire format of its protocol.

A guard that refuses a request (wrong Host, a cross-site browser request, a missing or bad
signature, an oversized body) has not parsed it yet, so it tells the protocol from the
request's outside, the way sendoff's router does:

* ``/2015-03-31/...`` and Lambda's other dated paths: REST-JSON (``x-amzn-ErrorType``);
* ``POST /`` with ``X-Amz-Target``: the JSON protocols (``__type``);
* ``POST /`` otherwise: the query protocols (``<ErrorResponse>`` XML);
* ``/console``: plain text for a person; ``/_sendoff`` and the rest: JSON;
* a request S3 claims (:func:`sendoff.api.s3.addressing.s3_target`): S3's ``<Error>`` XML.
"""

from __future__ import annotations

import enum
import json
from html import escape

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Scope

from sendoff.api.query_xml import query_error
from sendoff.api.s3.addressing import s3_target
from sendoff.model.ids import ordered_id


class Protocol(enum.Enum):
    REST_JSON = "rest-json"
    JSON = "json"
    QUERY = "query"
    CONSOLE = "console"
    INTERNAL = "internal"
    S3 = "s3"


_LAMBDA_PREFIXES = ("/2015-03-31/", "/2016-08-19/", "/2017-03-31/", "/2017-10-31/",
                    "/2018-10-31/", "/2019-09-25/", "/2019-09-30/", "/2020-04-22/",
                    "/2020-06-30/", "/2021-07-20/", "/2021-10-31/", "/2014-11-13/")  # fmt: skip


def protocol_of(scope: Scope) -> Protocol:
    if scope.get("type") == "http" and s3_target(scope) is not None:
        return Protocol.S3
    path: str = scope.get("path", "")
    if path.startswith(_LAMBDA_PREFIXES):
        return Protocol.REST_JSON
    if path == "/" or path == "":
        if Headers(scope=scope).get("x-amz-target"):
            return Protocol.JSON
        return Protocol.QUERY
    if path == "/console" or path.startswith("/console/"):
        return Protocol.CONSOLE
    return Protocol.INTERNAL


def wire_error(
    protocol: Protocol,
    *,
    status: int,
    code: str,
    message: str,
    sender_fault: bool = True,
    headers: dict[str, str] | None = None,
) -> Response:
    """AWS's error shape for ``protocol``; ``code`` is the AWS error code."""
    request_id = ordered_id()
    all_headers = {"x-amzn-RequestId": request_id, **(headers or {})}
    if protocol is Protocol.REST_JSON:
        all_headers["X-Amzn-ErrorType"] = code
        body = {"Type": "User" if sender_fault else "Service", "message": message}
        return Response(json.dumps(body).encode(), status, all_headers, "application/json")
    if protocol is Protocol.JSON:
        all_headers["x-amzn-query-error"] = f"{code};{'Sender' if sender_fault else 'Receiver'}"
        body = {"__type": code, "message": message}
        media_type = "application/x-amz-json-1.0"
        return Response(json.dumps(body).encode(), status, all_headers, media_type)
    if protocol is Protocol.QUERY:
        return query_error(
            code=code, message=message, status=status, request_id=request_id,
            sender_fault=sender_fault, headers=headers,
        )  # fmt: skip
    if protocol is Protocol.S3:
        s3_headers = {"x-amz-request-id": request_id, **(headers or {})}
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
        )
        return Response(xml.encode(), status, s3_headers, "application/xml")
    if protocol is Protocol.CONSOLE:
        return Response(message.encode(), status, all_headers, "text/plain")
    return Response(
        json.dumps({"code": code, "message": message}).encode(), status, all_headers,
        "application/json",
    )  # fmt: skip
