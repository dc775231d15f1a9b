"""Queues: the list with message counts, create, and one queue's page: peek at messages,
send a test message, purge."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from sendoff.console.context import Console, NotFound
from sendoff.console.web import Form, pretty, read_form, redirect
from sendoff.model.scope import Scope
from sendoff.services.sqs.errors import QueueError
from sendoff.services.sqs.model import Queue, QueueRef, queue_url

PEEK_LIMIT = 10
QUEUE_FIELDS = {"name": "name", "Queue name": "name", "FIFO": "name", "group": "group",
                "deduplication": "dedup", "body": "body", "message": "body"}  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Peeked:
    id: str
    sent_at: float
    receive_count: int
    body: str
    group_id: str | None
    attributes: dict[str, Any]
    notification: str | None = None  # the Message of an SNS envelope, decoded


def sns_message(body: str) -> str | None:
    """The ``Message`` of an SNS notification delivered to a queue (not raw delivery)."""
    try:
        envelope = json.loads(body)
    except ValueError:
        return None
    if isinstance(envelope, dict) and envelope.get("Type") == "Notification":
        message = envelope.get("Message")
        return pretty(message) if isinstance(message, str) else None
    return None


@dataclass(frozen=True, kw_only=True)
class QueueRow:
    queue: Queue
    visible: int
    in_flight: int
    delayed: int


class QueuePages:
    def __init__(self, console: Console) -> None:
        self.console = console

    def routes(self) -> list[BaseRoute]:
        page = self.console.page
        return [
            Route("/queues", page(self.listing), methods=["GET"]),
            Route("/queues", page(self.create), methods=["POST"]),
            Route("/queues/{name}", page(self.view), methods=["GET"]),
            Route("/queues/{name}/send", page(self.send), methods=["POST"]),
            Route("/queues/{name}/purge", page(self.purge), methods=["POST"]),
        ]

    @property
    def scope(self) -> Scope:
        return self.console.scope

    def _service(self) -> Any:
        if self.console.services.queues is None:
            raise NotFound("The queue service is not running on this server.")
        return self.console.services.queues

    async def _row(self, queue: Queue) -> QueueRow:
        now = self.console.index.clock()
        counts = await self.console.services.store.count_messages(
            queue.id, now=now, sent_after=now - queue.retention_s
        )
        return QueueRow(queue=queue, visible=counts.visible, in_flight=counts.in_flight,
                        delayed=counts.delayed)  # fmt: skip

    async def listing(
        self, request: Request, form: Form | None = None, status: int = 200
    ) -> Response:
        queues = await self._service().list_queues(self.scope)
        rows = [await self._row(q) for q in queues]
        return self.console.render(
            request, "queues.html", status=status, rows=rows, section="queues", title="Queues",
            form=form or Form(values={"name": ""}),
        )  # fmt: skip

    async def create(self, request: Request) -> Response:
        form = await read_form(request)
        name = form.get("name").strip()
        attributes = {"FifoQueue": "true"} if form.get("fifo") == "on" else {}
        if not name:
            form.error("name", "Enter a queue name.")
            return await self.listing(request, form, status=400)
        try:
            queue = await self._service().create_queue(self.scope, name, attributes)
        except QueueError as exc:
            form.error("name", exc.message if hasattr(exc, "message") else str(exc))
            return await self.listing(request, form, status=400)
        return redirect(f"/console/queues/{quote(queue.name, safe='')}",
                        f"Queue {queue.name} was created.")  # fmt: skip

    async def _queue(self, request: Request) -> Queue:
        name = request.path_params["name"]
        ref = QueueRef(account_id=self.console.account_id, region=self.console.region, name=name)
        try:
            queue: Queue = await self._service().require(ref)
        except QueueError:
            raise NotFound(f"There is no queue named {name}.", back="/console/queues") from None
        return queue

    async def view(self, request: Request, form: Form | None = None, status: int = 200) -> Response:
        queue = await self._queue(request)
        peeked: list[Peeked] | None = None
        if request.query_params.get("peek"):
            peeked = await self._peek(queue)
        host = request.headers.get("host", "127.0.0.1")
        sources = await self._service().dead_letter_sources(queue.ref)
        return self.console.render(
            request, "queue.html", status=status, row=await self._row(queue), queue=queue,
            url=queue_url(host, queue.account_id, queue.name), peeked=peeked,
            attributes=sorted(queue.effective.items()), sources=sources, section="queues",
            title=queue.name, form=form or Form(values={"body": '{\n  "hello": "sendoff"\n}'}),
            pretty=pretty,
        )  # fmt: skip

    async def _peek(self, queue: Queue) -> list[Peeked]:
        """Up to 10 visible messages, read without receiving them (nothing changes)."""
        store = self.console.services.store
        now = self.console.index.clock()
        found = await store.peek_messages(
            queue.id, now=now, sent_after=now - queue.retention_s, limit=PEEK_LIMIT
        )
        return [
            Peeked(id=m.id, sent_at=m.sent_at, receive_count=m.receive_count, body=m.body,
                   group_id=m.group_id, attributes=dict(m.meta.get("attributes", {})),
                   notification=sns_message(m.body))
            for m in found
        ]  # fmt: skip

    async def send(self, request: Request) -> Response:
        queue = await self._queue(request)
        form = await read_form(request)
        body = form.get("body")
        if not body:
            form.error("body", "Enter a message body; SQS does not accept empty messages.")
            return await self.view(request, form, status=400)
        try:
            message_id = await self._service().send_message(
                queue.arn, body, group_id=form.get("group") or None,
                dedup_id=form.get("dedup") or None,
            )  # fmt: skip
        except QueueError as exc:
            message = getattr(exc, "message", str(exc))
            lowered = message.lower()
            field = next((v for k, v in QUEUE_FIELDS.items() if k.lower() in lowered), "body")
            form.error(field, message)
            return await self.view(request, form, status=400)
        return redirect(f"/console/queues/{quote(queue.name, safe='')}",
                        f"Message {message_id} was sent.")  # fmt: skip

    async def purge(self, request: Request) -> Response:
        queue = await self._queue(request)
        count = await self._service().purge(queue.ref)
        return redirect(f"/console/queues/{quote(queue.name, safe='')}",
                        f"Purged {count} message(s) from {queue.name}.")  # fmt: skip
