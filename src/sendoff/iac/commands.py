"""The commands behind ``sendoff deploy`` and ``sendoff stacks`` (parsers: sendoff.cli.stacks).

Each reads what it needs, calls the planner and the engine, and renders the result:
progress and messages on stderr, the result on stdout (a table, or JSON). Returns an exit
code from :mod:`sendoff.iac.exit_codes`.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from sendoff.iac.engine import Engine
from sendoff.iac.errors import IacError, TemplateError, UnsupportedError
from sendoff.iac.exit_codes import ERROR, FAILED, INVALID, NOT_FOUND, OK, ROLLBACK_FAILED
from sendoff.iac.load import load_template
from sendoff.iac.package import CodePackager
from sendoff.iac.parameters import parse_overrides
from sendoff.iac.plan import Action, Plan, prepare
from sendoff.iac.progress import Progress, changes_table, outputs_table, status_style
from sendoff.iac.remote import BotoCloud, HttpStackStore
from sendoff.iac.state import EMPTY_STATES, Stack, StackStatus, new_stack_id


def run(endpoint_url: str, args: argparse.Namespace) -> int:
    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False)
    for console in (out, err):
        if not console.is_terminal:  # pipes and CI: no wrapping of long ids and URLs
            console.width = 1000
    from sendoff.cli.signing import client_auth

    with httpx.Client(base_url=endpoint_url.rstrip("/"), timeout=120, auth=client_auth()) as http:
        store = HttpStackStore(http)
        try:
            if args.command == "deploy":
                return _deploy(http, store, args, out, err)
            if args.action == "list":
                return _list(store, args, out)
            if args.action == "describe":
                return _describe(store, args, out, err)
            return _delete(http, store, args, out, err)
        except (TemplateError, UnsupportedError) as exc:
            err.print(f"sendoff: {exc}", markup=False)
            return INVALID
        except IacError as exc:
            err.print(f"sendoff: {exc}", markup=False)
            return ERROR


def default_stack_name(path: Path) -> str:
    stem = path.name.split(".", 1)[0]
    if stem.lower() in ("template", "stack", "main", "") and path.resolve().parent.name:
        stem = path.resolve().parent.name
    name = re.sub(r"[^-a-zA-Z0-9]+", "-", stem).strip("-")
    return (name if name[:1].isalpha() else f"stack-{name}")[:128]


def _deploy(
    http: httpx.Client,
    store: HttpStackStore,
    args: argparse.Namespace,
    out: Console,
    err: Console,
) -> int:
    path = Path(args.template)
    name = args.stack_name or default_stack_name(path)
    packager = CodePackager(path.parent)
    template, processed = load_template(path, packager)
    overrides = parse_overrides(args.parameter_overrides)
    info = store.info(args.region)
    previous = store.get(info.region, name)
    # the new stack's id, so AWS::StackId is the same in the plan and in the stack
    stack_id = ""
    if previous is not None and previous.status is StackStatus.REVIEW_IN_PROGRESS:
        stack_id = previous.id  # made by a CREATE change set: it keeps its id
    elif previous is None or previous.status in EMPTY_STATES:
        stack_id = new_stack_id(info.account_id, info.region, name)
    plan = prepare(
        template,
        processed,
        stack_name=name,
        region=info.region,
        account_id=info.account_id,
        overrides=overrides,
        previous=previous,
        exports=info.exports,
        skip_unsupported=args.skip_unsupported,
        stack_id=stack_id,
    )
    for warning in plan.warnings:
        err.print(f"warning: {warning}", style="yellow", markup=False)
    json_out = args.output == "json"
    if _unchanged(plan):
        err.print(f"No changes to deploy: stack {name} is up to date.")
        assert previous is not None
        _result(previous, plan, out, json_out=json_out)
        return OK
    if plan.has_changes:
        err.print(changes_table(plan))
    if args.no_execute:
        if json_out:
            out.print_json(json.dumps({"stack": name, "changes": _changes(plan)}))
        return OK
    cloud = BotoCloud(
        http, account_id=info.account_id, region=info.region, stack_name=name, packager=packager
    )
    with Progress(err, title=f"stack {name}") as progress:
        stack = Engine(cloud=cloud, store=store, listener=progress).deploy(plan)
    _result(stack, plan, out, json_out=json_out)
    if stack.status in (StackStatus.CREATE_COMPLETE, StackStatus.UPDATE_COMPLETE):
        return OK
    err.print(
        f"sendoff: deployment of {name} failed and was rolled back: {stack.reason}", markup=False
    )
    if stack.status in (StackStatus.ROLLBACK_FAILED, StackStatus.UPDATE_ROLLBACK_FAILED):
        return ROLLBACK_FAILED
    return FAILED


def _unchanged(plan: Plan) -> bool:
    previous = plan.previous
    stable = (
        StackStatus.CREATE_COMPLETE,
        StackStatus.UPDATE_COMPLETE,
        StackStatus.UPDATE_ROLLBACK_COMPLETE,
    )
    return (
        previous is not None
        and previous.status in stable
        and not plan.has_changes
        and previous.processed == plan.processed
        and dict(previous.parameters) == dict(plan.parameters.given)
    )


def _changes(plan: Plan) -> list[dict[str, Any]]:
    return [
        {
            "logical_id": c.logical_id,
            "type": c.type,
            "action": c.action.value,
            "replacement": c.replacement,
            "properties": list(c.properties),
        }
        for c in plan.changes
        if c.action is not Action.NONE
    ]


def _stack_json(stack: Stack) -> dict[str, Any]:
    body = stack.to_json()
    body.pop("processed", None)
    body["parameters"] = {
        k: "****" if k in stack.no_echo else v for k, v in stack.parameters.items()
    }
    return body


def _result(stack: Stack, plan: Plan | None, out: Console, *, json_out: bool) -> None:
    if json_out:
        body = {
            "stack": stack.name,
            "region": stack.region,
            "status": stack.status.value,
            "reason": stack.reason,
            "outputs": {k: o.value for k, o in stack.outputs.items()},
            "resources": {
                k: {"type": r.type, "physical_id": r.physical_id}
                for k, r in stack.resources.items()
            },
            "changes": _changes(plan) if plan else [],
        }
        out.print_json(json.dumps(body))
        return
    out.print(f"Stack {stack.name}: [{status_style(stack.status)}]{stack.status.value}[/]")
    if stack.outputs:
        out.print(outputs_table(stack))


def _time(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def _list(store: HttpStackStore, args: argparse.Namespace, out: Console) -> int:
    info = store.info(args.region)
    if args.output == "json":
        out.print_json(json.dumps({"region": info.region, "stacks": info.stacks}))
        return OK
    if not info.stacks:
        out.print(f"no stacks in {info.region}")
        return OK
    table = Table(show_edge=False, pad_edge=False)
    for column in ("Name", "Status", "Resources", "Updated"):
        table.add_column(column)
    for s in info.stacks:
        table.add_row(
            s["name"],
            f"[{status_style(s['status'])}]{s['status']}[/]",
            str(s["resources"]),
            _time(s["updated_at"]),
        )
    out.print(table)
    return OK


def _find(store: HttpStackStore, args: argparse.Namespace, err: Console) -> Stack | None:
    stack = store.get(
        store.info(args.region).region if args.region is None else args.region, args.name
    )
    if stack is None:
        err.print(f"sendoff: stack {args.name} does not exist", markup=False)
    return stack


def _describe(store: HttpStackStore, args: argparse.Namespace, out: Console, err: Console) -> int:
    stack = _find(store, args, err)
    if stack is None:
        return NOT_FOUND
    if args.output == "json":
        body = _stack_json(stack)
        if not args.events:
            body.pop("events", None)
        else:
            body["events"] = body["events"][-args.events :]
        out.print_json(json.dumps(body))
        return OK
    out.print(f"Stack    {stack.name} ({stack.region})")
    out.print(
        f"Status   [{status_style(stack.status)}]{stack.status.value}[/]"
        + (f"  {stack.reason}" if stack.reason else ""),
        markup=True,
    )
    out.print(f"Template {stack.template_path or '-'}", markup=False)
    out.print(f"Created  {_time(stack.created_at)}   Updated {_time(stack.updated_at)}")
    if stack.parameters:
        table = Table(title="Parameters", title_justify="left", show_edge=False, pad_edge=False)
        table.add_column("Key")
        table.add_column("Value")
        for key, value in _stack_json(stack)["parameters"].items():
            table.add_row(key, value)
        out.print(table)
    table = Table(title="Resources", title_justify="left", show_edge=False, pad_edge=False)
    for column in ("Resource", "Type", "Status", "Physical ID"):
        table.add_column(column, overflow="fold")
    for r in stack.resources.values():
        table.add_row(r.logical_id, r.type, r.status.value, r.physical_id)
    out.print(table)
    if stack.outputs:
        out.print(outputs_table(stack))
    if args.events:
        table = Table(title="Events", title_justify="left", show_edge=False, pad_edge=False)
        for column in ("Time", "Resource", "Status", "Reason"):
            table.add_column(column, overflow="fold")
        for e in stack.events[-args.events :]:
            table.add_row(
                _time(e.timestamp),
                e.logical_id,
                f"[{status_style(e.status)}]{e.status}[/]",
                e.reason,
            )
        out.print(table)
    return OK


def _delete(
    http: httpx.Client,
    store: HttpStackStore,
    args: argparse.Namespace,
    out: Console,
    err: Console,
) -> int:
    stack = _find(store, args, err)
    if stack is None:
        return NOT_FOUND
    cloud = BotoCloud(http, account_id=stack.account_id, region=stack.region, stack_name=stack.name)
    with Progress(err, title=f"deleting {stack.name}") as progress:
        final = Engine(cloud=cloud, store=store, listener=progress).delete(stack)
    if args.output == "json":
        out.print_json(
            json.dumps(
                {
                    "stack": final.name,
                    "status": final.status.value,
                    "remaining": sorted(final.resources),
                }
            )
        )
    else:
        out.print(f"Stack {final.name}: [{status_style(final.status)}]{final.status.value}[/]")
    if final.status is StackStatus.DELETE_COMPLETE:
        return OK
    err.print("sendoff: some resources could not be deleted; run the delete again")
    return FAILED
