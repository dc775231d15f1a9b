"""Logs: the function's log group, newest lines last, followed live (the page polls
``logs/tail?after=SEQ`` for lines appended since the last one it has)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sendoff.console.context import Console
from sendoff.console.pages.base import function_head, head_context
from sendoff.console.web import when_ms
from sendoff.functions.invoker import log_group, log_key
from sendoff.store import LogEvent, Store

SHOWN = 300
TAIL_LIMIT = 1000
SLACK = 2000


class LogTail:
    """Finds where the last ``n`` lines of a log group start without reading the whole
    group: the store reads logs forward from a sequence number, so the start is found by
    probing (exponential, then binary search) and remembered per group."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.hints: dict[str, int] = {}

    async def _more_than(self, group: str, after: int, n: int) -> bool:
        return len(await self.store.read_logs(group, after_seq=after, limit=n + 1)) > n

    async def start_of_last(self, group: str, n: int) -> int:
        low = self.hints.get(group, 0)
        if not await self._more_than(group, low, n):
            return low
        step = 1024
        high = low + step
        while await self._more_than(group, high, n):
            low, step = high, step * 2
            high = low + step
        while high - low > 1:  # invariant: more than n after low, at most n after high
            mid = (low + high) // 2
            if await self._more_than(group, mid, n):
                low = mid
            else:
                high = mid
        self.hints[group] = low
        return low

    async def last(self, group: str, n: int) -> list[tuple[str, LogEvent]]:
        """The last ``n`` lines. The remembered start is usually close: one read from it
        (up to ``n + SLACK`` lines) is enough; only a group that grew more than that since
        the last view is searched again."""
        hint = self.hints.get(group)
        rows = None
        if hint is not None:
            rows = await self.store.read_logs(group, after_seq=hint, limit=n + SLACK)
            if len(rows) == n + SLACK:
                rows = None
        if rows is None:
            start = await self.start_of_last(group, n)
            rows = await self.store.read_logs(group, after_seq=start, limit=n + 1)
        if len(rows) > n:
            self.hints[group] = rows[-n - 1][1].seq
        return rows[-n:]


def line(stream: str, event: LogEvent) -> dict[str, object]:
    return {
        "seq": event.seq,
        "time": when_ms(event.timestamp_ms / 1000),
        "stream": stream.rsplit("]", 1)[-1][:12] if "]" in stream else stream[-12:],
        "message": event.message.replace("\r", "\n"),
    }


class LogPages:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.tail = LogTail(console.services.store)

    def routes(self) -> list[BaseRoute]:
        page = self.console.page
        return [
            Route("/functions/{name}/logs", page(self.view), methods=["GET"]),
            Route("/functions/{name}/logs/tail", page(self.follow), methods=["GET"]),
        ]

    def _key(self, name: str) -> str:
        """The store key of the function's log group in the console's account and region."""
        return log_key(self.console.account_id, self.console.region, name)

    async def view(self, request: Request) -> Response:
        c = self.console
        head = await function_head(c, request, "logs")
        rows = await self.tail.last(self._key(head.name), SHOWN)
        lines = [line(stream, event) for stream, event in rows]
        return c.render(
            request, "logs.html", **head_context(head), lines=lines,
            after=rows[-1][1].seq if rows else 0, group=log_group(head.name),
        )  # fmt: skip

    async def follow(self, request: Request) -> Response:
        name = request.path_params["name"]
        try:
            after = max(0, int(request.query_params.get("after", "0")))
        except ValueError:
            after = 0
        rows = await self.console.services.store.read_logs(
            self._key(name), after_seq=after, limit=TAIL_LIMIT
        )
        return JSONResponse(
            {"lines": [line(s, e) for s, e in rows], "next": rows[-1][1].seq if rows else after}
        )
