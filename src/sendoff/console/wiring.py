"""Wire the console into the server: its routes under /console and its read models."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from sendoff.console.context import Console
from sendoff.console.pages.buses import BusPages
from sendoff.console.pages.code import CodePages
from sendoff.console.pages.destinations import DestinationPages
from sendoff.console.pages.function import FunctionOverview
from sendoff.console.pages.functions import FunctionPages
from sendoff.console.pages.invocations import InvocationPages
from sendoff.console.pages.logs import LogPages
from sendoff.console.pages.monitor import MonitorPages
from sendoff.console.pages.queues import QueuePages
from sendoff.console.pages.testing import TestPages
from sendoff.console.pages.topics import TopicPages
from sendoff.console.web import STATIC_DIR, ConsoleMiddleware

if TYPE_CHECKING:
    from sendoff.server import Services


def console_routes(console: Console) -> list[BaseRoute]:
    async def home(request: Request) -> Response:
        return RedirectResponse("/console/functions", status_code=307)

    routes: list[BaseRoute] = [Route("/", home, methods=["GET"])]
    for pages in (
        FunctionPages(console), FunctionOverview(console), DestinationPages(console),
        CodePages(console), TestPages(console), MonitorPages(console),
        InvocationPages(console), LogPages(console), QueuePages(console), TopicPages(console),
        BusPages(console),
    ):  # fmt: skip
        routes += pages.routes()
    routes.append(Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static"))
    return routes


def install(services: Services) -> None:
    """Serve the console under /console, and let its event index hear the scheduler's jobs
    settle (a scheduler observer; see :mod:`sendoff.console.activity`)."""
    console = Console.build(services)

    async def to_console(request: Request) -> Response:
        return RedirectResponse("/console/functions", status_code=307)

    services.routes.append(Route("/console", to_console, methods=["GET"]))
    middleware = [Middleware(ConsoleMiddleware)]
    if services.settings.resolved_auth == "sigv4":  # sign-in, inside the cross-site check
        from sendoff.console.signin import ConsoleSignIn

        middleware.append(
            Middleware(ConsoleSignIn, auth=services.auth, templates=console.templates)
        )
    services.routes.append(Mount("/console", routes=console_routes(console), middleware=middleware))
    services.scheduler.add_observer(console.index.observer())
    services.shutdown_hooks.append(console.stop)
