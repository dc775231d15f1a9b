"""A small HTTP client for CLI commands that talk to a running server."""

from __future__ import annotations

import json
from typing import Any

import httpx


class CliError(Exception):
    """A friendly, one-line failure to show the user (no traceback)."""


class Client:
    def __init__(
        self, endpoint_url: str, *, timeout_s: float = 930.0, region: str | None = None
    ) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        from sendoff.auth.signing import client_auth

        self.http = httpx.Client(
            base_url=self.endpoint_url, timeout=timeout_s, auth=client_auth(region)
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.http.request(method, path, **kwargs)
        except httpx.ConnectError as exc:
            raise CliError(
                f"cannot reach sendoff at {self.endpoint_url} (is `sendoff server` running?"
                " set --endpoint-url or SENDOFF_ENDPOINT_URL)"
            ) from exc
        except httpx.HTTPError as exc:
            raise CliError(f"request to {self.endpoint_url} failed: {exc}") from exc

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise CliError(error_text(response))
        return response.json() if response.content else {}


def error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except json.JSONDecodeError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    code = response.headers.get("x-amzn-errortype") or body.get("__type") or "Error"
    message = body.get("message") or body.get("Message") or response.text
    return f"{code}: {message}"
