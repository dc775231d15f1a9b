"""``/_sendoff/stacks``: where ``sendoff deploy`` keeps stacks, in the server's store.

GET    /_sendoff/stacks?region=R            the account, the region, stack summaries and
                                            the region's exports (for Fn::ImportValue)
GET    /_sendoff/stacks/{name}?region=R     {"stack": {...}, "revision": n}, or 404
PUT    /_sendoff/stacks/{name}?region=R     body {"stack": {...}, "revision": n}: save if the
                                            stored revision is still n (0: create); 409 if not
DELETE /_sendoff/stacks/{name}?region=R&revision=n   forget the stack; 409 if it changed

Each stack is one document of kind ``stack`` keyed ``account/region/name``. For
``sendoff deploy`` the server only stores stacks: the deployment runs in the client, through
the AWS APIs. The CloudFormation API (cfn_api.py) reads and writes the same documents
(repository.py) and runs the same engine in the server.
"""

from __future__ import annotations

import json
import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sendoff.api.context import CALLER_KEY
from sendoff.errors import ConflictError
from sendoff.iac.state import Stack, StackStatus
from sendoff.model.digits import is_digits
from sendoff.store import Store

KIND = "stack"
STACK_NAME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]{0,127}$")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


class StacksApi:
    def __init__(self, store: Store, *, account_id: str, default_region: str) -> None:
        self.store = store
        self.account_id = account_id
        self.default_region = default_region

    def routes(self) -> list[Route]:
        return [
            Route("/_sendoff/stacks", self.list, methods=["GET"]),
            Route("/_sendoff/stacks/{name}", self.get, methods=["GET"]),
            Route("/_sendoff/stacks/{name}", self.put, methods=["PUT"]),
            Route("/_sendoff/stacks/{name}", self.delete, methods=["DELETE"]),
        ]

    def _region(self, request: Request) -> str:
        return request.query_params.get("region") or self.default_region

    def _account(self, request: Request) -> str:
        """The verified caller's account under --auth sigv4 (sendoff.auth.gate), else ours."""
        caller = request.scope.get(CALLER_KEY)
        return self.account_id if caller is None else str(caller.account_id)

    def _key(self, request: Request) -> str:
        return f"{self._account(request)}/{self._region(request)}/{request.path_params['name']}"

    async def list(self, request: Request) -> Response:
        region = self._region(request)
        docs = await self.store.scan(KIND, f"{self._account(request)}/{region}/")
        stacks = [Stack.from_json(d.value, revision=d.revision) for d in docs]
        exports: dict[str, str] = {}
        for stack in stacks:
            exports.update(stack.exports())
        return JSONResponse({
            "account_id": self._account(request),
            "region": region,
            "stacks": [s.summary() for s in stacks],
            "exports": exports,
        })  # fmt: skip

    async def get(self, request: Request) -> Response:
        doc = await self.store.get(KIND, self._key(request))
        if doc is None:
            return _error(404, f"stack {request.path_params['name']} does not exist")
        return JSONResponse({"stack": doc.value, "revision": doc.revision})

    async def put(self, request: Request) -> Response:
        name = request.path_params["name"]
        if not STACK_NAME.match(name):
            return _error(400, f"invalid stack name {name!r}: letters, digits and hyphens, "
                          "starting with a letter, at most 128 characters")  # fmt: skip
        try:
            body = json.loads(await request.body())
            stack = Stack.from_json(body["stack"])
            revision = int(body.get("revision", 0))
        except (ValueError, KeyError, TypeError) as exc:
            return _error(400, f"invalid stack document: {exc}")
        if (stack.name, stack.region) != (name, self._region(request)):
            return _error(400, "the document's name and region must match the URL")
        if stack.status is StackStatus.DELETE_COMPLETE:
            return _error(400, "a deleted stack is removed with DELETE, not saved")
        try:
            doc = await self.store.put(KIND, self._key(request), stack.to_json(), expect=revision)
        except ConflictError:
            return _error(409, f"stack {name} was changed by another deployment")
        return JSONResponse({"revision": doc.revision})

    async def delete(self, request: Request) -> Response:
        raw = request.query_params.get("revision")
        expect = int(raw) if raw and is_digits(raw) else None
        try:
            deleted = await self.store.delete(KIND, self._key(request), expect=expect)
        except ConflictError:
            return _error(409, f"stack {request.path_params['name']} was changed meanwhile")
        if not deleted:
            return _error(404, f"stack {request.path_params['name']} does not exist")
        return Response(status_code=204)
