"""Buckets: the list, create, and one bucket's object browser: folders by ``/`` prefix,
download, upload (the page's script PUTs the file's bytes; nothing is buffered whole),
delete; and the bucket's event notifications.

Downloads are always ``application/octet-stream`` with ``Content-Disposition:
attachment`` and ``nosniff``: an object's own Content-Type (``text/html``) is never served
on the console's origin, where a stored page could script the console.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from sendoff.console.context import Console, NotFound
from sendoff.console.resources import describe_arn
from sendoff.console.web import Form, read_form, redirect
from sendoff.services.s3.errors import S3Error
from sendoff.services.s3.model import Caller
from sendoff.services.s3.notifier import BucketRef
from sendoff.services.s3.service import S3Service

PAGE_SIZE = 200


def _folder(prefix: str) -> str:
    """The parent "folder" of a prefix (``a/b/`` -> ``a/``)."""
    trimmed = prefix.rstrip("/")
    return trimmed.rsplit("/", 1)[0] + "/" if "/" in trimmed else ""


class BucketPages:
    def __init__(self, console: Console) -> None:
        self.console = console

    def routes(self) -> list[BaseRoute]:
        page = self.console.page
        return [
            Route("/buckets", page(self.listing), methods=["GET"]),
            Route("/buckets", page(self.create), methods=["POST"]),
            Route("/buckets/{name}", page(self.view), methods=["GET"]),
            Route("/buckets/{name}/object", page(self.download), methods=["GET"]),
            Route("/buckets/{name}/object", page(self.upload), methods=["PUT"]),
            Route("/buckets/{name}/delete", page(self.delete), methods=["POST"]),
        ]

    def _service(self) -> S3Service:
        if self.console.services.objects is None:
            raise NotFound("The S3 service is not running on this server.")
        return self.console.services.objects

    def _caller(self) -> Caller:
        return Caller(account=self.console.account_id, region=self.console.region,
                      principal_id=self.console.account_id, source_ip="console")  # fmt: skip

    async def listing(
        self, request: Request, form: Form | None = None, status: int = 200
    ) -> Response:
        buckets = await self._service().list_buckets(self.console.account_id)
        return self.console.render(
            request, "buckets.html", status=status, buckets=buckets, section="buckets",
            title="Buckets", form=form or Form(values={"name": ""}),
        )  # fmt: skip

    async def create(self, request: Request) -> Response:
        form = await read_form(request)
        name = form.get("name").strip()
        if not name:
            form.error("name", "Enter a bucket name.")
            return await self.listing(request, form, status=400)
        try:
            await self._service().create_bucket(self.console.account_id, self.console.region, name)
        except S3Error as exc:
            form.error("name", exc.message or exc.code)
            return await self.listing(request, form, status=400)
        return redirect(f"/console/buckets/{quote(name, safe='')}", f"Bucket {name} was created.")

    async def _bucket(self, request: Request) -> Any:
        name = request.path_params["name"]
        try:
            return await self._service().owned_bucket(self.console.account_id, name)
        except S3Error:
            raise NotFound(f"There is no bucket named {name}.", back="/console/buckets") from None

    async def view(self, request: Request) -> Response:
        info = await self._bucket(request)
        prefix = request.query_params.get("prefix", "")
        after = request.query_params.get("after", "")
        listing = await self._service().list_objects(
            info.account, info.name, prefix=prefix, delimiter="/", after=after,
            max_keys=PAGE_SIZE,
        )  # fmt: skip
        notifier = self.console.services.s3_notifier
        targets: list[Any] = []
        eventbridge = False
        if notifier is not None:
            ref = BucketRef(name=info.name, account=info.account, region=info.region)
            config = await notifier.get(ref)
            eventbridge = config.eventbridge
            targets = [
                (t, describe_arn(t.arn, account_id=info.account, region=info.region))
                for t in config.targets
            ]
        crumbs: list[tuple[str, str]] = []
        acc = ""
        for part in [p for p in prefix.split("/") if p]:
            acc += part + "/"
            crumbs.append((part, acc))
        return self.console.render(
            request, "bucket.html", bucket=info, prefix=prefix, listing=listing,
            parent=_folder(prefix), crumbs=crumbs, targets=targets, eventbridge=eventbridge,
            section="buckets", title=info.name,
        )  # fmt: skip

    async def download(self, request: Request) -> Response:
        info = await self._bucket(request)
        key = request.query_params.get("key", "")
        service = self._service()
        try:
            obj = await service.head_object(info.account, info.name, key)
        except S3Error:
            back = f"/console/buckets/{quote(info.name, safe='')}"
            raise NotFound(f"There is no object {key!r} in {info.name}.", back=back) from None

        async def body() -> AsyncIterator[bytes]:
            async for piece in service.read(obj):
                yield piece

        filename = key.rsplit("/", 1)[-1] or "object"
        headers = {
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename, safe='')}",
            "Content-Length": str(obj.size),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        }
        return StreamingResponse(body(), media_type="application/octet-stream", headers=headers)

    async def upload(self, request: Request) -> Response:
        info = await self._bucket(request)
        key = request.query_params.get("key", "")
        if not key:
            return Response("Give the object a key.", status_code=400, media_type="text/plain")
        try:
            await self._service().put_object(
                info.account, info.name, key, request.stream(),
                content_type=request.headers.get("content-type") or None,
                caller=self._caller(),
            )  # fmt: skip
        except S3Error as exc:
            return Response(f"{exc.code}: {exc.message}", status_code=exc.status,
                            media_type="text/plain")  # fmt: skip
        return Response(f"Uploaded {key}.", media_type="text/plain")

    async def delete(self, request: Request) -> Response:
        info = await self._bucket(request)
        form = await read_form(request)
        key = form.get("key")
        await self._service().delete_object(info.account, info.name, key, caller=self._caller())
        back = f"/console/buckets/{quote(info.name, safe='')}"
        prefix = form.get("prefix")
        if prefix:
            back += f"?prefix={quote(prefix, safe='')}"
        return redirect(back, f"Deleted {key}.")
