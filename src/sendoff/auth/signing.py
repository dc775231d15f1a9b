"""SigV4 signing for sendoff's own HTTP clients (the CLI, ``sendoff deploy``).

They sign when credentials are found the way AWS tools find them (``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``, ``AWS_PROFILE``, ``~/.aws``...), with
botocore's signer, so they work against a ``--auth sigv4`` server; without credentials
they send plain requests, as before (enough for the loopback default, ``--auth none``).
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any
from urllib.parse import unquote

import httpx

SERVICE = "lambda"  # sendoff accepts any signing name; the region comes from the scope


def found_credentials() -> Any:
    """botocore's frozen credentials from the default chain, or None."""
    import botocore.session

    session = botocore.session.get_session()
    credentials = session.get_credentials()
    return None if credentials is None else credentials.get_frozen_credentials()


def region() -> str:
    import botocore.session

    return (
        os.environ.get("AWS_REGION")
        or botocore.session.get_session().get_config_variable("region")
        or "us-east-1"
    )


class SigV4(httpx.Auth):
    """Sign every request with botocore's ``SigV4Auth``."""

    requires_request_body = True

    def __init__(self, credentials: Any, region_name: str) -> None:
        self.credentials = credentials
        self.region_name = region_name

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        url = request.url
        aws = AWSRequest(
            method=request.method,
            url=str(url.copy_with(query=None)),
            data=request.content,
            headers={"host": request.headers["host"]},
        )
        query = url.query.decode()
        aws.params = [
            (unquote(k), unquote(v))
            for k, _, v in (p.partition("=") for p in query.split("&") if p)
        ]
        SigV4Auth(self.credentials, SERVICE, self.region_name).add_auth(aws)
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            if name in aws.headers:
                request.headers[name] = aws.headers[name]
        yield request


def client_auth(region_name: str | None = None) -> SigV4 | None:
    """A signer for the found credentials (``region_name`` as ``--region`` gave it, else
    the environment's), or None to send plain requests."""
    credentials = found_credentials()
    return None if credentials is None else SigV4(credentials, region_name or region())
