"""Add, edit and remove a destination (the announcement's "Add destination" form).

Source "Asynchronous invocation", Condition "On success" / "On failure", a destination
type and the destination itself, picked from existing resources or typed as an ARN.
Saving goes through :class:`~sendoff.functions.event_config.EventConfigs` with the same
checks and messages as PutFunctionEventInvokeConfig; the one write happens only when
every check passed, and the other condition, retry and age settings are kept.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sendoff.console.context import Console, NotFound
from sendoff.console.forms import place_error
from sendoff.console.pages.base import function_head, head_context
from sendoff.console.resources import (
    DESTINATION_TYPES,
    TYPE_LABELS,
    WITH_ARTICLE,
    describe_arn,
    destination_choices,
    exists,
)
from sendoff.console.web import Form, read_form, redirect
from sendoff.destinations.registry import kind_for
from sendoff.functions.errors import LambdaError
from sendoff.functions.event_config import ConfigInput, parse_input
from sendoff.model.arn import parse_arn
from sendoff.model.function import LATEST

CONDITIONS = (("on-success", "On success"), ("on-failure", "On failure"))
CONDITION_KEYS = {"on-success": ("on_success", "OnSuccess"),
                  "on-failure": ("on_failure", "OnFailure")}  # fmt: skip
SOURCES = (("async", "Asynchronous invocation"),)
DEST_FIELDS = {"destination": "destination", "function as a destination": "destination"}


class DestinationPages:
    def __init__(self, console: Console) -> None:
        self.console = console

    def routes(self) -> list[BaseRoute]:
        page = self.console.page
        base = "/functions/{name}/destinations"
        return [
            Route(f"{base}/new", page(self.new), methods=["GET"]),
            Route(f"{base}/new", page(self.save), methods=["POST"]),
            Route(f"{base}/{{condition}}/edit", page(self.edit), methods=["GET"]),
            Route(f"{base}/{{condition}}/edit", page(self.save), methods=["POST"]),
            Route(f"{base}/{{condition}}/remove", page(self.remove), methods=["POST"]),
        ]

    async def _current(self, name: str) -> dict[str, str | None]:
        config = await self.console.configs.get(self.console.scope, name, LATEST)
        return {
            "on-success": config.on_success if config else None,
            "on-failure": config.on_failure if config else None,
        }

    async def _form_page(
        self, request: Request, form: Form, *, editing: str | None, status: int = 200
    ) -> Response:
        c = self.console
        head = await function_head(c, request, "")
        choices = await destination_choices(c, exclude_function=head.name)
        return c.render(
            request, "destination_form.html", status=status, **head_context(head), form=form,
            editing=editing, conditions=CONDITIONS, sources=SOURCES, types=DESTINATION_TYPES,
            choices=choices,
        )  # fmt: skip

    async def new(self, request: Request) -> Response:
        current = await self._current(request.path_params["name"])
        wanted = request.query_params.get("condition", "")
        if wanted not in CONDITION_KEYS:
            wanted = "on-success" if current["on-success"] is None else "on-failure"
        form = Form(values={"source": "async", "condition": wanted, "type": "sqs",
                            "destination": ""})  # fmt: skip
        return await self._form_page(request, form, editing=None)

    async def edit(self, request: Request) -> Response:
        condition = request.path_params["condition"]
        current = await self._current(request.path_params["name"])
        if condition not in CONDITION_KEYS or current[condition] is None:
            raise NotFound(f"There is no {condition.replace('-', ' ')} destination to edit.",
                           back=f"/console/functions/{request.path_params['name']}")  # fmt: skip
        arn = current[condition] or ""
        parsed = parse_arn(arn)
        service = parsed.service if parsed is not None and parsed.service in TYPE_LABELS else "sqs"
        form = Form(values={"source": "async", "condition": condition, "type": service,
                            "destination": arn})  # fmt: skip
        return await self._form_page(request, form, editing=condition)

    async def save(self, request: Request) -> Response:
        c = self.console
        name = request.path_params["name"]
        editing = request.path_params.get("condition")
        if editing is not None and editing not in CONDITION_KEYS:
            raise NotFound(f"Unknown condition {editing!r}.")
        await c.services.registry.load(c.scope, name)
        form = await read_form(request)
        condition = form.get("condition")
        kind = form.get("type")
        arn = form.get("destination").strip()
        if form.get("source") != "async":
            form.error("source", "Choose Asynchronous invocation as the source.")
        if condition not in CONDITION_KEYS:
            form.error("condition", "Choose a condition: On success or On failure.")
        if kind not in TYPE_LABELS:
            form.error("type", "Choose a destination type.")
        if not arn:
            form.error("destination", "Choose a destination or enter its ARN.")
        current = await self._current(name)
        if form.ok and condition != editing and current[condition] is not None:
            label = dict(CONDITIONS)[condition]
            form.error("condition", f"{label} already sends records to {current[condition]}."
                                    f" Edit or remove that destination first.")  # fmt: skip
        if form.ok:
            self._check_shape(form, condition, kind, arn)
        if not form.ok:
            return await self._form_page(request, form, editing=editing, status=400)
        wanted = dict(current)
        if editing is not None:
            wanted[editing] = None
        wanted[condition] = arn
        try:
            existing = await c.configs.get(c.scope, name, LATEST)
            await c.configs.put(
                c.scope, name, LATEST,
                ConfigInput(max_retry_attempts=None, max_event_age_s=None,
                            destination_config={"on_success": wanted["on-success"],
                                                "on_failure": wanted["on-failure"]}),
                merge=existing is not None,
            )  # fmt: skip
        except LambdaError as exc:
            place_error(form, exc.message, DEST_FIELDS, default="destination")
            return await self._form_page(request, form, editing=editing, status=400)
        link = describe_arn(arn, account_id=c.account_id, region=c.region)
        label = dict(CONDITIONS)[condition]
        notice = f"The destination was saved: {label} → {link.kind} {link.name}."
        if await exists(c, arn) is False:
            notice += (f" Note: sendoff has no {link.kind} named {link.name} yet; records sent"
                       " there will fail to deliver until it exists.")  # fmt: skip
        return redirect(f"/console/functions/{quote(name, safe='')}", notice)

    def _check_shape(self, form: Form, condition: str, kind: str, arn: str) -> None:
        """Lambda's own input validation (pattern, length), then the console's check that
        the ARN is of the type chosen."""
        key = CONDITION_KEYS[condition][1]
        found = kind_for(kind)
        if found is not None and found.on_failure_only and key == "OnSuccess":
            what = WITH_ARTICLE[kind][:1].upper() + WITH_ARTICLE[kind][1:]
            form.error("type", f"{what} can only receive records of failed invocations:"
                               " choose On failure, or another type.")  # fmt: skip
            return
        try:
            parse_input({"DestinationConfig": {key: {"Destination": arn}}})
        except LambdaError as exc:
            form.error("destination", exc.message)
            return
        parsed = parse_arn(arn)
        if parsed is not None and parsed.service in TYPE_LABELS and parsed.service != kind:
            form.error(
                "destination",
                f"This ARN names {WITH_ARTICLE[parsed.service]}, but the destination type is"
                f" {TYPE_LABELS[kind]}. Choose {TYPE_LABELS[parsed.service]} as the type, or"
                f" enter the ARN of {WITH_ARTICLE[kind]}.",
            )

    async def remove(self, request: Request) -> Response:
        c = self.console
        name = request.path_params["name"]
        condition = request.path_params["condition"]
        current = await self._current(name)
        if condition not in CONDITION_KEYS or current[condition] is None:
            raise NotFound(f"There is no {condition.replace('-', ' ')} destination to remove.",
                           back=f"/console/functions/{quote(name, safe='')}")  # fmt: skip
        current[condition] = None
        await c.configs.put(
            c.scope, name, LATEST,
            ConfigInput(max_retry_attempts=None, max_event_age_s=None,
                        destination_config={"on_success": current["on-success"],
                                            "on_failure": current["on-failure"]}),
            merge=True,
        )  # fmt: skip
        label = dict(CONDITIONS)[condition]
        return redirect(f"/console/functions/{quote(name, safe='')}",
                        f"The {label} destination was removed.")  # fmt: skip
