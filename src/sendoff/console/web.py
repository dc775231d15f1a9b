"""The console's HTTP plumbing: templates, forms, redirects with notices, timing, safety.

* :class:`Templates` renders Jinja2 templates from ``console/templates`` with the
  console's filters (times, durations, JSON).
* :func:`read_form` parses ``application/x-www-form-urlencoded`` bodies (no extra
  dependency); :class:`Form` carries values and per-field errors back to the template.
* :class:`ConsoleMiddleware` measures every console response (``Server-Timing: app;dur=``),
  adds security headers, and refuses cross-site form posts.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("sendoff.console")

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
NOTICE_COOKIE = "sendoff_console_notice"
MAX_FORM_BYTES = 8 * 1024 * 1024

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


# ---------------------------------------------------------------- formatting helpers
def when(ts: float | None) -> str:
    """``2026-11-27 12:00:01 UTC`` (seconds), or an em dash."""
    if not ts:
        return "—"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def when_ms(ts: float | None) -> str:
    if not ts:
        return "—"
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%H:%M:%S.") + f"{dt.microsecond // 1000:03d}"


def iso(ts: float | None) -> str:
    if not ts:
        return ""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def span(seconds: float | None) -> str:
    """A human duration: ``850 ms``, ``12 s``, ``3 min 5 s``, ``2 h 10 min``."""
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} d {hours % 24} h"


def ago(ts: float | None, now: float | None = None) -> str:
    if not ts:
        return "—"
    delta = (now or time.time()) - ts
    if delta < 0:
        return f"in {span(-delta)}"
    if delta < 1:
        return "just now"
    return f"{span(delta)} ago"


def pretty(value: Any) -> str:
    """JSON text or a value, indented; text that is not JSON comes back as it is."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        return json.dumps(parsed, indent=2, ensure_ascii=False)
    return json.dumps(value, indent=2, ensure_ascii=False)


def number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


class Templates:
    def __init__(self, directory: Path = TEMPLATES_DIR) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(directory)),
            autoescape=jinja2.select_autoescape(("html",)),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self.env.filters.update(
            when=when, when_ms=when_ms, iso=iso, span=span, ago=ago, pretty=pretty, number=number
        )
        self.env.globals["quote"] = lambda s: quote(str(s), safe="")

    def warm(self) -> None:
        """Compile every template now (the first render of each would otherwise pay for it)."""
        for name in self.env.list_templates(extensions=("html",)):
            self.env.get_template(name)

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        return self.env.get_template(name).render(context)


# ---------------------------------------------------------------- forms
@dataclass
class Form:
    """Submitted (or default) values and what is wrong with them, field by field."""

    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def getlist(self, name: str) -> list[str]:
        return self.lists.get(name, [])

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    @property
    def ok(self) -> bool:
        return not self.errors


async def read_form(request: Request) -> Form:
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        form = Form()
        form.error("_form", f"The form is too large ({len(raw)} bytes; limit {MAX_FORM_BYTES}).")
        return form
    pairs = parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
    form = Form()
    for key, value in pairs:
        value = value.replace("\r\n", "\n")
        form.values.setdefault(key, value)
        form.lists.setdefault(key, []).append(value)
    return form


# ---------------------------------------------------------------- responses
def redirect(url: str, notice: str | None = None) -> Response:
    response = RedirectResponse(url, status_code=303)
    if notice:
        response.set_cookie(
            NOTICE_COOKIE, quote(notice), max_age=60, path="/console", httponly=True,
            samesite="strict",
        )  # fmt: skip
    return response


def take_notice(request: Request) -> str | None:
    raw = request.cookies.get(NOTICE_COOKIE)
    return unquote(raw)[:500] if raw else None


def html(body: str, *, status: int = 200, request: Request | None = None) -> HTMLResponse:
    response = HTMLResponse(body, status_code=status)
    if request is not None and NOTICE_COOKIE in request.cookies:
        response.delete_cookie(NOTICE_COOKIE, path="/console")
    return response


Endpoint = Callable[[Request], Awaitable[Response]]


class ConsoleMiddleware:
    """Times each console response and guards it.

    * ``Server-Timing: app;dur=<ms>``: time from the request reaching the console to the
      response head (the whole server-side work: store reads and rendering).
    * Security headers: a strict Content-Security-Policy (no inline script or style),
      ``X-Frame-Options: DENY``, ``nosniff``, ``no-referrer``.
    * Form posts from other sites are refused (``Sec-Fetch-Site`` / ``Origin``): the console
      changes resources, and a page elsewhere must not drive it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        if scope["method"] not in ("GET", "HEAD") and not _same_origin(scope):
            response = Response(
                "Cross-site requests to the console are refused.", status_code=403,
                media_type="text/plain",
            )  # fmt: skip
            await response(scope, receive, send)
            return

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed = (time.perf_counter() - started) * 1000
                headers = list(message.get("headers", []))
                headers.append((b"server-timing", f"app;dur={elapsed:.2f}".encode()))
                headers.append((b"content-security-policy", CSP.encode()))
                headers.append((b"x-frame-options", b"DENY"))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"no-referrer"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, timed_send)


def _same_origin(scope: Scope) -> bool:
    headers: dict[str, str] = {
        k.decode().lower(): v.decode(errors="replace") for k, v in scope["headers"]
    }
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == headers.get("host", "")


def markup(text: str) -> Markup:
    return Markup(text)
