"""CloudFormation's XML: stacks, events, resources, change sets and template summaries as
the query protocol's responses carry them, with AWS's fields (as recorded against AWS:
lists that are empty are left out of a stack, except Tags and NotificationARNs). Every
text goes through :func:`sendoff.api.query_xml.el`, which escapes it."""

from __future__ import annotations

import time
import uuid

from sendoff.api.query_xml import el
from sendoff.iac import capabilities
from sendoff.iac.cloudformation import shown_parameters
from sendoff.iac.repository import ChangeSet
from sendoff.iac.state import Stack, StackEvent
from sendoff.model.json_types import JSON

XMLNS = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
DELETING = ("DELETE_COMPLETE", "ROLLBACK_")  # statuses with a DeletionTime


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"


def xml_list(name: str, items: list[str]) -> str:
    """``<name><member>item</member>...</name>``, each item escaped."""
    return f"<{name}>{''.join(el('member', i) for i in items)}</{name}>"


def _parameters(values: dict[str, str]) -> str:
    items = "".join(
        f"<member>{el('ParameterKey', k)}{el('ParameterValue', v)}</member>"
        for k, v in values.items()
    )
    return f"<Parameters>{items}</Parameters>"


def _tags(tags: JSON) -> str:
    items = "".join(f"<member>{el('Key', k)}{el('Value', v)}</member>" for k, v in tags.items())
    return f"<Tags>{items}</Tags>"


def _updated(stack: Stack) -> bool:
    """Whether the stack was ever updated (AWS shows LastUpdatedTime then)."""
    return bool(stack.change_set_id) or any(
        e.type == "AWS::CloudFormation::Stack" and e.status.startswith("UPDATE_")
        for e in stack.events
    )


def render_stack(stack: Stack) -> str:
    """A DescribeStacks member, with AWS's fields: lists that are empty are left out
    (Parameters, Capabilities, Outputs), except Tags and NotificationARNs."""
    outputs = "".join(
        "<member>" + el("OutputKey", k) + el("OutputValue", o.value)
        + (el("Description", o.description) if o.description else "")
        + (el("ExportName", o.export) if o.export else "") + "</member>"
        for k, o in stack.outputs.items()
    )  # fmt: skip
    description = stack.template.get("Description")
    status = stack.status.value
    deleted = status == "DELETE_COMPLETE"
    parameters = shown_parameters(stack.parameters, stack.no_echo)
    return (
        "<member>"
        + el("StackId", stack.id)
        + el("StackName", stack.name)
        + (el("ChangeSetId", stack.change_set_id) if stack.change_set_id else "")
        + (el("Description", str(description)) if description else "")
        + (_parameters(parameters) if parameters else "")
        + el("CreationTime", iso(stack.created_at))
        + (el("LastUpdatedTime", iso(stack.updated_at)) if _updated(stack) else "")
        + (el("DeletionTime", iso(stack.updated_at)) if status.startswith(DELETING) else "")
        + "<RollbackConfiguration/>"
        + el("StackStatus", status)
        + (el("StackStatusReason", stack.reason) if stack.reason else "")
        + el("DisableRollback", "false")
        + "<NotificationARNs/>"
        + (xml_list("Capabilities", list(stack.capabilities)) if stack.capabilities else "")
        + (f"<Outputs>{outputs}</Outputs>" if outputs else "")
        + _tags(dict(stack.tags))
        + ("" if deleted else el("EnableTerminationProtection", "false"))
        + "<DriftInformation><StackDriftStatus>NOT_CHECKED</StackDriftStatus></DriftInformation>"
        + "</member>"
    )


def _event_id(stack: Stack, event: StackEvent) -> str:
    key = f"{event.timestamp}|{event.logical_id}|{event.status}|{event.reason}"
    if event.type == "AWS::CloudFormation::Stack":
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{stack.id}|{key}"))
    return f"{event.logical_id}-{uuid.uuid5(uuid.NAMESPACE_URL, f'{stack.id}|{key}')}"


def render_event(stack: Stack, event: StackEvent) -> str:
    return (
        "<member>"
        + el("StackId", stack.id)
        + el("EventId", _event_id(stack, event))
        + el("StackName", stack.name)
        + el("LogicalResourceId", event.logical_id)
        + el("PhysicalResourceId", event.physical_id)
        + el("ResourceType", event.type)
        + el("Timestamp", iso(event.timestamp))
        + el("ResourceStatus", event.status)
        + (el("ResourceStatusReason", event.reason) if event.reason else "")
        + "</member>"
    )


def _resource_time(stack: Stack, logical_id: str) -> float:
    for event in reversed(stack.events):
        if event.logical_id == logical_id and event.type != "AWS::CloudFormation::Stack":
            return event.timestamp
    return stack.updated_at


