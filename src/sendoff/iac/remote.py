"""The client side of a deployment: the server's AWS APIs (boto3) and its stacks API.

``BotoCloud`` is the ``Cloud`` resource types use: boto3 clients pointed at the server (so
a deployment makes exactly the calls a user would), CloudFormation-style physical names,
and function code zips (built locally, or fetched back from the server by CodeSha256 when
a rollback restores older code). ``HttpStackStore`` keeps stacks through
``/_sendoff/stacks``.
"""

from __future__ import annotations

import base64
import secrets
import string
from dataclasses import dataclass
from typing import Any

import httpx

from sendoff.iac.errors import IacError, StackError
from sendoff.iac.package import MARKER, CodePackager, inline_filename, zip_source
from sendoff.iac.state import Stack
from sendoff.model.json_types import JSON

_ALPHABET = string.ascii_uppercase + string.digits


def _request(http: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    try:
        return http.request(method, path, **kwargs)
    except httpx.ConnectError as exc:
        raise IacError(
            f"cannot reach sendoff at {http.base_url} (is `sendoff server` running?"
            " set --endpoint-url or SENDOFF_ENDPOINT_URL)"
        ) from exc
    except httpx.HTTPError as exc:
        raise IacError(f"request to {http.base_url} failed: {exc}") from exc


def _fail(response: httpx.Response) -> IacError:
    try:
        message = response.json().get("message", response.text)
    except ValueError:
        message = response.text[:200]
    return StackError(f"HTTP {response.status_code}: {message}")


@dataclass(frozen=True)
class Keys:
    """Credentials to sign with (botocore's frozen credentials have the same fields)."""

    access_key: str
    secret_key: str
    token: str | None = None


def signed_http(endpoint_url: str, keys: Keys, region: str) -> httpx.Client:
    """An HTTP client to the server signing as ``keys`` (a server-side deployment's)."""
    from sendoff.cli.signing import SigV4

    return httpx.Client(base_url=endpoint_url, timeout=120, auth=SigV4(keys, region))


@dataclass(frozen=True, kw_only=True)
class ServerInfo:
    account_id: str
    region: str
    stacks: list[JSON]
    exports: dict[str, str]


class HttpStackStore:
    """Stacks kept by a running server."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def info(self, region: str | None) -> ServerInfo:
        params = {"region": region} if region else {}
        response = _request(self.http, "GET", "/_sendoff/stacks", params=params)
        if response.status_code != 200:
            raise _fail(response)
        body = response.json()
        return ServerInfo(account_id=body["account_id"], region=body["region"],
                          stacks=body["stacks"], exports=body.get("exports") or {})  # fmt: skip

    def get(self, region: str, name: str) -> Stack | None:
        response = _request(self.http, "GET", f"/_sendoff/stacks/{name}",
                            params={"region": region})  # fmt: skip
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise _fail(response)
        body = response.json()
        return Stack.from_json(body["stack"], revision=body["revision"])

    def put(self, stack: Stack) -> Stack:
        response = _request(
            self.http, "PUT", f"/_sendoff/stacks/{stack.name}", params={"region": stack.region},
            json={"stack": stack.to_json(), "revision": stack.revision},
        )  # fmt: skip
        if response.status_code != 200:
            raise _fail(response)
        return stack.evolve(revision=response.json()["revision"])

    def delete(self, stack: Stack) -> None:
        response = _request(
            self.http, "DELETE", f"/_sendoff/stacks/{stack.name}",
            params={"region": stack.region, "revision": str(stack.revision)},
        )  # fmt: skip
        if response.status_code not in (204, 404):
            raise _fail(response)

    def list(self, region: str) -> list[Stack]:
        names = [s["name"] for s in self.info(region).stacks]
        return [s for s in (self.get(region, n) for n in names) if s is not None]


class BotoCloud:
    partition = "aws"

    def __init__(
        self,
        http: httpx.Client,
        *,
        account_id: str,
        region: str,
        stack_name: str,
        packager: CodePackager | None = None,
        keys: Keys | None = None,
    ) -> None:
        self.keys = keys  # the caller's (server-side deployments); else the default chain
        self.http = http
        self.endpoint_url = str(http.base_url).rstrip("/")
        self.account_id = account_id
        self.region = region
        self.stack_name = stack_name
        self.packager = packager
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            import boto3
            from botocore.config import Config

            from sendoff.cli.signing import found_credentials

            found = self.keys or found_credentials()  # the default chain, as the CLI signs
            make: Any = boto3.client  # a service chosen at run time: no typed overload
            self._clients[service] = make(
                service,
                endpoint_url=self.endpoint_url,
                region_name=self.region,
                aws_access_key_id=found.access_key if found else "test",
                aws_secret_access_key=found.secret_key if found else "test",
                aws_session_token=found.token if found else None,
                config=Config(retries={"total_max_attempts": 1},
                              connect_timeout=5, read_timeout=120),
            )  # fmt: skip
        return self._clients[service]

    def physical_name(self, logical_id: str, *, max_len: int, suffix: str = "") -> str:
        """``stack-LogicalId-RANDOM`` as CloudFormation names resources, within max_len."""
        random = "".join(secrets.choice(_ALPHABET) for _ in range(12))
        room = max_len - len(suffix) - len(random) - 2
        stack, logical = self.stack_name, logical_id
        if len(stack) + len(logical) > room:
            stack = stack[: max(room // 2, room - len(logical))]
            logical = logical[: room - len(stack)]
        return f"{stack}-{logical}-{random}{suffix}"

    def code_zip(self, code: JSON, *, runtime: str | None) -> bytes:
        if "ZipFile" in code:
            return zip_source(inline_filename(runtime), str(code["ZipFile"]))
        if "S3Bucket" in code:  # read as the caller, through the S3 API
            args = {"Bucket": str(code["S3Bucket"]), "Key": str(code["S3Key"])}
            if code.get("S3ObjectVersion"):
                args["VersionId"] = str(code["S3ObjectVersion"])
            body = self.client("s3").get_object(**args)["Body"]
            return bytes(body.read())
        local = code.get(MARKER) or {}
        sha = str(local.get("Sha256", ""))
        if self.packager is not None and sha in self.packager.zips:
            return self.packager.zips[sha]
        # older code (a rollback): the server keeps every zip it was given, by digest
        digest = base64.b64decode(sha)
        token = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        response = _request(self.http, "GET", f"/_sendoff/blobs/{token}")
        if response.status_code != 200:
            raise IacError(f"the code {sha} of {local.get('Path', '?')} is not available")
        return response.content
