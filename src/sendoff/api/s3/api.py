"""The S3 REST-XML edge: an ASGI application the main app hands S3's requests to
(:func:`sendoff.api.s3.addressing.s3_target` decides which those are).

Parsing is here, rules are in :class:`sendoff.services.s3.service.S3Service`; errors
become XML in one place (:func:`sendoff.api.s3.responses.error_response`). Operations are
picked from the method, whether a bucket and a key are named, and the query's
subresources (``?uploads``, ``?location``, ``?list-type=2``...), as S3 does.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from sendoff.api.context import CALLER_KEY
from sendoff.api.s3 import buckets, objects, uploads
from sendoff.api.s3.addressing import Target, s3_target
from sendoff.api.s3.responses import error_response
from sendoff.model.digits import is_digits
from sendoff.model.ids import ordered_id
from sendoff.services.s3.errors import MethodNotAllowed, NotImplementedS3, S3Error
from sendoff.services.s3.model import Caller
from sendoff.services.s3.multipart import MultipartUploads
from sendoff.services.s3.service import S3Service

log = logging.getLogger(__name__)

DRAIN_BYTES = 16 * 1024 * 1024
_PRESIGN_PARAMS = frozenset({"AWSAccessKeyId", "Signature", "Expires"})
SubresourceHandler = Callable[["S3Request"], Awaitable[Response]]


class S3Request:
    """One parsed S3 request: who asks, for which bucket and key, with the raw request."""

    def __init__(
        self, request: Request, target: Target, *, account_id: str, default_region: str
    ) -> None:
        self.request = request
        self.bucket = target.bucket
        self.key = target.key
        self.virtual = target.virtual
        self.query = QueryParams(
            [
                (name, value)
                for name, value in request.query_params.multi_items()
                if name not in _PRESIGN_PARAMS and not name.lower().startswith("x-amz-")
            ]
        )  # the operation's parameters, without a presigned URL's authentication
        self.headers = request.headers
        self.method = request.method
        self.request_id = ordered_id().replace("-", "")[:16].upper()
        caller = request.scope.get(CALLER_KEY)
        region = default_region
        principal = account_id
        if caller is not None:
            account_id = caller.account_id
            region = caller.region or default_region
            principal = caller.user_id
        else:
            from sendoff.api.context import region_and_service

            signed_region, _ = region_and_service(request.headers.get("authorization"))
            credential = request.query_params.get("X-Amz-Credential", "")
            parts = credential.split("/")
            region = signed_region or (parts[2] if len(parts) >= 4 else None) or default_region
        self.account_id = account_id
        self.region = region
        client = request.client
        self.caller = Caller(
            account=account_id,
            region=region,
            principal_id=principal,
            source_ip=client.host if client else "127.0.0.1",
            request_id=self.request_id,
            trace_header=request.headers.get("x-amzn-trace-id"),
        )

    @property
    def receive(self) -> Receive:
        return self.request.receive

    @property
    def resource(self) -> str:
        path = "/" + (self.bucket or "")
        return path + ("/" + self.key if self.key else "")


def _expects_continue(scope: Scope) -> bool:
    return any(k == b"expect" and v.lower() == b"100-continue" for k, v in scope["headers"])


async def _settle_unread_body(scope: Scope, receive: Receive, response: Response) -> None:
    """A request with ``Expect: 100-continue`` answered before its body was asked for.

    uvicorn sent no ``100 Continue``, so the client will not send the body, and the
    connection cannot carry another request (the server would read it as this one's
    body). A small body is asked for and dropped, keeping the connection (clients such as
    urllib3 leak the socket of a connection closed under an early answer); a large one
    is not worth sending: the connection is closed after the answer."""
    length = Headers(scope=scope).get("content-length", "")
    if is_digits(length) and int(length) <= DRAIN_BYTES:
        while True:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                return
    response.headers["connection"] = "close"


class S3Api:
    """``await api(scope, receive, send)`` for a request :func:`s3_target` claimed."""

    def __init__(self, service: S3Service, *, account_id: str, default_region: str) -> None:
        self.service = service
        self.uploads = MultipartUploads(service)
        self.account_id = account_id
        self.default_region = default_region
        self._subresources: dict[str, SubresourceHandler] = {}

    def add_subresource(self, name: str, handler: SubresourceHandler) -> None:
        """Route every request on ``/<bucket>?<name>`` to ``handler`` (e.g. notification)."""
        self._subresources[name] = handler

    def claims(self, scope: Scope) -> Target | None:
        return s3_target(scope)

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send, target: Target | None = None
    ) -> None:
        target = target or s3_target(scope) or Target(None, None, False)
        read = False

        async def receive_body() -> Message:
            nonlocal read
            read = True
            return await receive()

        request = Request(scope, receive_body, send)
        s3 = S3Request(
            request, target, account_id=self.account_id, default_region=self.default_region
        )
        try:
            response = await self.dispatch(s3)
        except S3Error as error:
            response = error_response(
                error, s3.request_id, head=s3.method == "HEAD", resource=s3.resource
            )
        except Exception:
            log.exception("S3 %s %s failed", s3.method, s3.resource)
            response = error_response(
                S3Error("We encountered an internal error. Please try again."),
                s3.request_id,
                head=s3.method == "HEAD",
            )
        if not read and _expects_continue(scope):
            await _settle_unread_body(scope, receive, response)
        await response(scope, receive_body, send)

    async def dispatch(self, s3: S3Request) -> Response:
        query = s3.query
        method = s3.method
        if s3.bucket is None:
            if method == "GET":
                return await buckets.list_buckets(self.service, s3)
            raise MethodNotAllowed(
                "The specified method is not allowed against this resource.",
                Method=method,
                ResourceType="SERVICE",
            )
        if s3.key is None:
            for name, handler in self._subresources.items():
                if name in query:
                    return await handler(s3)
            return await self._bucket(s3, method, query)
        return await self._object(s3, method, query)

    async def _bucket(self, s3: S3Request, method: str, query: Any) -> Response:
        service = self.service
        if method == "PUT":
            if not query:
                return await buckets.create_bucket(service, s3)
        elif method == "HEAD":
            return await buckets.head_bucket(service, s3)
        elif method == "DELETE":
            if not query:
                return await buckets.delete_bucket(service, s3)
        elif method == "GET":
            if "location" in query:
                return await buckets.get_location(service, s3)
            if "uploads" in query:
                return await uploads.list_uploads(self.uploads, s3)
            if "versioning" in query:
                return await buckets.get_versioning(service, s3)
            if query.get("list-type") == "2":
                return await buckets.list_objects_v2(service, s3)
            if not set(query) - buckets.LIST_V1_PARAMS:
                return await buckets.list_objects_v1(service, s3)
        elif method == "POST" and "delete" in query:
            return await objects.delete_objects(service, s3)
        raise NotImplementedS3(
            "A header or query you provided implies functionality that is not implemented.",
        )

    async def _object(self, s3: S3Request, method: str, query: Any) -> Response:
        service = self.service
        if method == "PUT":
            if "partNumber" in query and "uploadId" in query:
                return await uploads.upload_part(self.uploads, s3)
            if not query:
                if "x-amz-copy-source" in s3.headers:
                    return await objects.copy_object(service, s3)
                return await objects.put_object(service, s3)
        elif method in ("GET", "HEAD"):
            if method == "GET" and "uploadId" in query:
                return await uploads.list_parts(self.uploads, s3)
            return await objects.get_object(service, s3, head=method == "HEAD")
        elif method == "DELETE":
            if "uploadId" in query:
                return await uploads.abort(self.uploads, s3)
            return await objects.delete_object(service, s3)
        elif method == "POST":
            if "uploads" in query:
                return await uploads.create(self.uploads, s3)
            if "uploadId" in query:
                return await uploads.complete(self.uploads, s3)
        raise NotImplementedS3(
            "A header or query you provided implies functionality that is not implemented.",
        )
