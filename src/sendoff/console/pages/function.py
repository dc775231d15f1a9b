"""A function's Overview (the Designer: triggers, the function, destinations and DLQ) and
its asynchronous invocation settings (maximum age of event, retry attempts, DLQ)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sendoff.console.context import Console
from sendoff.console.forms import int_field, place_error
from sendoff.console.pages.base import function_head, head_context
from sendoff.console.resources import describe_arn, destination_choices
from sendoff.console.triggers import triggers_of
from sendoff.console.web import Form, read_form, redirect
from sendoff.functions.errors import LambdaError
from sendoff.functions.event_config import ConfigInput
from sendoff.functions.validation import check_dead_letter_config, check_range
from sendoff.model.arn import arn_service
from sendoff.model.function import LATEST
from sendoff.model.policy import RetryPolicy

DLQ_TYPES = (("", "None"), ("sqs", "Amazon SQS queue"), ("sns", "Amazon SNS topic"))
ASYNC_FIELDS = {"maximumRetryAttempts": "retries", "maximumEventAgeInSeconds": "age",
                "deadLetterConfig": "dlq", "dead-letter": "dlq", "target ARN": "dlq"}  # fmt: skip


class FunctionOverview:
    def __init__(self, console: Console) -> None:
        self.console = console

    def routes(self) -> list[BaseRoute]:
        page = self.console.page
        return [
            Route("/functions/{name}", page(self.overview), methods=["GET"]),
            Route("/functions/{name}/async-config", page(self.edit_async), methods=["GET"]),
            Route("/functions/{name}/async-config", page(self.save_async), methods=["POST"]),
            Route("/functions/{name}/triggers/{uuid}/{action:str}", page(self.toggle_trigger),
                  methods=["POST"]),
        ]  # fmt: skip

    async def toggle_trigger(self, request: Request) -> Response:
        """Enable or disable an event source mapping (UpdateEventSourceMapping)."""
        from sendoff.sources.mapping import MappingInput

        c = self.console
        head = await function_head(c, request, "")
        action = request.path_params["action"]
        pollers = c.services.event_sources
        if action not in ("enable", "disable") or pollers is None:
            return redirect(head.url, "Nothing to do.")
        mapping = await pollers.mappings.get(c.scope, request.path_params["uuid"])
        if mapping.function_name != head.name:
            return redirect(head.url, "That trigger belongs to another function.")
        await pollers.mappings.update(
            c.scope, mapping.uuid, MappingInput(enabled=action == "enable")
        )
        done = "enabled" if action == "enable" else "disabled"
        return redirect(head.url, f"The trigger from {mapping.event_source_arn} was {done}.")

    async def overview(self, request: Request) -> Response:
        c = self.console
        head = await function_head(c, request, "")
        config = await c.configs.get(c.scope, head.name, LATEST)
        where = {"account_id": c.account_id, "region": c.region}
        defaults = RetryPolicy()
        destinations = {
            "on-success": describe_arn(config.on_success, **where)
            if config and config.on_success else None,
            "on-failure": describe_arn(config.on_failure, **where)
            if config and config.on_failure else None,
        }  # fmt: skip
        dlq = head.state.latest.dead_letter_target
        return c.render(
            request, "function.html", **head_context(head),
            triggers=await triggers_of(c, head.name),
            destinations=destinations,
            dlq=describe_arn(dlq, **where) if dlq else None,
            retries=config.max_retry_attempts if config and config.max_retry_attempts is not None
            else defaults.max_retry_attempts,
            max_age=config.max_event_age_s if config and config.max_event_age_s is not None
            else defaults.max_event_age_s,
            has_config=config is not None,
        )  # fmt: skip

    async def _async_form(
        self, request: Request, form: Form | None = None, *, status: int = 200
    ) -> Response:
        c = self.console
        head = await function_head(c, request, "")
        if form is None:
            config = await c.configs.get(c.scope, head.name, LATEST)
            defaults = RetryPolicy()
            dlq = head.state.latest.dead_letter_target or ""
            form = Form(values={
                "retries": str(config.max_retry_attempts if config and
                               config.max_retry_attempts is not None
                               else defaults.max_retry_attempts),
                "age": str(config.max_event_age_s if config and config.max_event_age_s is not None
                           else defaults.max_event_age_s),
                "dlq_type": arn_service(dlq),
                "dlq": dlq,
            })  # fmt: skip
        choices = await destination_choices(c, exclude_function=head.name)
        return c.render(
            request, "async_config.html", status=status, **head_context(head), form=form,
            dlq_types=DLQ_TYPES, choices=choices,
        )  # fmt: skip

    async def edit_async(self, request: Request) -> Response:
        return await self._async_form(request)

    async def save_async(self, request: Request) -> Response:
        """Validate every field first (with Lambda's own checks and messages), then write:
        the EventInvokeConfig (retries, age) and, if it changed, the function's DLQ."""
        c = self.console
        head = await function_head(c, request, "")
        form = await read_form(request)
        retries = int_field(form, "retries", "Retry attempts")
        age = int_field(form, "age", "Maximum age of event")
        if retries is None and "retries" not in form.errors:
            form.error("retries", "Enter the number of retry attempts, from 0 to 2.")
        if age is None and "age" not in form.errors:
            form.error("age", "Enter the maximum age of an event in seconds, from 60 to 21600.")
        for value, path, low, high, name in (
            (retries, "maximumRetryAttempts", 0, 2, "retries"),
            (age, "maximumEventAgeInSeconds", 60, 21600, "age"),
        ):
            if value is not None:
                try:
                    check_range(value, path, low, high)
                except LambdaError as exc:
                    form.error(name, exc.message)
        dlq_type = form.get("dlq_type")
        dlq_arn = form.get("dlq").strip() if dlq_type else ""
        dlq: str | None = None
        if dlq_type and not dlq_arn:
            form.error("dlq", "Choose or enter the ARN of the queue or topic, or choose None.")
        elif dlq_arn:
            try:
                dlq = check_dead_letter_config({"TargetArn": dlq_arn})
            except LambdaError as exc:
                form.error("dlq", exc.message)
            if dlq and arn_service(dlq) != dlq_type:
                form.error("dlq", f"This ARN is not an {dict(DLQ_TYPES)[dlq_type]}: {dlq}")
        if not form.ok:
            return await self._async_form(request, form, status=400)
        current = await c.configs.get(c.scope, head.name, LATEST)
        try:
            await c.configs.put(
                c.scope, head.name, LATEST,
                ConfigInput(max_retry_attempts=retries, max_event_age_s=age,
                            destination_config=None),
                merge=current is not None,
            )  # fmt: skip
            if dlq != head.state.latest.dead_letter_target:
                await c.services.registry.update_latest(
                    c.scope, head.name, {"dead_letter_target": dlq}
                )
                await c.services.executor.stop_function(head.arn)
        except LambdaError as exc:
            place_error(form, exc.message, ASYNC_FIELDS, default="_form")
            return await self._async_form(request, form, status=400)
        return redirect(head.url, "Asynchronous invocation settings were saved.")
