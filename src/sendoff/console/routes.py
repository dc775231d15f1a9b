"""The console's routes (mounted under /console by ``sendoff.wiring.console``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from sendoff.console.context import Console
from sendoff.console.pages.buckets import BucketPages
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
from sendoff.console.web import STATIC_DIR


def console_routes(console: Console) -> list[BaseRoute]:
    async def home(request: Request) -> Response:
        return RedirectResponse("/console/functions", status_code=307)

    routes: list[BaseRoute] = [Route("/", home, methods=["GET"])]
    for pages in (
        FunctionPages(console), FunctionOverview(console), DestinationPages(console),
        CodePages(console), TestPages(console), MonitorPages(console),
        InvocationPages(console), LogPages(console), QueuePages(console), TopicPages(console),
        BusPages(console), BucketPages(console),
    ):  # fmt: skip
        routes += pages.routes()
    routes.append(Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static"))
    return routes
