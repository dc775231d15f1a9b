"""Dispatch of the AWS protocols that POST to ``/``.

* JSON 1.0/1.1 protocols (SQS, EventBridge) name the operation in ``X-Amz-Target``:
  ``AmazonSQS.SendMessage``, ``AWSEvents.PutEvents``; the prefix picks the service.
* Query protocols (SNS) send a form body with ``Action=...``; the SigV4 signing name picks
  the service, falling back to the set of actions each service declared.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from sendoff.api.context import region_and_service
from sendoff.api.query_xml import unknown_action_message, xml_safe
from sendoff.api.wire_errors import Protocol, wire_error

Endpoint = Callable[[Request], Awaitable[Response]]


class ProtocolRouter:
    def __init__(self) -> None:
        self._targets: dict[str, Endpoint] = {}
        self._query: dict[str, tuple[frozenset[str], Endpoint]] = {}

    def add_json_target(self, prefix: str, endpoint: Endpoint) -> None:
        self._targets[prefix] = endpoint

    def add_query_service(self, service: str, actions: frozenset[str], endpoint: Endpoint) -> None:
        self._query[service] = (actions, endpoint)

    async def __call__(self, request: Request) -> Response:
        target = request.headers.get("x-amz-target")
        if target:
            endpoint = self._targets.get(target.split(".", 1)[0])
            if endpoint is not None:
                return await endpoint(request)
            return wire_error(
                Protocol.JSON,
                status=400,
                code="UnknownOperationException",
                message=f"Unknown X-Amz-Target: {target}",
            )
        _, service = region_and_service(request.headers.get("authorization"))
        if service in self._query:
            return await self._query[service][1](request)
        body = parse_qs((await request.body()).decode(errors="replace"), keep_blank_values=True)
        action = (body.get("Action") or [""])[0] or request.query_params.get("Action", "")
        versions = body.get("Version") or request.query_params.getlist("Version")
        version = versions[0] if versions else None
        for actions, endpoint in self._query.values():
            if action in actions:
                return await endpoint(request)
        # a form body naming no action any query service knows (a service sendoff does not
        # have, such as RDS, or an operation it does not implement): the query
        # protocol's own answer, in XML, so an XML client parses it; bodies go through an
        # encoder, never string concatenation, so a quote or "<" cannot break them
        return wire_error(
            Protocol.QUERY,
            status=400,
            code="InvalidAction",
            message=unknown_action_message(xml_safe(action), version),
        )
