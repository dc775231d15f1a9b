"""The SNS query-protocol edge: form-encoded requests in, XML responses out.

Requests are ``POST /`` with ``Action=...`` and flattened parameters
(``Attributes.entry.1.key``, ``Tags.member.1.Key``, ``MessageAttributes.entry.1.Value.DataType``);
responses are ``<{Action}Response><{Action}Result>...`` documents as botocore's query parser
reads them. Domain errors become ``<ErrorResponse>`` here, in one place.

Also served: the SubscribeURL/UnsubscribeURL links SNS puts in messages, at AWS's own
address (an unsigned ``GET /?Action=ConfirmSubscription&TopicArn=..&Token=..`` or
``GET /?Action=Unsubscribe&SubscriptionArn=..``; the older ``/_sendoff/sns?...`` form still
works), and a JSON summary for the CLI (``GET /_sendoff/sns/topics``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sendoff.api.context import CALLER_KEY, request_context
from sendoff.api.query_xml import el, query_error, query_response, unknown_action_message
from sendoff.auth.gate import is_sns_link
from sendoff.model.digits import is_digits
from sendoff.model.scope import Scope
from sendoff.services.sns import TopicService
from sendoff.services.sns.errors import AuthorizationError, InvalidParameter, NotFound, SnsError
from sendoff.services.sns.model import Subscription, parse_subscription_arn, parse_topic_arn
from sendoff.services.sns.service import BatchEntry

log = logging.getLogger("sendoff.api.sns")

XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/"


# ---------------------------------------------------------------- request parsing
class Form:
    """The flattened query parameters of one request (or of one nested structure)."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.trace_header: str | None = None  # X-Amzn-Trace-Id: recursion lineage
        self.principal = ""  # the caller's ARN; empty for an unsigned link

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def required(self, name: str) -> str:
        value = self.values.get(name)
        if value is None:
            raise InvalidParameter(f"{name} Reason: no value for required parameter")
        return value

    def flag(self, name: str) -> bool:
        return (self.values.get(name) or "").lower() == "true"

    def sub(self, prefix: str) -> Form:
        cut = len(prefix) + 1
        return Form({k[cut:]: v for k, v in self.values.items() if k.startswith(prefix + ".")})

    def indexed(self, prefix: str) -> list[Form]:
        """``prefix.1.*``, ``prefix.2.*``... in index order, grouped in one pass (a form
        with 50,000 members took minutes when each index scanned every key)."""
        start = prefix + "."
        groups: dict[int, dict[str, str]] = {}
        for key, value in self.values.items():
            if not key.startswith(start):
                continue
            head, dot, rest = key[len(start) :].partition(".")
            if dot and _index(head):
                groups.setdefault(int(head), {})[rest] = value
        return [Form(groups[i]) for i in sorted(groups)]

    def strings(self, prefix: str) -> list[str]:
        nested = self.sub(prefix + ".member")
        keys = sorted((k for k in nested.values if _index(k) and "." not in k), key=int)
        return [nested.values[k] for k in keys]

    def attribute_map(self, prefix: str) -> dict[str, str]:
        return {e.required("key"): e.get("value") or "" for e in self.indexed(f"{prefix}.entry")}

    def message_attributes(self, prefix: str = "MessageAttributes") -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for entry in self.indexed(f"{prefix}.entry"):
            value = entry.sub("Value")
            attr = {
                k: v
                for k, v in value.values.items()
                if k in ("DataType", "StringValue", "BinaryValue")
            }
            out[entry.required("Name")] = attr
        return out

    def tags(self, prefix: str = "Tags") -> dict[str, str]:
        return {m.required("Key"): m.get("Value") or "" for m in self.indexed(f"{prefix}.member")}


def _index(key: str) -> bool:
    """Whether ``key`` starts with a list index: ASCII digits only (``"²".isdigit()`` is
    true, and ``int("²")`` fails)."""
    head = key.split(".", 1)[0]
    return is_digits(head)


# ---------------------------------------------------------------- response rendering
def entries(attributes: dict[str, str]) -> str:
    return "".join(f"<entry>{el('key', k)}{el('value', v)}</entry>" for k, v in attributes.items())


def members(items: list[str]) -> str:
    return "".join(f"<member>{item}</member>" for item in items)


