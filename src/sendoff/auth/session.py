"""Short-lived credentials (``AWS_ACCESS_KEY_ID`` = ``ASIA…``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_SESSION_TOKEN``), verified without a store lookup: those given to functions, and
those STS ``AssumeRole`` / ``GetSessionToken`` return (:mod:`sendoff.api.sts`).

The session token is the claim itself: ``sendoff1.<claims>.<mac>``, where the claims
(account, access key id, expiry, and either the function or the principal's ARN and
unique id) are base64url JSON and the MAC is
HMAC-SHA256 under the server secret. The secret key is derived from the same secret and
the claims, so any process holding the server secret can recompute it, and nobody without
it can mint a token or a matching secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from sendoff.auth.credentials import new_access_key_id

PREFIX = "sendoff1"
LIFETIME_S = 12 * 3600.0
"""How long a function's credentials stay valid. Environments idle out much sooner; one
kept busy for longer than this would see ExpiredToken (docs/security.md)."""


@dataclass(frozen=True, kw_only=True)
class SessionClaims:
    account_id: str
    function_name: str  # "" for an STS session
    access_key_id: str
    expires_at: float
    arn: str = ""  # an STS session's principal: assumed-role ARN, or the user's own ARN
    user_id: str = ""  # its unique id (``AROA…:session`` or ``AIDA…``)


@dataclass(frozen=True, kw_only=True)
class IssuedSession:
    """What STS returns: the key pair, the token and when they expire."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_at: float


class SessionError(Exception):
    """A session token that is malformed, forged or not for this key (``expired`` says
    whether it was only too old)."""

    def __init__(self, *, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionIssuer:
    """Mints and checks function credentials with one server secret."""

    def __init__(self, secret: bytes, *, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self._clock = clock

    def _mac(self, purpose: str, payload: str) -> bytes:
        return hmac.new(self._secret, f"{purpose}|{payload}".encode(), hashlib.sha256).digest()

    def issue(self, account_id: str, function_name: str) -> dict[str, str]:
        """The three variables a function's SDK reads."""
        session = self._mint(
            {"a": account_id, "f": function_name, "e": int(self._clock() + LIFETIME_S)}
        )
        return {
            "AWS_ACCESS_KEY_ID": session.access_key_id,
            "AWS_SECRET_ACCESS_KEY": session.secret_access_key,
            "AWS_SESSION_TOKEN": session.session_token,
        }

    def issue_session(
        self,
        *,
        account_id: str,
        arn: str,
        user_id: str,
        duration_s: int,
    ) -> IssuedSession:
        """Credentials acting as ``arn`` (an assumed role's session, or a user's own
        session token) for ``duration_s`` seconds."""
        claims: dict[str, object] = {
            "a": account_id,
            "n": arn,
            "u": user_id,
            "e": int(self._clock() + duration_s),
        }
        return self._mint(claims)

    def _mint(self, claims: dict[str, object]) -> IssuedSession:
        key_id = new_access_key_id("ASIA")
        claims = {**claims, "k": key_id}
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        token = f"{PREFIX}.{payload}.{_b64(self._mac('token', payload))}"
        return IssuedSession(
            access_key_id=key_id,
            secret_access_key=self._secret_for(payload),
            session_token=token,
            expires_at=float(claims["e"]),  # type: ignore[arg-type]
        )

    def _secret_for(self, payload: str) -> str:
        return base64.b64encode(self._mac("secret", payload)).decode()[:40]

    def verify(self, access_key_id: str, token: str) -> tuple[SessionClaims, str]:
        """The claims and the secret key of a session, or SessionError."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != PREFIX:
            raise SessionError()
        payload, mac = parts[1], parts[2]
        try:
            ok = hmac.compare_digest(_unb64(mac), self._mac("token", payload))
            claims = json.loads(_unb64(payload)) if ok else None
        except (ValueError, TypeError):
            raise SessionError() from None
        if not isinstance(claims, dict) or claims.get("k") != access_key_id:
            raise SessionError()
        session = SessionClaims(
            account_id=str(claims["a"]),
            function_name=str(claims.get("f", "")),
            access_key_id=access_key_id,
            expires_at=float(claims["e"]),
            arn=str(claims.get("n", "")),
            user_id=str(claims.get("u", "")),
        )
        if session.expires_at < self._clock():
            raise SessionError(expired=True)
        return session, self._secret_for(payload)
