"""The IAM query-protocol edge: form-encoded requests in, XML responses out.

IAM clients sign with service name ``iam`` and POST ``Action=...&Version=2010-05-08`` to
``/``; the :class:`~sendoff.api.protocols.ProtocolRouter` sends them here. Responses are
``<{Action}Response><{Action}Result>...`` as botocore's query parser reads them; policy
documents go out URL-encoded, as AWS sends them (botocore decodes them). IAM is per account
and has no region: the account comes from the request context. Domain errors become
``<ErrorResponse>`` here, in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, quote
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response

from sendoff.api.context import request_context
from sendoff.api.query_xml import el, query_error, query_response, unknown_action_message
from sendoff.api.sns import Form
from sendoff.services.iam.errors import IamError, ValidationError
from sendoff.services.iam.managed import aws_managed
from sendoff.services.iam.model import Role
from sendoff.services.iam.service import RoleService

log = logging.getLogger("sendoff.api.iam")

XMLNS = "https://iam.amazonaws.com/doc/2010-05-08/"


def _xml(action: str, result: str | None, request_id: str) -> Response:
    return query_response(action, result, request_id, xmlns=XMLNS)


def error_response(error: IamError, request_id: str) -> Response:
    """The one place IAM domain errors become wire errors."""
    return query_error(
        code=error.code, message=error.message, status=error.status,
        sender_fault=error.sender_fault, request_id=request_id, xmlns=XMLNS,
    )  # fmt: skip


class InvalidAction(IamError):
    code = "InvalidAction"
    status = 400
    sender_fault = True


def _document(text: str) -> str:
    return quote(text, safe="")


def _tags(tags: tuple[tuple[str, str], ...]) -> str:
    members = "".join(f"<member>{el('Key', k)}{el('Value', v)}</member>" for k, v in tags)
    return f"<Tags>{members}</Tags>"


def role_xml(role: Role, *, full: bool = False, listed: bool = False) -> str:
    """A Role as CreateRole (default), GetRole (``full``) or ListRoles (``listed``) show it."""
    out = (
        el("Path", role.path) + el("RoleName", role.name) + el("RoleId", role.role_id)
        + el("Arn", role.arn) + el("CreateDate", role.create_date)
        + el("AssumeRolePolicyDocument", _document(role.trust_policy))
        + el("Description", role.description)
    )  # fmt: skip
    if full or listed:
        out += el("MaxSessionDuration", str(role.max_session_duration))
    if role.tags and not listed:
        out += _tags(role.tags)
    if full:
        out += "<RoleLastUsed/>"
    return f"<Role>{out}</Role>" if not listed else f"<member>{out}</member>"


Handler = Callable[[Form, str], Awaitable[str | None]]


class IamApi:
    def __init__(self, roles: RoleService, *, account_id: str, default_region: str) -> None:
        self.roles = roles
        self.account_id = account_id
        self.default_region = default_region
        self.handlers: dict[str, Handler] = {
            "CreateRole": self.create_role,
            "GetRole": self.get_role,
            "DeleteRole": self.delete_role,
            "ListRoles": self.list_roles,
            "PutRolePolicy": self.put_role_policy,
            "GetRolePolicy": self.get_role_policy,
            "DeleteRolePolicy": self.delete_role_policy,
            "AttachRolePolicy": self.attach_role_policy,
            "DetachRolePolicy": self.detach_role_policy,
            "ListAttachedRolePolicies": self.list_attached_role_policies,
            "ListRolePolicies": self.list_role_policies,
        }

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(self.handlers)

    async def endpoint(self, request: Request) -> Response:
        ctx = request_context(
            request, account_id=self.account_id, default_region=self.default_region
        )
        values = dict(request.query_params)
        body = (await request.body()).decode(errors="replace")
        values.update(parse_qsl(body, keep_blank_values=True))
        form = Form(values)
        action = form.get("Action") or ""
        handler = self.handlers.get(action)
        try:
            if handler is None:
                raise InvalidAction(unknown_action_message(action, form.get("Version")))
            result = await handler(form, ctx.account_id)
        except IamError as exc:
            return error_response(exc, ctx.request_id)
        return _xml(action, result, ctx.request_id)

    # ---- roles ----
    async def create_role(self, form: Form, account: str) -> str:
        duration = form.get("MaxSessionDuration")
        role = await self.roles.create_role(
            account,
            name=_required(form, "RoleName"),
            trust_policy=_required(form, "AssumeRolePolicyDocument"),
            path=form.get("Path"),
            description=form.get("Description"),
            max_session_duration=_int(duration, "maxSessionDuration") if duration else None,
            tags=[(m.required("Key"), m.get("Value") or "") for m in form.indexed("Tags.member")],
        )
        return role_xml(role)

    async def get_role(self, form: Form, account: str) -> str:
        return role_xml(await self.roles.get_role(account, _required(form, "RoleName")), full=True)

    async def delete_role(self, form: Form, account: str) -> None:
        await self.roles.delete_role(account, _required(form, "RoleName"))

    async def list_roles(self, form: Form, account: str) -> str:
        roles, marker = await self.roles.list_roles(
            account,
            path_prefix=form.get("PathPrefix") or "/",
            marker=form.get("Marker"),
            limit=_max_items(form),
        )
        members = "".join(role_xml(r, listed=True) for r in roles)
        return f"<Roles>{members}</Roles>" + _truncation(marker)

    # ---- inline policies ----
    async def put_role_policy(self, form: Form, account: str) -> None:
        await self.roles.put_role_policy(
            account,
            _required(form, "RoleName"),
            _required(form, "PolicyName"),
            _required(form, "PolicyDocument"),
        )

    async def get_role_policy(self, form: Form, account: str) -> str:
        name = _required(form, "PolicyName")
        role, text = await self.roles.get_role_policy(account, _required(form, "RoleName"), name)
        return (
            el("RoleName", role.name) + el("PolicyName", name)
            + el("PolicyDocument", _document(text))
        )  # fmt: skip

    async def delete_role_policy(self, form: Form, account: str) -> None:
        await self.roles.delete_role_policy(
            account, _required(form, "RoleName"), _required(form, "PolicyName")
        )

    async def list_role_policies(self, form: Form, account: str) -> str:
        role = await self.roles.get_role(account, _required(form, "RoleName"))
        names = sorted(role.inline)
        page, marker = _page(names, form)
        return (
            "<PolicyNames>" + "".join(f"<member>{escape(n)}</member>" for n in page)
            + "</PolicyNames>" + _truncation(marker)
        )  # fmt: skip

    # ---- managed policies ----
    async def attach_role_policy(self, form: Form, account: str) -> None:
        await self.roles.attach_role_policy(
            account, _required(form, "RoleName"), _required(form, "PolicyArn")
        )

    async def detach_role_policy(self, form: Form, account: str) -> None:
        await self.roles.detach_role_policy(
            account, _required(form, "RoleName"), _required(form, "PolicyArn")
        )

    async def list_attached_role_policies(self, form: Form, account: str) -> str:
        role = await self.roles.get_role(account, _required(form, "RoleName"))
        prefix = form.get("PathPrefix") or "/"
        arns = [a for a in role.attached if _policy_path(a).startswith(prefix)]
        page, marker = _page(arns, form)
        members = "".join(
            f"<member>{el('PolicyName', a.rsplit('/', 1)[-1])}{el('PolicyArn', a)}</member>"
            for a in page
        )
        return f"<AttachedPolicies>{members}</AttachedPolicies>" + _truncation(marker)


def _policy_path(arn: str) -> str:
    managed = aws_managed(arn)
    return managed.path if managed is not None else "/"


def _required(form: Form, name: str) -> str:
    value = form.get(name)
    if value is None:
        member = name[0].lower() + name[1:]
        raise ValidationError(
            f"1 validation error detected: Value null at '{member}' failed to satisfy"
            " constraint: Member must not be null"
        )
    return value


def _int(value: str, member: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValidationError(f"Invalid value '{value}' for {member}") from None


def _max_items(form: Form) -> int:
    raw = form.get("MaxItems")
    if raw is None:
        return 100
    value = _int(raw, "maxItems")
    if not 1 <= value <= 1000:
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at 'maxItems' failed to satisfy"
            " constraint: Member must have value "
            + ("greater than or equal to 1" if value < 1 else "less than or equal to 1000")
        )
    return value


def _page(items: list[str], form: Form) -> tuple[list[str], str | None]:
    marker = form.get("Marker")
    start = items.index(marker) + 1 if marker in items else 0
    limit = _max_items(form)
    page = items[start : start + limit]
    more = start + limit < len(items)
    return page, (page[-1] if more and page else None)


def _truncation(marker: str | None) -> str:
    if marker is None:
        return el("IsTruncated", "false")
    return el("IsTruncated", "true") + el("Marker", marker)