def xml_response(action: str, result: str | None, request_id: str) -> Response:
    return query_response(action, result, request_id, xmlns=XMLNS)


def error_response(error: SnsError, request_id: str) -> Response:
    """The one place SNS domain errors become wire errors."""
    return query_error(
        code=error.code, message=error.message, status=error.status,
        sender_fault=error.sender_fault, request_id=request_id, xmlns=XMLNS,
    )  # fmt: skip


class InvalidAction(SnsError):
    code = "InvalidAction"
    status = 400
    sender_fault = True


# ---------------------------------------------------------------- the API
Handler = Callable[[Form, Scope], Awaitable[str | None]]


class SnsApi:
    def __init__(self, service: TopicService, *, account_id: str, default_region: str) -> None:
        self.service = service
        self.account_id = account_id
        self.default_region = default_region
        self.handlers: dict[str, Handler] = {
            "CreateTopic": self.create_topic,
            "DeleteTopic": self.delete_topic,
            "ListTopics": self.list_topics,
            "GetTopicAttributes": self.get_topic_attributes,
            "SetTopicAttributes": self.set_topic_attributes,
            "Subscribe": self.subscribe,
            "ConfirmSubscription": self.confirm_subscription,
            "Unsubscribe": self.unsubscribe,
            "ListSubscriptions": self.list_subscriptions,
            "ListSubscriptionsByTopic": self.list_subscriptions_by_topic,
            "GetSubscriptionAttributes": self.get_subscription_attributes,
            "SetSubscriptionAttributes": self.set_subscription_attributes,
            "Publish": self.publish,
            "PublishBatch": self.publish_batch,
            "TagResource": self.tag_resource,
            "UntagResource": self.untag_resource,
            "ListTagsForResource": self.list_tags_for_resource,
        }

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(self.handlers)

    def routes(self) -> list[Route]:
        return [
            Route("/_sendoff/sns", self.link, methods=["GET"]),
            Route("/_sendoff/sns/topics", self.summary, methods=["GET"]),
        ]

    async def endpoint(self, request: Request) -> Response:
        if (
            request.method == "GET"
            and "authorization" not in request.headers
            and is_sns_link(request.scope.get("query_string", b""))
        ):
            return await self.link(request)
        ctx = request_context(
            request, account_id=self.account_id, default_region=self.default_region
        )
        body = (await request.body()).decode(errors="replace")
        values = dict(request.query_params) if request.method == "GET" else {}
        values.update(parse_qsl(body, keep_blank_values=True))
        form = Form(values)
        form.trace_header = request.headers.get("x-amzn-trace-id")
        action = form.get("Action") or request.query_params.get("Action") or ""
        scope = Scope(account_id=ctx.account_id, region=ctx.region)
        caller = request.scope.get(CALLER_KEY)
        form.principal = caller.arn if caller is not None else f"arn:aws:iam::{ctx.account_id}:root"
        return await self._dispatch(action, form, scope, ctx.request_id)

    async def link(self, request: Request) -> Response:
        """A SubscribeURL / UnsubscribeURL link: unsigned, as on AWS, so the secret is in
        the link (the 128-hex-digit token, or the subscription id in the ARN).

        * ConfirmSubscription: ``AuthenticateOnUnsubscribe`` is ignored (AWS honours it
          only on a signed request).
        * Unsubscribe: refused for a subscription whose ``ConfirmationWasAuthenticated``
          is true (sqs and lambda ones, and any confirmed with AuthenticateOnUnsubscribe):
          AWS then requires a signed Unsubscribe from the topic or subscription owner. An
          HTTP/S endpoint unsubscribed this way gets AWS's final UnsubscribeConfirmation.

        The browser guard runs first, so a page on another site cannot follow either link
        (``Sec-Fetch-Site: cross-site`` or a foreign ``Origin`` is refused with 403)."""
        ctx = request_context(
            request, account_id=self.account_id, default_region=self.default_region
        )
        form = Form(dict(request.query_params))
        action = form.get("Action") or ""
        if action not in ("ConfirmSubscription", "Unsubscribe"):
            message = unknown_action_message(action, form.get("Version"))
            return error_response(InvalidAction(message), ctx.request_id)
        try:
            if action == "ConfirmSubscription":
                form.values.pop("AuthenticateOnUnsubscribe", None)
                try:
                    topic_scope = parse_topic_arn(form.get("TopicArn") or "").scope
                except SnsError:
                    raise InvalidParameter("Topic") from None
            elif action == "Unsubscribe":
                arn = form.get("SubscriptionArn") or ""
                topic_scope = parse_subscription_arn(arn).topic.scope
            else:
                raise InvalidAction(f"Could not find operation {action or '(none)'}")
            if topic_scope.account_id != self.account_id:
                raise NotFound("Topic does not exist")
            if action == "Unsubscribe":
                sub = await self.service.subscriptions.get(topic_scope, arn)
                if sub.confirmation_authenticated:
                    raise AuthorizationError(
                        "This subscription requires AWS authentication to unsubscribe: "
                        "call Unsubscribe with a signed request"
                    )
                await self.service.subscriptions.unsubscribe(topic_scope, arn, by_link=True)
                return xml_response(action, None, ctx.request_id)
        except SnsError as exc:
            return error_response(exc, ctx.request_id)
        except Exception:
            log.exception("unhandled error in the SNS %s link", action)
            return error_response(SnsError("Internal Error"), ctx.request_id)
        return await self._dispatch(action, form, topic_scope, ctx.request_id)

    async def summary(self, request: Request) -> Response:
        region = request.query_params.get("region") or None
        account = request_context(
            request, account_id=self.account_id, default_region=self.default_region
        ).account_id  # the caller's, under --auth sigv4
        return JSONResponse({"topics": await self.service.summary(account, region)})

    async def _dispatch(self, action: str, form: Form, scope: Scope, request_id: str) -> Response:
        handler = self.handlers.get(action)
        try:
            if handler is None:
                raise InvalidAction(unknown_action_message(action, form.get("Version")))
            result = await handler(form, scope)
        except SnsError as exc:
            return error_response(exc, request_id)
        except Exception:
            log.exception("unhandled error in SNS %s", action)
            return error_response(SnsError("Internal Error"), request_id)
        return xml_response(action, result, request_id)

    # ---- topics ----
    async def create_topic(self, form: Form, scope: Scope) -> str:
        topic = await self.service.topics.create(
            scope, form.required("Name"), form.attribute_map("Attributes"), form.tags()
        )
        return el("TopicArn", topic.name.arn)

    async def delete_topic(self, form: Form, scope: Scope) -> None:
        await self.service.topics.delete(scope, form.required("TopicArn"))

    async def list_topics(self, form: Form, scope: Scope) -> str:
        page = await self.service.topics.list_page(scope, form.get("NextToken"))
        items = [el("TopicArn", t.name.arn) for t in page.items]
        return f"<Topics>{members(items)}</Topics>{el('NextToken', page.next_token)}"

    async def get_topic_attributes(self, form: Form, scope: Scope) -> str:
        attrs = await self.service.topics.attributes(scope, form.required("TopicArn"))
        return f"<Attributes>{entries(attrs)}</Attributes>"

    async def set_topic_attributes(self, form: Form, scope: Scope) -> None:
        await self.service.topics.set_attribute(
            scope,
            form.required("TopicArn"),
            form.required("AttributeName"),
            form.get("AttributeValue") or "",
        )

    # ---- subscriptions ----
    async def subscribe(self, form: Form, scope: Scope) -> str:
        arn = await self.service.subscriptions.subscribe(
            scope,
            form.required("TopicArn"),
            form.required("Protocol"),
            form.get("Endpoint"),
            form.attribute_map("Attributes"),
            return_arn=form.flag("ReturnSubscriptionArn"),
            principal=form.principal,
        )
        return el("SubscriptionArn", arn)

    async def confirm_subscription(self, form: Form, scope: Scope) -> str:
        return await self._confirm(
            form, scope, authenticated=form.flag("AuthenticateOnUnsubscribe")
        )

    async def _confirm(self, form: Form, scope: Scope, *, authenticated: bool) -> str:
        arn = await self.service.subscriptions.confirm(
            scope, form.required("TopicArn"), form.required("Token"), authenticated=authenticated
        )
        return el("SubscriptionArn", arn)

    async def unsubscribe(self, form: Form, scope: Scope) -> None:
        await self.service.subscriptions.unsubscribe(scope, form.required("SubscriptionArn"))

    async def list_subscriptions(self, form: Form, scope: Scope) -> str:
        page = await self.service.subscriptions.list_page(scope, form.get("NextToken"))
        return _subscription_page(page.items, page.next_token)

    async def list_subscriptions_by_topic(self, form: Form, scope: Scope) -> str:
        page = await self.service.subscriptions.list_by_topic(
            scope, form.required("TopicArn"), form.get("NextToken")
        )
        return _subscription_page(page.items, page.next_token)

    async def get_subscription_attributes(self, form: Form, scope: Scope) -> str:
        attrs = await self.service.subscriptions.attributes(scope, form.required("SubscriptionArn"))
        return f"<Attributes>{entries(attrs)}</Attributes>"

    async def set_subscription_attributes(self, form: Form, scope: Scope) -> None:
        await self.service.subscriptions.set_attribute(
            scope,
            form.required("SubscriptionArn"),
            form.required("AttributeName"),
            form.get("AttributeValue") or "",
        )

    # ---- publishing ----
    async def publish(self, form: Form, scope: Scope) -> str:
        if form.get("PhoneNumber") is not None:
            raise InvalidParameter("PhoneNumber Reason: SMS delivery is not supported by sendoff")
        arn = form.get("TopicArn") or form.get("TargetArn")
        if not arn:
            raise InvalidParameter("TopicArn or TargetArn Reason: no value for required parameter")
        result = await self.service.publish(
            arn,
            form.required("Message"),
            subject=form.get("Subject"),
            attributes=form.message_attributes(),
            structure=form.get("MessageStructure"),
            group_id=form.get("MessageGroupId"),
            dedup_id=form.get("MessageDeduplicationId"),
            scope=scope,
            trace_header=form.trace_header,
        )
        return el("MessageId", result.message_id) + el("SequenceNumber", result.sequence_number)

    async def publish_batch(self, form: Form, scope: Scope) -> str:
        entries_in = [
            BatchEntry(
                id=e.get("Id") or "",
                message=e.get("Message") or "",
                subject=e.get("Subject"),
                attributes=e.message_attributes(),
                structure=e.get("MessageStructure"),
                group_id=e.get("MessageGroupId"),
                dedup_id=e.get("MessageDeduplicationId"),
            )
            for e in form.indexed("PublishBatchRequestEntries.member")
        ]
        result = await self.service.publish_batch(scope, form.required("TopicArn"), entries_in)
        ok = [
            el("Id", entry_id)
            + el("MessageId", r.message_id)
            + el("SequenceNumber", r.sequence_number)
            for entry_id, r in result.successful
        ]
        failed = [
            el("Id", f.id)
            + el("Code", f.code)
            + el("Message", f.message)
            + el("SenderFault", "true" if f.sender_fault else "false")
            for f in result.failed
        ]
        return f"<Successful>{members(ok)}</Successful><Failed>{members(failed)}</Failed>"

    # ---- tags ----
    async def tag_resource(self, form: Form, scope: Scope) -> str:
        await self.service.topics.tag(scope, form.required("ResourceArn"), form.tags())
        return ""

    async def untag_resource(self, form: Form, scope: Scope) -> str:
        await self.service.topics.untag(
            scope, form.required("ResourceArn"), form.strings("TagKeys")
        )
        return ""

    async def list_tags_for_resource(self, form: Form, scope: Scope) -> str:
        tags = await self.service.topics.tags(scope, form.required("ResourceArn"))
        items = [el("Key", k) + el("Value", v) for k, v in tags.items()]
        return f"<Tags>{members(items)}</Tags>"


def _subscription_page(subs: list[Subscription], next_token: str | None) -> str:
    items = [
        el("SubscriptionArn", s.listed_arn)
        + el("Owner", s.owner)
        + el("Protocol", s.protocol.value)
        + el("Endpoint", s.endpoint)
        + el("TopicArn", s.topic_arn)
        for s in subs
    ]
    return f"<Subscriptions>{members(items)}</Subscriptions>{el('NextToken', next_token)}"
