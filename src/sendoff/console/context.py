"""The console's view of the server: the domain objects it calls, its read models, and
the page wrapper (start-up on first use, error pages, common template context)."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from sendoff import __version__
from sendoff.console.activity import EventIndex
from sendoff.console.history import MinuteSeries
from sendoff.console.web import Templates, html, take_notice
from sendoff.destinations.registry import kind_for
from sendoff.errors import SendoffError
from sendoff.functions.event_config import EventConfigs
from sendoff.model.scope import Scope

if TYPE_CHECKING:
    from sendoff.wiring.services import Services

log = logging.getLogger("sendoff.console")

CONSOLE_ACCOUNT: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "sendoff_console_account", default=None
)
"""The signed-in account of the current console request (sendoff.console.signin); None
without authentication: the server's account."""
SIGNED_IN: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "sendoff_console_signed_in", default=False
)

TICK_S = 1.0
FIRST_LOAD_WAIT_S = 3.0


class NotFound(SendoffError):
    """A console page for something that does not exist."""

    code = "NotFound"
    status = 404
    not_found = True

    def __init__(self, message: str, *, back: str = "/console/functions") -> None:
        super().__init__(message)
        self.back = back


@dataclass(kw_only=True)
class Console:
    services: Services
    templates: Templates
    configs: EventConfigs
    index: EventIndex
    history: MinuteSeries
    _task: asyncio.Task[None] | None = field(default=None, repr=False)
    _load: asyncio.Task[None] | None = field(default=None, repr=False)

    @classmethod
    def build(cls, services: Services) -> Console:
        index = EventIndex(services.store)
        history = MinuteSeries(services.metrics, time_scale=services.settings.time_scale)
        index.history_hook = history.backfill
        return cls(
            services=services,
            templates=Templates(),
            configs=EventConfigs(services.registry, destinations=kind_for),
            index=index,
            history=history,
        )

    # ---- scopes ----
    @property
    def account_id(self) -> str:
        """The signed-in account under --auth sigv4, else the server's (per request)."""
        return CONSOLE_ACCOUNT.get() or self.services.settings.account_id

    @property
    def region(self) -> str:
        return self.services.settings.region

    @property
    def scope(self) -> Scope:
        return Scope(account_id=self.account_id, region=self.region)

    def function_key(self, name: str) -> str:
        return f"{self.scope.key}/{name}"

    # ---- life cycle: started by the first console request, stopped with the server ----
    async def ensure_started(self) -> None:
        if self.index.started:
            return
        self.index.started = True
        self.templates.warm()
        self.history.start()
        self._load = asyncio.create_task(self.index.load(), name="sendoff-console-load")
        self._task = asyncio.create_task(self._loop(), name="sendoff-console-tick")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._load), FIRST_LOAD_WAIT_S)

    async def stop(self) -> None:
        for task in (self._task, self._load):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self.index.close()

    async def _loop(self) -> None:
        if self._load is not None:
            await asyncio.gather(self._load, return_exceptions=True)
        while True:
            try:
                await self.index.tick()
                self.history.sample()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("console: background refresh failed")
            await asyncio.sleep(TICK_S)

    # ---- rendering ----
    def render(
        self, request: Request, template: str, *, status: int = 200, **context: Any
    ) -> Response:
        base = {
            "request": request,
            "notice": take_notice(request),
            "now": self.index.clock(),
            "account_id": self.account_id,
            "signed_in": SIGNED_IN.get(),
            "region": self.region,
            "version": __version__,
            "loading": not self.index.loaded.is_set(),
            "section": context.pop("section", "functions"),
        }
        return html(self.templates.render(template, {**base, **context}), status=status,
                    request=request)  # fmt: skip

    def page(
        self, handler: Callable[[Request], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        """Wrap an endpoint: start the read models, and turn failures into pages that say
        what went wrong (404 for missing resources, 500 with the error otherwise)."""

        async def endpoint(request: Request) -> Response:
            await self.ensure_started()
            try:
                return await handler(request)
            except NotFound as exc:
                return self._error(request, 404, "Not found", exc.message, exc.back)
            except SendoffError as exc:
                message = exc.message or str(exc)
                if exc.not_found:
                    return self._error(request, 404, "Not found", message, "/console/functions")
                log.warning("console: %s %s failed: %s", request.method, request.url.path, exc)
                return self._error(request, 400, "That did not work", f"{exc.code}: {message}", "")
            except Exception as exc:
                log.exception("console: %s %s crashed", request.method, request.url.path)
                return self._error(
                    request, 500, "Something went wrong",
                    f"{type(exc).__name__}: {exc}. The server log has the details.", "",
                )  # fmt: skip

        return endpoint

    def _error(
        self, request: Request, status: int, title: str, message: str, back: str
    ) -> Response:
        if request.headers.get("x-console-fragment"):
            return Response(message, status_code=status, media_type="text/plain")
        return self.render(
            request, "error.html", status=status, title=title, message=message,
            back=back or "/console/functions",
            section="",
        )  # fmt: skip
