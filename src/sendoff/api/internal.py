"""sendoff's own JSON endpoints under /_sendoff/ (for the CLI and, later, the console)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sendoff.functions.invoker import log_group
from sendoff.store import Store


class InternalApi:
    def __init__(self, store: Store) -> None:
        self.store = store

    def routes(self) -> list[Route]:
        return [Route("/_sendoff/logs/{function}", self.logs, methods=["GET"])]

    async def logs(self, request: Request) -> Response:
        """Log lines of a function after a sequence number: {"events": [...], "next": seq}."""
        after = int(request.query_params.get("after", "0") or 0)
        limit = min(int(request.query_params.get("limit", "1000") or 1000), 10_000)
        rows = await self.store.read_logs(
            log_group(request.path_params["function"]), after_seq=after, limit=limit
        )
        events = [
            {"stream": s, "timestamp": e.timestamp_ms, "message": e.message, "seq": e.seq}
            for s, e in rows
        ]
        return JSONResponse({"events": events, "next": events[-1]["seq"] if events else after})
