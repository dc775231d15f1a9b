"""Test: invoke the function with a JSON event, synchronously (result and logs) or
asynchronously (the request id, linking to the event's timeline)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sendoff.console.context import Console
from sendoff.console.pages.base import function_head, head_context
from sendoff.console.web import Form, read_form
from sendoff.functions.errors import LambdaError
from sendoff.model.function import LATEST

SYNC_LIMIT = 6_291_456
DEFAULT_EVENT = '{\n  "key1": "value1",\n  "key2": "value2",\n  "key3": "value3"\n}\n'


@dataclass(frozen=True, kw_only=True)
class SyncResult:
    request_id: str
    failed: bool
    error_type: str | None
    payload: str
    log: str
    duration_ms: float
    billed_ms: int
    memory_mb: int
    max_memory_mb: int
    init_ms: float | None


class TestPages:
    def __init__(self, console: Console) -> None:
        self.console = console

    def routes(self) -> list[BaseRoute]:
        page = self.console.page
        return [
            Route("/functions/{name}/test", page(self.view), methods=["GET"]),
            Route("/functions/{name}/test", page(self.run), methods=["POST"]),
        ]

    async def view(self, request: Request) -> Response:
        form = Form(values={"payload": DEFAULT_EVENT, "mode": "sync"})
        return await self._render(request, form)

    async def _render(
        self, request: Request, form: Form, *, status: int = 200,
        result: SyncResult | None = None, accepted: str | None = None,
    ) -> Response:  # fmt: skip
        c = self.console
        head = await function_head(c, request, "test")
        return c.render(
            request, "test.html", status=status, **head_context(head), form=form, result=result,
            accepted=accepted, can_async=c.services.lambda_async is not None,
        )  # fmt: skip

    async def run(self, request: Request) -> Response:
        c = self.console
        form = await read_form(request)
        mode = form.get("mode")
        raw = form.get("payload")
        if mode not in ("sync", "async"):
            form.error("mode", "Choose how to invoke: synchronously or asynchronously.")
        payload = raw.encode()
        if not raw.strip():
            payload = b"{}"
        else:
            try:
                json.loads(raw)
            except ValueError as exc:
                form.error("payload", f"There is an error in your JSON event: {exc}."
                                      " Correct it and test again.")  # fmt: skip
        limit = (c.services.lambda_async.payload_limit if c.services.lambda_async else 1_048_576
                 ) if mode == "async" else SYNC_LIMIT  # fmt: skip
        if len(payload) > limit:
            form.error("payload", f"The event is {len(payload):,} bytes; the limit for this"
                                  f" invocation type is {limit:,} bytes.")  # fmt: skip
        if mode == "async" and c.services.lambda_async is None:
            form.error("mode", "This server runs without workers, so it cannot take"
                               " asynchronous invocations.")  # fmt: skip
        if not form.ok:
            return await self._render(request, form, status=400)
        resolved = await c.services.registry.resolve(
            c.scope, request.path_params["name"], LATEST, latest_in_errors=True
        )
        request_id = str(uuid.uuid4())
        if mode == "async":
            assert c.services.lambda_async is not None
            await c.services.lambda_async.accept(
                resolved, request_id=request_id, payload=payload, trace_header=None
            )
            await c.index.refresh([request_id])
            return await self._render(request, form, accepted=request_id)
        try:
            out = await c.services.invoker.run(resolved, request_id=request_id, payload=payload)
        except LambdaError as exc:
            form.error("_form", f"The function could not run: {exc.code}: {exc.message}")
            return await self._render(request, form, status=429 if exc.status == 429 else 400)
        result = SyncResult(
            request_id=request_id, failed=out.function_error is not None,
            error_type=out.error_type, payload=out.payload.decode(errors="replace"),
            log=out.log[-65536:].replace("\r", "\n"),
            duration_ms=out.duration_ms, billed_ms=out.billed_duration_ms,
            memory_mb=resolved.config.memory_mb, max_memory_mb=out.max_memory_used_mb,
            init_ms=out.init_duration_ms,
        )  # fmt: skip
        return await self._render(request, form, result=result)
