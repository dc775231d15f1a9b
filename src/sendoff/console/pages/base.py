"""What every tab of a function's page shows: its header and the tab bar."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.requests import Request

from sendoff.console.context import Console
from sendoff.functions.registry import FunctionState

TABS: tuple[tuple[str, str], ...] = (
    ("", "Overview"),
    ("code", "Code"),
    ("test", "Test"),
    ("monitor", "Monitor"),
    ("invocations", "Invocations"),
    ("logs", "Logs"),
)


@dataclass(frozen=True, kw_only=True)
class FunctionHead:
    name: str
    arn: str
    url: str
    state: FunctionState
    tab: str
    tabs: tuple[tuple[str, str, str], ...]  # (key, label, url)


async def function_head(console: Console, request: Request, tab: str) -> FunctionHead:
    name = request.path_params["name"]
    state = await console.services.registry.load(console.scope, name)
    url = f"/console/functions/{quote(name, safe='')}"
    return FunctionHead(
        name=name,
        arn=console.scope.function_arn(name),
        url=url,
        state=state,
        tab=tab,
        tabs=tuple((key, label, f"{url}/{key}" if key else url) for key, label in TABS),
    )


def head_context(head: FunctionHead) -> dict[str, Any]:
    return {"fn": head, "config": head.state.latest, "title": head.name, "section": "functions"}
