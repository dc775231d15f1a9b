"""Event buses: the list, create, and one bus's page: its rules and targets, a form to
add a rule with a target, and the pattern tester (TestEventPattern)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sendoff.console.context import Console, NotFound
from sendoff.console.resources import describe_arn, destination_choices
from sendoff.console.web import Form, pretty, read_form, redirect
from sendoff.model.scope import Scope
from sendoff.services.events.errors import EventsError
from sendoff.services.events.model import Rule, Target, bus_arn
from sendoff.services.events.service import RuleSpec

SAMPLE_PATTERN = '{\n  "source": ["lambda"],\n  "detail-type": [{"prefix": "Lambda Function"}]\n}'


def sample_event(account_id: str, region: str) -> str:
    return json.dumps({
        "version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": "Lambda Function Invocation Result - Success", "source": "lambda",
        "account": account_id, "time": "2026-01-01T00:00:00Z", "region": region,
        "resources": [], "detail": {"requestContext": {"condition": "Success"}},
    }, indent=2)  # fmt: skip


class BusPages:
    def __init__(self, console: Console) -> None:
        self.console = console

    def routes(self) -> list[BaseRoute]:
        page = self.console.page
        return [
            Route("/buses", page(self.listing), methods=["GET"]),
            Route("/buses", page(self.create), methods=["POST"]),
            Route("/buses/{name}", page(self.view), methods=["GET"]),
            Route("/buses/{name}/rules", page(self.add_rule), methods=["POST"]),
            Route("/buses/{name}/test", page(self.test_pattern), methods=["POST"]),
        ]

    @property
    def scope(self) -> Scope:
        return self.console.scope

    def _service(self) -> Any:
        if self.console.services.buses is None:
            raise NotFound("The event bus service is not running on this server.")
        return self.console.services.buses

    async def listing(
        self, request: Request, form: Form | None = None, status: int = 200
    ) -> Response:
        service = self._service()
        buses = (await service.list_event_buses(self.scope)).items
        rows = [
            {"name": b.name, "arn": bus_arn(self.scope, b.name), "created_at": b.created_at,
             "rules": len(await service.repo.rules_of(self.scope, b.name))}
            for b in buses
        ]  # fmt: skip
        return self.console.render(
            request, "buses.html", status=status, buses=rows, section="buses",
            title="Event buses", form=form or Form(values={"name": ""}),
        )  # fmt: skip

    async def create(self, request: Request) -> Response:
        form = await read_form(request)
        name = form.get("name").strip()
        if not name:
            form.error("name", "Enter an event bus name.")
            return await self.listing(request, form, status=400)
        try:
            await self._service().create_event_bus(self.scope, name)
        except EventsError as exc:
            form.error("name", exc.message)
            return await self.listing(request, form, status=400)
        return redirect(f"/console/buses/{quote(name, safe='')}", f"Event bus {name} was created.")

    async def view(
        self, request: Request, *, rule_form: Form | None = None, test_form: Form | None = None,
        result: bool | None = None, status: int = 200,
    ) -> Response:  # fmt: skip
        c = self.console
        name = request.path_params["name"]
        service = self._service()
        try:
            await service.repo.require_bus(self.scope, name)
        except EventsError:
            raise NotFound(f"There is no event bus named {name}.", back="/console/buses") from None
        rules: list[Rule] = await service.repo.rules_of(self.scope, name)
        chosen = request.query_params.get("rule")
        pattern = next((r.event_pattern for r in rules if r.name == chosen and r.event_pattern),
                       SAMPLE_PATTERN)  # fmt: skip
        targets = {
            r.name: [(t, describe_arn(t.arn, account_id=c.account_id, region=c.region))
                     for t in r.targets]
            for r in rules
        }  # fmt: skip
        return c.render(
            request, "bus.html", status=status, bus=name, arn=bus_arn(self.scope, name),
            rules=rules, targets=targets, pretty=pretty, section="buses", title=name,
            choices=await destination_choices(c, exclude_function=""), result=result,
            rule_form=rule_form or Form(values={"rule": "", "pattern": SAMPLE_PATTERN,
                                                "target": ""}),
            test_form=test_form or Form(values={
                "pattern": pretty(pattern), "event": sample_event(c.account_id, c.region)}),
        )  # fmt: skip

    async def add_rule(self, request: Request) -> Response:
        name = request.path_params["name"]
        form = await read_form(request)
        rule = form.get("rule").strip()
        target = form.get("target").strip()
        if not rule:
            form.error("rule", "Enter a rule name.")
        if not form.get("pattern").strip():
            form.error("pattern", "Enter an event pattern.")
        if not form.ok:
            return await self.view(request, rule_form=form, status=400)
        service = self._service()
        try:
            await service.put_rule(
                self.scope, RuleSpec(name=rule, bus=name, event_pattern=form.get("pattern"))
            )
        except EventsError as exc:
            field = "rule" if "name" in exc.message.lower() else "pattern"
            form.error(field, exc.message)
            return await self.view(request, rule_form=form, status=400)
        if target:
            failures = await service.put_targets(
                self.scope, rule, name, [Target(id="target-1", arn=target)]
            )
            if failures:
                form.error("target", f"The rule was saved, but not its target:"
                                     f" {failures[0].error_message}")  # fmt: skip
                return await self.view(request, rule_form=form, status=400)
        return redirect(f"/console/buses/{quote(name, safe='')}#rule-{quote(rule, safe='')}",
                        f"Rule {rule} was saved.")  # fmt: skip

    async def test_pattern(self, request: Request) -> Response:
        form = await read_form(request)
        try:
            json.loads(form.get("event"))
        except ValueError as exc:
            form.error("event", f"The event is not valid JSON: {exc}.")
            return await self.view(request, test_form=form, status=400)
        try:
            matched = self._service().test_event_pattern(form.get("pattern"), form.get("event"))
        except EventsError as exc:
            field = "event" if "Event is not valid" in exc.message else "pattern"
            message = exc.message
            if field == "event":
                message += (" A test event needs id, account, source, time, region and"
                            " detail-type.")  # fmt: skip
            form.error(field, message)
            return await self.view(request, test_form=form, status=400)
        return await self.view(request, test_form=form, result=bool(matched))
