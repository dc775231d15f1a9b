"""Functions: the list (with last-hour activity and queued async events) and the
"Create function" form with an inline code editor."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sendoff.console.context import Console
from sendoff.console.forms import build_zip, place_error
from sendoff.console.web import Form, read_form, redirect
from sendoff.executor.runtimes import NODE_RUNTIMES, PYTHON_RUNTIMES
from sendoff.functions.errors import LambdaError, validation_error
from sendoff.functions.validation import (
    check_range,
    check_role,
    check_runtime_handler,
    code_sha256,
)
from sendoff.model.arn import NAME_RE
from sendoff.model.function import LATEST, FunctionConfig

RUNTIMES = sorted(NODE_RUNTIMES, reverse=True) + sorted(
    PYTHON_RUNTIMES, key=lambda r: int(r.split(".")[1]), reverse=True
)
DEFAULT_RUNTIME = "nodejs20.x"
NODE_CODE = """exports.handler = async (event, context) => {
  console.log('Received event:', JSON.stringify(event, null, 2));
  return { statusCode: 200, body: JSON.stringify('Hello from sendoff!') };
};
"""
PYTHON_CODE = """import json


def lambda_handler(event, context):
    print("Received event: " + json.dumps(event))
    return {"statusCode": 200, "body": json.dumps("Hello from sendoff!")}
"""
CREATE_FIELDS = {
    "functionName": "name", "Function already exist": "name", "runtime": "runtime",
    "handler": "handler", "role": "role", "timeout": "timeout", "memorySize": "memory",
}  # fmt: skip


def runtime_defaults() -> dict[str, dict[str, str]]:
    out = {}
    for runtime in RUNTIMES:
        node = runtime in NODE_RUNTIMES
        out[runtime] = {
            "handler": "index.handler" if node else "lambda_function.lambda_handler",
            "code": NODE_CODE if node else PYTHON_CODE,
        }
    return out


def code_file_name(runtime: str, handler: str, code: str) -> str:
    """The file the handler names: ``index.handler`` -> ``index.js`` (``.mjs`` for ES
    module code), ``app.handler`` -> ``app.py``."""
    module = handler.rpartition(".")[0] or "index"
    if runtime in NODE_RUNTIMES:
        esm = "export " in code and "exports." not in code and "module.exports" not in code
        return f"{module}.{'mjs' if esm else 'js'}"
    return f"{module.replace('.', '/')}.py"


@dataclass(frozen=True, kw_only=True)
class FunctionRow:
    name: str
    runtime: str
    last_modified: float
    invocations: float
    errors: float
    queued: int
    oldest: float | None


class FunctionPages:
    def __init__(self, console: Console) -> None:
        self.console = console

    def routes(self) -> list[BaseRoute]:
        page = self.console.page
        return [
            Route("/functions", page(self.listing), methods=["GET"]),
            Route("/functions/new", page(self.new), methods=["GET"]),
            Route("/functions/new", page(self.create), methods=["POST"]),
        ]

    async def rows(self, search: str) -> list[FunctionRow]:
        c = self.console
        c.history.sample()
        states, _ = await c.services.registry.list_functions(c.scope, marker=None, limit=10_000)
        since = c.index.clock() - 3600
        pending = c.index.pending_by_function()
        rows = []
        for state in states:
            cfg = state.latest
            if search and search.lower() not in cfg.name.lower():
                continue
            queued, oldest = pending.get(c.function_key(cfg.name), (0, None))
            rows.append(FunctionRow(
                name=cfg.name, runtime=cfg.runtime, last_modified=cfg.last_modified,
                invocations=c.history.total(cfg.name, "Invocations", since=since),
                errors=c.history.total(cfg.name, "Errors", since=since),
                queued=queued, oldest=oldest,
            ))  # fmt: skip
        return rows

    async def listing(self, request: Request) -> Response:
        search = request.query_params.get("q", "").strip()[:100]
        rows = await self.rows(search)
        fragment = bool(request.headers.get("x-console-fragment"))
        template = "_functions_rows.html" if fragment else "functions.html"
        return self.console.render(request, template, rows=rows, search=search,
                                   title="Functions")  # fmt: skip

    def _form_page(self, request: Request, form: Form, *, status: int = 200) -> Response:
        defaults = json.dumps(runtime_defaults()).replace("<", "\\u003c")
        return self.console.render(
            request, "function_new.html", status=status, form=form, runtimes=RUNTIMES,
            defaults_json=defaults, title="Create function",
        )  # fmt: skip

    async def new(self, request: Request) -> Response:
        defaults = runtime_defaults()[DEFAULT_RUNTIME]
        form = Form(values={
            "name": "", "runtime": DEFAULT_RUNTIME, "handler": defaults["handler"],
            "code": defaults["code"], "timeout": "3", "memory": "128",
            "role": f"arn:aws:iam::{self.console.account_id}:role/lambda-role",
        })  # fmt: skip
        return self._form_page(request, form)

    async def create(self, request: Request) -> Response:
        c = self.console
        form = await read_form(request)
        name = form.get("name").strip()
        code = form.get("code")
        try:
            if not NAME_RE.match(name):
                raise validation_error(
                    name, "functionName", "Member must satisfy regular expression pattern: "
                    "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
                    "(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
                )  # fmt: skip
            runtime, handler = check_runtime_handler(form.get("runtime"), form.get("handler"))
            if runtime not in NODE_RUNTIMES and runtime not in PYTHON_RUNTIMES:
                form.error("runtime", "The console creates Node.js and Python functions; upload"
                                      " a zip with the AWS CLI for custom runtimes.")  # fmt: skip
            role = check_role(form.get("role").strip())
            timeout = check_range(_int(form.get("timeout"), 3), "timeout", 1, 900)
            memory = check_range(_int(form.get("memory"), 128), "memorySize", 128, 10240)
        except LambdaError as exc:
            place_error(form, exc.message, CREATE_FIELDS, default="_form")
            return self._form_page(request, form, status=400)
        if not code.strip():
            form.error("code", "The function needs code: paste or write its handler here.")
        if not form.ok:
            return self._form_page(request, form, status=400)
        data = build_zip({code_file_name(runtime, handler, code): code})
        config = FunctionConfig(
            name=name, version=LATEST, runtime=runtime, handler=handler, role=role,
            code_sha256=code_sha256(data), code_size=len(data), timeout_s=timeout,
            memory_mb=memory,
        )  # fmt: skip
        try:
            await c.services.registry.create(c.scope, config, data, tags={})
        except LambdaError as exc:
            place_error(form, exc.message, CREATE_FIELDS, default="_form")
            return self._form_page(request, form, status=400)
        return redirect(f"/console/functions/{quote(name, safe='')}",
                        f"Function {name} was created.")  # fmt: skip


def _int(raw: str, default: int) -> object:
    raw = raw.strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        return raw  # check_range reports the wrong type in AWS's words
