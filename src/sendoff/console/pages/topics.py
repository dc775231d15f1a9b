"""Topics: the list, create, and one topic's page: its subscriptions (subscribe,
unsubscribe) and a form to publish a test message."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sendoff.console.context import Console, NotFound
from sendoff.console.resources import describe_arn, destination_choices
from sendoff.console.web import Form, read_form, redirect
from sendoff.model.scope import Scope
from sendoff.services.sns.errors import SnsError
from sendoff.services.sns.model import Protocol

PROTOCOLS = [p.value for p in Protocol]


class TopicPages:
    def __init__(self, console: Console) -> None:
        self.console = console

    def routes(self) -> list[BaseRoute]:
        page = self.console.page
        return [
            Route("/topics", page(self.listing), methods=["GET"]),
            Route("/topics", page(self.create), methods=["POST"]),
            Route("/topics/{name}", page(self.view), methods=["GET"]),
            Route("/topics/{name}/subscribe", page(self.subscribe), methods=["POST"]),
            Route("/topics/{name}/unsubscribe", page(self.unsubscribe), methods=["POST"]),
            Route("/topics/{name}/publish", page(self.publish), methods=["POST"]),
        ]

    @property
    def scope(self) -> Scope:
        return self.console.scope

    def _service(self) -> Any:
        if self.console.services.topics is None:
            raise NotFound("The topic service is not running on this server.")
        return self.console.services.topics

    async def listing(
        self, request: Request, form: Form | None = None, status: int = 200
    ) -> Response:
        topics = await self._service().summary(self.console.account_id, self.console.region)
        return self.console.render(
            request, "topics.html", status=status, topics=topics, section="topics",
            title="Topics", form=form or Form(values={"name": ""}),
        )  # fmt: skip

    async def create(self, request: Request) -> Response:
        form = await read_form(request)
        name = form.get("name").strip()
        attributes = {"FifoTopic": "true"} if form.get("fifo") == "on" else {}
        if not name:
            form.error("name", "Enter a topic name.")
            return await self.listing(request, form, status=400)
        try:
            await self._service().topics.create(self.scope, name, attributes)
        except SnsError as exc:
            form.error("name", exc.message)
            return await self.listing(request, form, status=400)
        return redirect(f"/console/topics/{quote(name, safe='')}", f"Topic {name} was created.")

    async def _topic(self, request: Request) -> dict[str, Any]:
        name = request.path_params["name"]
        for topic in await self._service().summary(self.console.account_id, self.console.region):
            if topic["name"] == name:
                return dict(topic)
        raise NotFound(f"There is no topic named {name}.", back="/console/topics")

    async def view(self, request: Request, form: Form | None = None, status: int = 200) -> Response:
        c = self.console
        topic = await self._topic(request)
        subs = [
            {**sub, "link": describe_arn(sub["endpoint"], account_id=c.account_id,
                                         region=c.region)
             if str(sub["endpoint"]).startswith("arn:") else None}
            for sub in topic["subscriptions"]
        ]  # fmt: skip
        choices = await destination_choices(c, exclude_function="")
        return c.render(
            request, "topic.html", status=status, topic=topic, subs=subs, protocols=PROTOCOLS,
            choices=choices, section="topics", title=topic["name"],
            form=form or Form(values={"protocol": "sqs", "endpoint": "",
                                      "message": '{\n  "hello": "sendoff"\n}', "subject": ""}),
        )  # fmt: skip

    async def subscribe(self, request: Request) -> Response:
        topic = await self._topic(request)
        form = await read_form(request)
        endpoint = form.get("endpoint").strip()
        if not endpoint:
            form.error("endpoint", "Enter the endpoint: a queue or function ARN, a URL or an"
                                   " email address.")  # fmt: skip
            return await self.view(request, form, status=400)
        try:
            await self._service().subscriptions.subscribe(
                self.scope, topic["arn"], form.get("protocol"), endpoint, return_arn=True
            )
        except SnsError as exc:
            field = "protocol" if "protocol" in exc.message else "endpoint"
            form.error(field, exc.message)
            return await self.view(request, form, status=400)
        return redirect(f"/console/topics/{quote(topic['name'], safe='')}",
                        f"Subscribed {endpoint} ({form.get('protocol')}).")  # fmt: skip

    async def unsubscribe(self, request: Request) -> Response:
        topic = await self._topic(request)
        form = await read_form(request)
        await self._service().subscriptions.unsubscribe(self.scope, form.get("arn"))
        return redirect(f"/console/topics/{quote(topic['name'], safe='')}",
                        "The subscription was deleted.")  # fmt: skip

    async def publish(self, request: Request) -> Response:
        topic = await self._topic(request)
        form = await read_form(request)
        if not form.get("message"):
            form.error("message", "Enter a message to publish.")
            return await self.view(request, form, status=400)
        try:
            result = await self._service().publish(
                topic["arn"], form.get("message"), subject=form.get("subject") or None,
                group_id=form.get("group") or None, dedup_id=form.get("dedup") or None,
            )  # fmt: skip
        except SnsError as exc:
            lowered = exc.message.lower()
            field = "subject" if "subject" in lowered else "message"
            form.error(field, exc.message)
            return await self.view(request, form, status=400)
        return redirect(f"/console/topics/{quote(topic['name'], safe='')}",
                        f"Message {result.message_id} was published.")  # fmt: skip