def render_change(change: JSON) -> str:
    action = change["action"]
    inner = el("Action", action) + el("LogicalResourceId", change["logical_id"])
    if change.get("physical_id"):
        inner += el("PhysicalResourceId", change["physical_id"])
    inner += el("ResourceType", change["type"])
    if action == "Modify":
        inner += el("Replacement", change["replacement"])
        inner += xml_list("Scope", ["Properties"] if change["properties"] else [])
        details = "".join(
            "<member><Target>" + el("Attribute", "Properties") + el("Name", p)
            + el("RequiresRecreation", change["recreation"].get(p, "Never"))
            + "</Target>" + el("Evaluation", "Static")
            + el("ChangeSource", "DirectModification") + "</member>"
            for p in change["properties"]
        )  # fmt: skip
        inner += f"<Details>{details}</Details>"
    else:
        inner += "<Scope/><Details/>"
    return f"<member>{el('Type', 'Resource')}<ResourceChange>{inner}</ResourceChange></member>"


def render_change_set(cs: ChangeSet) -> str:
    return (
        el("ChangeSetName", cs.name)
        + el("ChangeSetId", cs.id)
        + el("StackId", cs.stack_id)
        + el("StackName", cs.stack_name)
        + (el("Description", cs.description) if cs.description else "")
        + (_parameters(cs.shown_parameters) if cs.shown_parameters else "")
        + el("CreationTime", iso(cs.created_at))
        + el("ExecutionStatus", cs.execution_status)
        + el("Status", cs.status)
        + (el("StatusReason", cs.status_reason) if cs.status_reason else "")
        + "<NotificationARNs/>"
        + el("RollbackConfiguration", "")
        + xml_list("Capabilities", list(cs.capabilities))
        + (_tags(cs.tags) if cs.tags else "")
        + f"<Changes>{''.join(render_change(c) for c in cs.changes)}</Changes>"
        + el("IncludeNestedStacks", "false")
    )


def template_parameters(body: JSON, *, summary: bool) -> str:
    items = ""
    for key, spec in (body.get("Parameters") or {}).items():
        if not isinstance(spec, dict):
            continue
        items += "<member>" + el("ParameterKey", key)
        if "Default" in spec:
            items += el("DefaultValue", str(spec["Default"]))
        if summary:
            items += el("ParameterType", str(spec.get("Type", "String")))
        items += el("NoEcho", "true" if str(spec.get("NoEcho", "")).lower() == "true" else "false")
        if "Description" in spec:
            items += el("Description", str(spec["Description"]))
        if summary and isinstance(spec.get("AllowedValues"), list):
            allowed = [el("member", str(v)) for v in spec["AllowedValues"]]
            items += f"<ParameterConstraints><AllowedValues>{''.join(allowed)}</AllowedValues>"
            items += "</ParameterConstraints>"
        items += "</member>"
    return f"<Parameters>{items}</Parameters>"


def capabilities_xml(body: JSON) -> str:
    need = capabilities.required(body, transformed=False, change_set=True)
    types = sorted(
        {
            str(r.get("Type"))
            for r in (body.get("Resources") or {}).values()
            if isinstance(r, dict) and r.get("Type") in capabilities.IAM_TYPES
        }
    )
    reason = f"The following resource(s) require capabilities: [{', '.join(types)}]"
    return xml_list("Capabilities", need) + (el("CapabilitiesReason", reason) if need else "")


def render_resource(stack: Stack, logical_id: str, *, detail: bool, summary: bool) -> str:
    """A resource as DescribeStackResource (``detail``), ListStackResources (``summary``)
    or DescribeStackResources shows it."""
    r = stack.resources[logical_id]
    stamp = iso(_resource_time(stack, logical_id))
    drift = "<DriftInformation><StackResourceDriftStatus>NOT_CHECKED"
    drift += "</StackResourceDriftStatus></DriftInformation>"
    head = "" if summary else el("StackName", stack.name) + el("StackId", stack.id)
    return (
        head + el("LogicalResourceId", r.logical_id) + el("PhysicalResourceId", r.physical_id)
        + el("ResourceType", r.type)
        + el("LastUpdatedTimestamp" if detail or summary else "Timestamp", stamp)
        + el("ResourceStatus", r.status.value)
        + (el("Metadata", "{}") if detail else "") + drift
    )  # fmt: skip


def render_summary(s: Stack) -> str:
    """A ListStacks member."""
    description = s.template.get("Description")
    return (
        "<member>" + el("StackId", s.id) + el("StackName", s.name)
        + (el("TemplateDescription", str(description)) if description else "")
        + el("CreationTime", iso(s.created_at))
        + (el("LastUpdatedTime", iso(s.updated_at)) if _updated(s) else "")
        + (el("DeletionTime", iso(s.updated_at)) if s.status.value.startswith(DELETING) else "")
        + el("StackStatus", s.status.value)
        + (el("StackStatusReason", s.reason) if s.reason else "")
        + "<DriftInformation><StackDriftStatus>NOT_CHECKED</StackDriftStatus>"
        "</DriftInformation></member>"
    )  # fmt: skip
