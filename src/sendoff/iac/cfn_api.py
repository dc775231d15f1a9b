"""The CloudFormation query-protocol edge: ``Action=...`` forms in, XML out.

Clients sign with service name ``cloudformation`` and POST ``Action=CreateStack&...`` to
``/`` (api.protocols.ProtocolRouter sends them here). Each action parses its form into the
typed requests of :mod:`sendoff.iac.cloudformation`, calls it and renders the result as
``<{Action}Response xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">``;
:class:`~sendoff.iac.cfn_errors.CfnError` becomes ``<ErrorResponse>`` here, in one place.
The caller's credentials (to sign the deployment's own calls) come from the verified
request: under ``--auth sigv4`` the caller's key and its secret, else placeholders.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from sendoff.api.context import CALLER_KEY, request_context
from sendoff.api.query_xml import el, query_error, query_response, unknown_action_message
from sendoff.auth.gate import Authenticator
from sendoff.iac import capabilities
from sendoff.iac.cfn_errors import CfnError, ValidationError
from sendoff.iac.cfn_xml import (
    XMLNS,
    capabilities_xml,
    iso,
    render_change_set,
    render_event,
    render_resource,
    render_stack,
    render_summary,
    template_parameters,
    xml_list,
)
from sendoff.iac.change_sets import ChangeSets
from sendoff.iac.cloudformation import (
    Caller,
    CloudFormation,
    StackRequest,
    TemplateInput,
)
from sendoff.iac.remote import Keys
from sendoff.model.digits import is_digits
from sendoff.model.json_types import JSON

log = logging.getLogger("sendoff.iac.cfn_api")

MAX_FORM = 2 * 1024 * 1024  # a 1 MB template, URL-encoded, with room for the rest

Values = dict[str, str]
Handler = Callable[[Caller, Values], Awaitable[str | None]]


def members(values: Values, prefix: str) -> list[Values]:
    """``prefix.member.N.Field`` groups, in index order."""
    start = f"{prefix}.member."
    groups: dict[int, Values] = {}
    for key, value in values.items():
        if key.startswith(start):
            head, _, rest = key[len(start) :].partition(".")
            if is_digits(head):
                groups.setdefault(int(head), {})[rest] = value
    return [groups[i] for i in sorted(groups)]


def strings(values: Values, prefix: str) -> list[str]:
    return [g[""] for g in members(values, prefix) if "" in g]


def _flag(value: str | None) -> bool:
    return (value or "").lower() == "true"


def _request(values: Values) -> StackRequest:
    name = values.get("StackName") or ""
    if not name:
        raise ValidationError(
            "1 validation error detected: Value null at 'stackName' failed to satisfy "
            "constraint: Member must not be null"
        )
    params: dict[str, str] = {}
    previous: list[str] = []
    for p in members(values, "Parameters"):
        key = p.get("ParameterKey", "")
        if _flag(p.get("UsePreviousValue")):
            previous.append(key)
        elif "ParameterValue" in p:
            params[key] = p["ParameterValue"]
    given = strings(values, "Capabilities")
    unknown = [c for c in given if c not in capabilities.KNOWN]
    if unknown:
        raise ValidationError(f"Capabilities {unknown} are not supported")
    return StackRequest(
        stack_name=name,
        template=TemplateInput(
            body=values.get("TemplateBody"),
            url=values.get("TemplateURL"),
            use_previous=_flag(values.get("UsePreviousTemplate")),
        ),
        parameters=params,
        use_previous=tuple(previous),
        capabilities=tuple(given),
        tags={t.get("Key", ""): t.get("Value", "") for t in members(values, "Tags")},
        description=values.get("Description", ""),
    )


class CloudFormationApi:
    def __init__(
        self,
        service: CloudFormation,
        auth: Authenticator,
        *,
        account_id: str,
        default_region: str,
    ) -> None:
        self.service = service
        self.change_sets = ChangeSets(service)
        self.auth = auth
        self.account_id = account_id
        self.default_region = default_region
        self.handlers: dict[str, Handler] = {
            "CreateStack": self.create_stack,
            "UpdateStack": self.update_stack,
            "DeleteStack": self.delete_stack,
            "DescribeStacks": self.describe_stacks,
            "ListStacks": self.list_stacks,
            "DescribeStackEvents": self.describe_stack_events,
            "DescribeStackResource": self.describe_stack_resource,
            "DescribeStackResources": self.describe_stack_resources,
            "ListStackResources": self.list_stack_resources,
            "GetTemplate": self.get_template,
            "GetTemplateSummary": self.get_template_summary,
            "ValidateTemplate": self.validate_template,
            "CreateChangeSet": self.create_change_set,
            "DescribeChangeSet": self.describe_change_set,
            "ExecuteChangeSet": self.execute_change_set,
            "DeleteChangeSet": self.delete_change_set,
            "ListChangeSets": self.list_change_sets,
            "ListExports": self.list_exports,
            "ListImports": self.list_imports,
        }
        self.actions = frozenset(self.handlers)

    async def _caller(self, request: Request) -> Caller:
        ctx = request_context(
            request, account_id=self.account_id, default_region=self.default_region
        )
        verified = request.scope.get(CALLER_KEY)
        keys = Keys("sendoff", "sendoff")  # --auth none: any signature passes
        if verified is not None:
            token = request.headers.get("x-amz-security-token")
            _, secret = await self.auth.identify(verified.access_key_id, token)
            keys = Keys(verified.access_key_id, secret, token)
        return Caller(account_id=ctx.account_id, region=ctx.region, keys=keys)

    async def endpoint(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        raw = await request.body()
        if len(raw) > MAX_FORM:
            return self._error(ValidationError("Request body is too large"), request_id)
        values = dict(request.query_params) if request.method == "GET" else {}
        values.update(parse_qsl(raw.decode(errors="replace"), keep_blank_values=True))
        action = values.get("Action", "")
        handler = self.handlers.get(action)
        if handler is None:
            message = unknown_action_message(action, values.get("Version"))
            return query_error(code="InvalidAction", message=message, status=400,
                               request_id=request_id, xmlns=XMLNS)  # fmt: skip
        try:
            caller = await self._caller(request)
            result = await handler(caller, values)
        except CfnError as exc:
            return self._error(exc, request_id)
        except Exception:  # a bug: AWS's shape, details in the log
            log.exception("CloudFormation %s failed", action)
            return query_error(code="InternalFailure", message="internal error", status=500,
                               request_id=request_id, sender_fault=False, xmlns=XMLNS)  # fmt: skip
        return query_response(action, result, request_id, xmlns=XMLNS)

    @staticmethod
    def _error(exc: CfnError, request_id: str) -> Response:
        """The one place CloudFormation errors become wire errors."""
        return query_error(code=exc.code, message=exc.message, status=exc.status,
                           sender_fault=exc.sender_fault, request_id=request_id,
                           xmlns=XMLNS)  # fmt: skip

    # ---- stacks ----
    async def create_stack(self, caller: Caller, values: Values) -> str:
        stack_id = await self.service.create_stack(caller, _request(values))
        return el("StackId", stack_id)

    async def update_stack(self, caller: Caller, values: Values) -> str:
        stack_id = await self.service.update_stack(caller, _request(values))
        return el("StackId", stack_id)

    async def delete_stack(self, caller: Caller, values: Values) -> None:
        await self.service.delete_stack(caller, _required(values, "StackName"))
        return None

    async def describe_stacks(self, caller: Caller, values: Values) -> str:
        stacks = await self.service.describe_stacks(caller, values.get("StackName"))
        return f"<Stacks>{''.join(render_stack(s) for s in stacks)}</Stacks>"

    async def list_stacks(self, caller: Caller, values: Values) -> str:
        stacks = await self.service.list_stacks(caller, strings(values, "StackStatusFilter"))
        items = "".join(render_summary(s) for s in stacks)
        return f"<StackSummaries>{items}</StackSummaries>"

    async def describe_stack_events(self, caller: Caller, values: Values) -> str:
        name = _required(values, "StackName")
        try:
            stack = await self.service.stack(caller, name)
        except ValidationError:
            raise ValidationError(f"Stack [{name}] does not exist") from None
        items = "".join(render_event(stack, e) for e in reversed(stack.events))
        return f"<StackEvents>{items}</StackEvents>"

    async def describe_stack_resource(self, caller: Caller, values: Values) -> str:
        stack = await self.service.stack(caller, _required(values, "StackName"))
        logical_id = _required(values, "LogicalResourceId")
        if logical_id not in stack.resources:
            raise ValidationError(f"Resource {logical_id} does not exist for stack {stack.name}")
        inner = render_resource(stack, logical_id, detail=True, summary=False)
        return f"<StackResourceDetail>{inner}</StackResourceDetail>"

    async def describe_stack_resources(self, caller: Caller, values: Values) -> str:
        name = values.get("StackName")
        physical = values.get("PhysicalResourceId")
        if name:
            stacks = [await self.service.stack(caller, name)]
        elif physical:
            stacks = [
                s for s in await self.service.describe_stacks(caller, None)
                if any(r.physical_id == physical for r in s.resources.values())
            ]  # fmt: skip
            if not stacks:
                raise ValidationError(f"Stack for {physical} does not exist")
        else:
            raise ValidationError("Either StackName or PhysicalResourceId must be specified.")
        wanted = values.get("LogicalResourceId")
        items = "".join(
            f"<member>{render_resource(s, lid, detail=False, summary=False)}</member>"
            for s in stacks
            for lid, r in s.resources.items()
            if (wanted is None or lid == wanted) and (physical is None or r.physical_id == physical)
        )
        return f"<StackResources>{items}</StackResources>"

    async def list_stack_resources(self, caller: Caller, values: Values) -> str:
        stack = await self.service.stack(caller, _required(values, "StackName"))
        items = "".join(
            f"<member>{render_resource(stack, lid, detail=False, summary=True)}</member>"
            for lid in stack.resources
        )
        return f"<StackResourceSummaries>{items}</StackResourceSummaries>"

    async def get_template(self, caller: Caller, values: Values) -> str:
        if values.get("ChangeSetName"):
            cs = await self.change_sets.get(
                caller, values["ChangeSetName"], values.get("StackName")
            )
            text, processed = cs.template_text, self.service.parse(cs.template_text)[1]
        else:
            stack = await self.service.stack(caller, _required(values, "StackName"))
            text = stack.template_text or json.dumps(stack.template, indent=2)
            processed = stack.processed or stack.template
        stage = values.get("TemplateStage", "Original")
        if stage == "Processed":
            text = json.dumps(processed, indent=2)
        return el("TemplateBody", text) + xml_list("StagesAvailable", ["Original", "Processed"])

    async def _template(self, caller: Caller, values: Values) -> JSON:
        if values.get("StackName") and not values.get("TemplateBody"):
            stack = await self.service.stack(caller, values["StackName"])
            return stack.template
        given = TemplateInput(body=values.get("TemplateBody"), url=values.get("TemplateURL"))
        text = await self.service.template_text(caller, given)
        template, _ = self.service.parse(text)
        return template.body

    async def get_template_summary(self, caller: Caller, values: Values) -> str:
        body = await self._template(caller, values)
        types = sorted(
            {
                str(r.get("Type"))
                for r in (body.get("Resources") or {}).values()
                if isinstance(r, dict)
            }
        )
        transforms = body.get("Transform")
        declared = [transforms] if isinstance(transforms, str) else list(transforms or [])
        return (
            template_parameters(body, summary=True)
            + (el("Description", str(body["Description"])) if "Description" in body else "")
            + capabilities_xml(body)
            + xml_list("ResourceTypes", types)
            + el("Version", str(body.get("AWSTemplateFormatVersion", "2010-09-09")))
            + xml_list("DeclaredTransforms", [str(t) for t in declared])
        )

    async def validate_template(self, caller: Caller, values: Values) -> str:
        given = TemplateInput(body=values.get("TemplateBody"), url=values.get("TemplateURL"))
        text = await self.service.template_text(caller, given)
        template, _ = self.service.parse(text)
        body = template.body
        transforms = body.get("Transform")
        declared = [transforms] if isinstance(transforms, str) else list(transforms or [])
        return (
            template_parameters(body, summary=False)
            + (el("Description", str(body["Description"])) if "Description" in body else "")
            + capabilities_xml(body)
            + xml_list("DeclaredTransforms", [str(t) for t in declared])
        )

    async def list_exports(self, caller: Caller, values: Values) -> str:
        exports = await self.service.exports(caller)
        items = "".join(
            "<member>" + el("ExportingStackId", stack_id) + el("Name", name)
            + el("Value", value) + "</member>"
            for name, (value, stack_id) in sorted(exports.items())
        )  # fmt: skip
        return f"<Exports>{items}</Exports>"

    async def list_imports(self, caller: Caller, values: Values) -> str:
        export = _required(values, "ExportName")
        importers = await self.service.importers(caller, export)
        if not importers:
            raise ValidationError(f"Export '{export}' is not imported by any stack.")
        return xml_list("Imports", importers)

    # ---- change sets ----
    async def create_change_set(self, caller: Caller, values: Values) -> str:
        cs = await self.change_sets.create(
            caller,
            _request(values),
            name=_required(values, "ChangeSetName"),
            kind=values.get("ChangeSetType", "UPDATE"),
        )
        return el("Id", cs.id) + el("StackId", cs.stack_id)

    async def describe_change_set(self, caller: Caller, values: Values) -> str:
        cs = await self.change_sets.get(
            caller, _required(values, "ChangeSetName"), values.get("StackName")
        )
        return render_change_set(cs)

    async def execute_change_set(self, caller: Caller, values: Values) -> str:
        await self.change_sets.execute(
            caller, _required(values, "ChangeSetName"), values.get("StackName")
        )
        return ""

    async def delete_change_set(self, caller: Caller, values: Values) -> str:
        await self.change_sets.delete(
            caller, _required(values, "ChangeSetName"), values.get("StackName")
        )
        return ""

    async def list_change_sets(self, caller: Caller, values: Values) -> str:
        items = "".join(
            "<member>" + el("StackId", cs.stack_id) + el("StackName", cs.stack_name)
            + el("ChangeSetId", cs.id) + el("ChangeSetName", cs.name)
            + el("ExecutionStatus", cs.execution_status) + el("Status", cs.status)
            + (el("StatusReason", cs.status_reason) if cs.status_reason else "")
            + el("CreationTime", iso(cs.created_at))
            + (el("Description", cs.description) if cs.description else "")
            + "</member>"
            for cs in await self.change_sets.list(caller, _required(values, "StackName"))
        )  # fmt: skip
        return f"<Summaries>{items}</Summaries>"


def _required(values: Values, name: str) -> str:
    value = values.get(name)
    if not value:
        field = name[0].lower() + name[1:]
        raise ValidationError(
            f"1 validation error detected: Value null at '{field}' failed to satisfy "
            "constraint: Member must not be null"
        )
    return value
