"""What a web page in the user's browser may not do to sendoff (on by default, no set-up).

sendoff runs code on request, and browsers let any page send requests to loopback ports.
Two attacks follow, and this guard closes both before a request reaches any route:

* **DNS rebinding.** A page on ``evil.example`` re-points that name at 127.0.0.1; the
  browser then treats sendoff as same-origin with the attacker and sends
  ``Host: evil.example:4566``. Only Host names that cannot be rebound by a stranger are
  served: ``localhost`` and ``*.localhost``, IP literals (an address is not a name anyone
  can re-point; loopback or not, a request to an IP literal is not a rebinding), the
  bound address, and names the user allows (``--allowed-host``, ``*.example`` allowed).
* **Cross-site requests.** A *simple* request (``text/plain`` POST, a form, a no-cors
  fetch) needs no CORS preflight, so a page elsewhere can create and invoke a function
  with it. AWS SDKs and the CLI never send ``Sec-Fetch-Site`` or ``Origin``; browsers
  always mark cross-site requests with one of them. So a request marked ``cross-site`` or
  ``same-site`` (another port on localhost is *same-site*), or carrying an ``Origin`` that
  is not this server, is refused on every route except console page views (a link to the
  console from elsewhere still opens it; its forms keep their own same-origin check) and
  health. An origin the user allows (``--cors-origin``) is served, with CORS headers
  naming exactly that origin; there is no ``Access-Control-Allow-Origin: *``.

Refusals are 403 in the protocol's wire format (:mod:`sendoff.api.wire_errors`); each
refused Host or Origin is logged once.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.responses import Response
from starlette.types import Message, Scope, Send

from sendoff.api.wire_errors import Protocol, protocol_of, wire_error

log = logging.getLogger("sendoff.security")

_OPEN_PATHS = frozenset({"/_sendoff/health"})
_CROSS_SITE = frozenset({b"cross-site", b"same-site"})
_MAX_LOGGED = 1000  # distinct refused hosts/origins remembered for "log once"

# What a browser may send and read when a user opts an origin in.
_ALLOW_METHODS = b"GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"
_EXPOSE_HEADERS = (
    b"x-amzn-requestid, x-amzn-errortype, x-amz-function-error, x-amz-log-result, "
    b"x-amz-executed-version, x-amzn-query-error, etag, location, x-amz-request-id"
)


class BrowserGuard:
    """Decides, from the request head alone, whether a browser-borne request may proceed."""

    def __init__(
        self,
        *,
        bound_host: str,
        allowed_hosts: Iterable[str] = (),
        cors_origins: Iterable[str] = (),
    ) -> None:
        names = {name.lower().rstrip(".") for name in allowed_hosts}
        bound = bound_host.strip("[]").lower()
        if bound and bound not in ("0.0.0.0", "::"):
            names.add(bound)
        self._names = frozenset(n for n in names if not n.startswith("*."))
        self._suffixes = tuple(n[1:] for n in names if n.startswith("*."))  # ".example"
        self._cors = frozenset(origin.rstrip("/").lower() for origin in cors_origins)
        self._logged: set[str] = set()

    # -- the decision ------------------------------------------------------------------

    def refusal(self, scope: Scope) -> Response | None:
        """None when the request may go on; otherwise the 403 (or preflight answer)."""
        host = origin = site = None
        for key, value in scope["headers"]:
            if key == b"host":
                host = value
            elif key == b"origin":
                origin = value
            elif key == b"sec-fetch-site":
                site = value
        if host is not None and not self.host_allowed(host.decode("latin-1")):
            return self._refuse_host(scope, host.decode("latin-1"))
        path: str = scope["path"]
        if path in _OPEN_PATHS:
            return None
        if origin is None and (site is None or site not in _CROSS_SITE):
            return None  # an SDK, the CLI, curl, or a same-origin/typed-URL browser request
        origin_text = origin.decode("latin-1") if origin is not None else ""
        if origin_text and origin_text.rstrip("/").lower() in self._cors:
            return None  # opted in: served, with CORS headers (see ``send_with_cors``)
        if site is None and origin_text and self._same_server(origin_text, host):
            return None  # older browsers: an Origin naming this server is same-origin
        if site is not None and site not in _CROSS_SITE:
            return None  # same-origin or none (typed URL, bookmark)
        protocol = protocol_of(scope)
        if protocol is Protocol.CONSOLE and scope["method"] in ("GET", "HEAD"):
            return None  # a link to a console page from elsewhere opens it
        source = origin_text or "(no Origin)"
        self._log_once(f"origin {source}", "refused a cross-site browser request from %s to %s %s",
                       source, scope["method"], path)  # fmt: skip
        return wire_error(
            protocol,
            status=403,
            code=_access_denied(protocol),
            message=(
                "Cross-site requests from a web browser are refused (origin "
                f"{origin_text or 'unknown'}). Allow an origin with --cors-origin."
            ),
        )

    def host_allowed(self, host_header: str) -> bool:
        host = _host_name(host_header)
        if not host:
            return False
        if host == "localhost" or host.endswith(".localhost"):
            return True
        if host in self._names or (self._suffixes and host.endswith(self._suffixes)):
            return True
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return False
        return True

    # -- CORS for opted-in origins -----------------------------------------------------

    @property
    def cors_enabled(self) -> bool:
        return bool(self._cors)

    def preflight(self, scope: Scope) -> Response | None:
        """The answer to an ``OPTIONS`` preflight from an allowed origin, else None."""
        if scope["method"] != "OPTIONS" or not self._cors:
            return None
        origin = _header(scope, b"origin")
        if origin is None or origin.decode("latin-1").rstrip("/").lower() not in self._cors:
            return None
        requested = _header(scope, b"access-control-request-headers") or b""
        return Response(
            b"",
            204,
            headers={
                "access-control-allow-origin": origin.decode("latin-1"),
                "access-control-allow-methods": _ALLOW_METHODS.decode(),
                "access-control-allow-headers": requested.decode("latin-1"),
                "access-control-max-age": "600",
                "vary": "Origin",
            },
        )

    def send_with_cors(self, scope: Scope, send: Send) -> Send:
        """``send``, adding CORS headers to the response when the origin is allowed."""
        if not self._cors:
            return send
        origin = _header(scope, b"origin")
        if origin is None or origin.decode("latin-1").rstrip("/").lower() not in self._cors:
            return send

        async def cors_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"access-control-allow-origin", origin),
                    (b"access-control-expose-headers", _EXPOSE_HEADERS),
                    (b"vary", b"Origin"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        return cors_send

    # -- helpers -----------------------------------------------------------------------

    def _same_server(self, origin: str, host: bytes | None) -> bool:
        if host is None:
            return False
        netloc = urlsplit(origin).netloc.lower()
        return netloc == host.decode("latin-1").lower()

    def _refuse_host(self, scope: Scope, host: str) -> Response:
        name = _host_name(host)
        self._log_once(
            f"host {name}",
            "refused Host %r (not a loopback name, an address or an --allowed-host);"
            " allow it with --allowed-host %s",
            host,
            name,
        )
        protocol = protocol_of(scope)
        return wire_error(
            protocol,
            status=403,
            code=_access_denied(protocol),
            message=(
                f"Host {host!r} is not allowed: sendoff answers only loopback names, addresses "
                f"and names given with --allowed-host (this guards against DNS rebinding)."
            ),
        )

    def _log_once(self, key: str, message: str, *args: object) -> None:
        if key in self._logged or len(self._logged) >= _MAX_LOGGED:
            return
        self._logged.add(key)
        log.warning(message, *args)


def _access_denied(protocol: Protocol) -> str:
    return "AccessDenied" if protocol in (Protocol.QUERY, Protocol.S3) else "AccessDeniedException"


def _host_name(host_header: str) -> str:
    """The name in a Host header, lower-case, without port or brackets."""
    host = host_header.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[1:end] if end > 0 else ""
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None
