"""Wire the console into the server: its routes under /console and its read models."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route

from sendoff.console.context import Console
from sendoff.console.routes import console_routes
from sendoff.console.triggers import sources as trigger_sources
from sendoff.console.web import ConsoleMiddleware
from sendoff.wiring.services import Services


def install(services: Services) -> None:
    """Serve the console under /console, and let its event index hear the scheduler's jobs
    settle (a scheduler observer; see :mod:`sendoff.console.activity`)."""
    console = Console.build(services)
    trigger_sources()  # a broken trigger module fails here, at build, not on a page view

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
