"""Signed, expiring ``/_sendoff/code/<token>`` URLs (GetFunction's ``Code.Location``).

AWS hands out a presigned S3 URL valid for 10 minutes; sendoff hands out
``<digest>.<expiry>.<mac>``, the MAC being HMAC-SHA256 under the server secret
(:func:`sendoff.auth.credentials.server_secret`), in every auth mode. Whoever holds the URL
may download the zip until it expires, as with AWS's URL; nobody can make one for a digest.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable

from sendoff.model.digits import is_digits
from sendoff.store import Store

LIFETIME_S = 600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CodeUrls:
    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self._secret: bytes | None = None

    async def start(self) -> None:
        from sendoff.auth.credentials import server_secret

        if self._secret is None:
            self._secret = await server_secret(self.store)

    def _mac(self, digest: str, expires: int) -> bytes:
        if self._secret is None:
            raise RuntimeError("CodeUrls.start() was not awaited")
        message = f"code|{digest}|{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).digest()[:20]

    def token(self, code_sha256: str) -> str:
        """The URL token for a zip's base64 SHA-256 (as ``CodeSha256`` shows it)."""
        digest = _b64(base64.b64decode(code_sha256))
        expires = int(self.clock()) + LIFETIME_S
        return f"{digest}.{expires}.{_b64(self._mac(digest, expires))}"

    def digest(self, token: str) -> str | None:
        """The base64 SHA-256 a valid, unexpired token names; None otherwise."""
        parts = token.split(".")
        if len(parts) != 3 or not is_digits(parts[1]):
            return None
        digest, expires = parts[0], int(parts[1])
        try:
            ok = hmac.compare_digest(_unb64(parts[2]), self._mac(digest, expires))
            raw = _unb64(digest)
        except ValueError:
            return None
        if not ok or expires < self.clock():
            return None
        return base64.b64encode(raw).decode()
