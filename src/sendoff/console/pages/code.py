"""Code: the files of the deployment package; small inline functions can be edited and
deployed from the browser (a new zip, as UpdateFunctionCode with the RevisionId check)."""

from __future__ import annotations

import re
import zipfile

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sendoff.console.context import Console
from sendoff.console.forms import CodeFile, build_zip, editable, place_error, read_zip
from sendoff.console.pages.base import function_head, head_context
from sendoff.console.web import Form, read_form, redirect
from sendoff.functions.errors import LambdaError
from sendoff.functions.validation import check_runtime_handler, code_sha256

FILE_FIELD = "file:"
SAFE_NAME = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")
CODE_FIELDS = {"handler": "handler", "Revision Id": "_form"}


class CodePages:
    def __init__(self, console: Console) -> None:
        self.console = console

    def routes(self) -> list[BaseRoute]:
        page = self.console.page
        return [
            Route("/functions/{name}/code", page(self.view), methods=["GET"]),
            Route("/functions/{name}/code", page(self.deploy), methods=["POST"]),
        ]

    async def _files(self, code_sha: str) -> list[CodeFile] | None:
        data = await self.console.services.store.get_blob(code_sha)
        if data is None:
            return None
        try:
            return read_zip(data)
        except zipfile.BadZipFile:
            return None

    async def view(self, request: Request, form: Form | None = None, status: int = 200) -> Response:
        c = self.console
        head = await function_head(c, request, "code")
        config = head.state.latest
        files = await self._files(config.code_sha256)
        if form is None:
            form = Form(values={"handler": config.handler, "revision": config.revision_id})
            for f in files or []:
                form.values[FILE_FIELD + f.name] = f.text or ""
        return c.render(
            request, "code.html", status=status, **head_context(head), files=files or [],
            missing=files is None, editable=files is not None and editable(files), form=form,
            file_field=FILE_FIELD,
        )  # fmt: skip

    async def deploy(self, request: Request) -> Response:
        c = self.console
        head = await function_head(c, request, "code")
        config = head.state.latest
        form = await read_form(request)
        files = await self._files(config.code_sha256)
        if files is None or not editable(files):
            form.error("_form", "This package cannot be edited here (too large or not text);"
                                " deploy it with aws lambda update-function-code.")  # fmt: skip
            return await self.view(request, form, status=400)
        contents = {f.name: form.get(FILE_FIELD + f.name, f.text or "") for f in files}
        new_name = form.get("new_file").strip()
        if new_name:
            if new_name in contents:
                form.error("new_file", f"A file named {new_name} already exists.")
            elif not SAFE_NAME.fullmatch(new_name) or ".." in new_name.split("/"):
                form.error("new_file", "Use letters, digits, '.', '_', '-' and '/' in file names.")
            else:
                contents[new_name] = ""
        changes: dict[str, object] = {}
        try:
            _, handler = check_runtime_handler(config.runtime, form.get("handler").strip())
            if handler != config.handler:
                changes["handler"] = handler
        except LambdaError as exc:
            form.error("handler", exc.message)
        if not form.ok:
            return await self.view(request, form, status=400)
        executable = frozenset(f.name for f in files if f.executable)
        data = build_zip(contents, executable=executable)
        changes.update(code_sha256=code_sha256(data), code_size=len(data))
        try:
            await c.services.registry.update_latest(
                c.scope, head.name, changes, code=data, revision_id=form.get("revision") or None
            )
        except LambdaError as exc:
            place_error(form, exc.message, CODE_FIELDS, default="_form")
            return await self.view(request, form, status=400)
        await c.services.executor.stop_function(head.arn)
        return redirect(f"{head.url}/code", "Deployed. New invocations run the new code.")
