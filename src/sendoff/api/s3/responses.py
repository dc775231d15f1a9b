"""S3's responses: XML documents and errors with ``x-amz-request-id`` (the one place S3
errors are mapped to the wire)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from starlette.responses import Response

from sendoff.api.s3.xml import document, element, leaf
from sendoff.services.s3.errors import S3Error

HOST_ID = "c2VuZG9mZg=="  # x-amz-id-2: AWS's is an opaque token; sendoff's is constant


def request_headers(request_id: str) -> dict[str, str]:
    return {"x-amz-request-id": request_id, "x-amz-id-2": HOST_ID}


def xml_response(
    root: ET.Element, request_id: str, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        document(root),
        status,
        {**request_headers(request_id), **(headers or {})},
        media_type="application/xml",
    )


def empty(request_id: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(b"", status, {**request_headers(request_id), **(headers or {})})


def error_response(
    error: S3Error, request_id: str, *, head: bool = False, resource: str | None = None
) -> Response:
    """``<Error><Code>..</Code><Message>..</Message>...</Error>``; HEAD gets no body."""
    headers = request_headers(request_id)
    if error.status == 304:
        return Response(b"", 304, headers)
    if head:
        return Response(b"", error.status, headers)
    root = element("Error", leaf("Code", error.code), leaf("Message", error.message))
    for name, value in error.extra.items():
        root.append(leaf(name, value))
    if resource is not None and "Resource" not in error.extra and error.status != 404:
        root.append(leaf("Resource", resource))
    root.append(leaf("RequestId", request_id))
    root.append(leaf("HostId", HOST_ID))
    return Response(document(root), error.status, headers, media_type="application/xml")
