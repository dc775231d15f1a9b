"""Console sign-in under ``--auth sigv4``: an access key and secret, then a session cookie.

The session id is random (``secrets.token_urlsafe``); the store keeps only its SHA-256 (kind
``console-session``) with the account and an expiry, so every API process behind a load
balancer knows the session and a reader of the store cannot reuse one. The cookie is
``HttpOnly``, ``SameSite=Strict``, ``Path=/console``. Each request's account goes into
:data:`sendoff.console.context.CONSOLE_ACCOUNT`, which the console's scope reads.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from sendoff.console.context import CONSOLE_ACCOUNT, SIGNED_IN
from sendoff.console.web import Templates, read_form

if TYPE_CHECKING:
    from sendoff.auth.gate import Authenticator

COOKIE = "sendoff_console_session"
KIND = "console-session"
LIFETIME_S = 12 * 3600
CACHE_S = 2.0
"""How long a process trusts a session it looked up: sign-out elsewhere lands within this."""


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class ConsoleSignIn:
    """ASGI middleware inside the /console mount: sign-in and sign-out pages, and a valid
    session for everything else (static files excepted)."""

    def __init__(self, app: ASGIApp, *, auth: Authenticator, templates: Templates) -> None:
        self.app = app
        self.auth = auth
        self.templates = templates
        self._cache: dict[str, tuple[float, str | None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        path = path[len("/console") :] if path.startswith("/console") else path
        request = Request(scope, receive)
        if path.startswith("/static/"):
            await self.app(scope, receive, send)
            return
        response: Response | None
        if path == "/signin" and scope["method"] == "POST":
            response = await self._sign_in(request)
        elif path == "/signin":
            response = self._form(request.query_params.get("next", ""))
        elif path == "/signout" and scope["method"] == "POST":
            response = await self._sign_out(request)
        else:
            account = await self._session(request.cookies.get(COOKIE))
            if account is None:
                target = quote("/console" + path, safe="/")
                response = RedirectResponse(f"/console/signin?next={target}", status_code=303)
            else:
                account_token = CONSOLE_ACCOUNT.set(account)
                signed_token = SIGNED_IN.set(True)
                try:
                    await self.app(scope, receive, send)
                finally:
                    CONSOLE_ACCOUNT.reset(account_token)
                    SIGNED_IN.reset(signed_token)
                return
        await response(scope, receive, send)

    async def _session(self, session_id: str | None) -> str | None:
        if not session_id:
            return None
        key = _key(session_id)
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        doc = await self.auth.store.get(KIND, key)
        account = None
        if doc is not None and float(doc.value["expires_at"]) > time.time():
            account = str(doc.value["account_id"])
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (now + CACHE_S, account)
        return account

    def _form(
        self, next_path: str, *, error: str = "", key: str = "", status: int = 200
    ) -> Response:
        body = self.templates.render(
            "signin.html", {"next": _safe_next(next_path), "error": error, "access_key_id": key}
        )
        return HTMLResponse(body, status_code=status)

    async def _sign_in(self, request: Request) -> Response:
        form = await read_form(request)
        key = form.get("access_key_id").strip()
        caller = await self.auth.check_pair(key, form.get("secret_access_key"))
        if caller is None or key.startswith("ASIA"):
            return self._form(form.get("next"), error="That access key and secret do not match.",
                              key=key, status=403)  # fmt: skip
        session_id = secrets.token_urlsafe(32)
        value: dict[str, Any] = {"account_id": caller.account_id, "access_key_id": key,
                                 "expires_at": time.time() + LIFETIME_S}  # fmt: skip
        await self.auth.store.put(KIND, _key(session_id), value, expect=0)
        response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
        response.set_cookie(COOKIE, session_id, max_age=LIFETIME_S, path="/console",
                            httponly=True, samesite="strict")  # fmt: skip
        return response

    async def _sign_out(self, request: Request) -> Response:
        session_id = request.cookies.get(COOKIE)
        if session_id:
            await self.auth.store.delete(KIND, _key(session_id))
            self._cache.pop(_key(session_id), None)
        response = RedirectResponse("/console/signin", status_code=303)
        response.delete_cookie(COOKIE, path="/console", httponly=True, samesite="strict")
        return response


def _safe_next(next_path: str) -> str:
    """Only a console path (no open redirect to another site)."""
    if next_path.startswith("/console/") and not next_path.startswith("/console//"):
        return next_path
    return "/console/functions"
