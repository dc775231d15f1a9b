"""Monitor: the function's metrics per interval over a chosen window, as SVG charts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sendoff.console.charts import Chart, build_chart
from sendoff.console.context import Console
from sendoff.console.history import METRICS, minute_of
from sendoff.console.pages.base import function_head, head_context

# window key -> (label, minutes, minutes per point)
WINDOWS: dict[str, tuple[str, int, int]] = {
    "15m": ("15 minutes", 15, 1),
    "1h": ("1 hour", 60, 1),
    "3h": ("3 hours", 180, 3),
    "12h": ("12 hours", 720, 10),
    "24h": ("24 hours", 1440, 20),
}
DEFAULT_WINDOW = "1h"


def charts_for(console: Console, function: str, window: str) -> list[Chart]:
    _, minutes, step = WINDOWS[window]
    now = console.index.clock()
    last = minute_of(now)
    first = last - minutes + 1
    charts = []
    for spec in METRICS:
        values = console.history.points(function, spec.name, end=now, minutes=minutes, step=step)
        overall = (
            console.history.average(function, spec.name, since=first * 60)
            if spec.statistic == "Average"
            else None
        )
        charts.append(
            build_chart(
                spec, values, start=first * 60, step_s=step * 60,
                chart_id=f"chart-{spec.name.lower()}", overall=overall,
            )
        )  # fmt: skip
    return charts


class MonitorPages:
    def __init__(self, console: Console) -> None:
        self.console = console

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/functions/{name}/monitor", self.console.page(self.view), methods=["GET"]),
        ]

    async def view(self, request: Request) -> Response:
        c = self.console
        head = await function_head(c, request, "monitor")
        window = request.query_params.get("window", DEFAULT_WINDOW)
        if window not in WINDOWS:
            window = DEFAULT_WINDOW
        c.history.sample()
        charts = charts_for(c, head.name, window)
        template = (
            "_monitor_charts.html" if request.headers.get("x-console-fragment") else "monitor.html"
        )
        return c.render(
            request, template, **head_context(head), charts=charts, window=window,
            windows=WINDOWS,
        )  # fmt: skip
