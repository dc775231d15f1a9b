"""botocore's SigV4 signer, fed an incoming request: the reference the fast canonical form
(:mod:`sendoff.auth.canonical`) is checked against, and the judge when they disagree."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.auth import SigV4Auth
from botocore.credentials import Credentials

if TYPE_CHECKING:
    from sendoff.auth.sigv4 import Incoming, Parsed


class Headers(dict[str, list[str]]):
    """The part of botocore's ``HTTPHeaders`` (an ``email.message.Message``, slow to fill)
    that its canonicalisation reads: iteration over lower-case names, ``get_all``, and
    case-insensitive ``in`` / ``[]``."""

    def add(self, name: str, value: str) -> None:
        self.setdefault(name.lower(), []).append(value)

    def get_all(self, name: str, failobj: Any = None) -> list[str] | Any:
        return dict.get(self, name.lower(), failobj)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and dict.__contains__(self, name.lower())

    def __getitem__(self, name: str) -> Any:
        return dict.__getitem__(self, name.lower())[0]


class Reference(SigV4Auth):  # type: ignore[misc]  # botocore is untyped
    """botocore's signer, told exactly which headers were signed."""

    def __init__(self, secret: str, parsed: Parsed, headers: Headers) -> None:
        super().__init__(Credentials(parsed.access_key_id, secret), parsed.service, parsed.region)
        self._signed = headers

    def headers_to_sign(self, request: Any) -> Headers:
        return self._signed


class BotoRequest:
    """The attributes botocore's SigV4Auth reads from a request (an AWSRequest without
    the preparation it does for sending)."""

    def __init__(self, request: Incoming, parsed: Parsed, payload_hash: str | None) -> None:
        self.method = request.method
        self.url = "http://sendoff" + request.raw_path
        self.params = parsed.query
        self.headers = Headers()
        if payload_hash is not None:
            self.headers.add("X-Amz-Content-SHA256", payload_hash)
        self.body = request.body
        self.context = {"timestamp": parsed.timestamp}
