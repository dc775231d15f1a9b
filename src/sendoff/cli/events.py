"""``sendoff events``: see every async event's attempts, outcome and deliveries."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from sendoff.cli.client import Client
from sendoff.cli.output import emit_json, wants_json

STATES = ("queued", "running", "retrying", "succeeded", "failed")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    events = sub.add_parser("events", help="asynchronous events: list, show, redrive")
    actions = events.add_subparsers(dest="action", required=True)
    lst = actions.add_parser("list", help="list events, oldest first")
    lst.add_argument("function", nargs="?", help="only this function's events")
    lst.add_argument("--state", choices=STATES, action="append", help="filter by state")
    lst.add_argument("--limit", type=int, default=100)
    lst.add_argument("--deliveries", action="store_true", help="list delivery jobs instead")
    show = actions.add_parser("show", help="one event in full")
    show.add_argument("request_id")
    redrive = actions.add_parser("redrive", help="re-enqueue failed events")
    redrive.add_argument("ids", nargs="*", help="request ids (default: every failed event)")
    redrive.add_argument("--function", help="only this function's failed events")


def _time(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _pruned_footer(page: dict[str, Any]) -> None:
    """Say that older history is gone, when the server's retention pruned some."""
    if page.get("pruned_before"):
        from sendoff.store.retention import describe_duration

        window = describe_duration(page.get("event_retention_s") or 0)
        print(f"history before {_time(page['pruned_before'])} UTC was pruned (retention {window})")


def run(client: Client, args: argparse.Namespace) -> int:
    if args.action == "list":
        params: dict[str, Any] = {"limit": args.limit,
                                  "kind": "deliver" if args.deliveries else "invoke"}  # fmt: skip
        if args.function:
            params["function"] = args.function
        if args.state:
            params["state"] = args.state
        page = client.json("GET", "/_sendoff/events", params=params)
        rows = page["events"]
        if wants_json(args):
            return emit_json(rows)
        if not rows:
            print("no events")
            _pruned_footer(page)
            return 0
        print(f"{'REQUEST ID':<38} {'FUNCTION':<24} {'STATE':<10} {'TRIES':>5}  {'CONDITION':<24}"
              f" NEXT ATTEMPT")  # fmt: skip
        for e in rows:
            who = e["function"] or e.get("target") or ""
            print(f"{e['id']:<38} {who[:24]:<24} {e['state']:<10} {e['attempts']:>5}  "
                  f"{(e['condition'] or '-'):<24} {_time(e['next_attempt_at'])}")  # fmt: skip
        _pruned_footer(page)
        return 0
    if args.action == "show":
        print(json.dumps(client.json("GET", f"/_sendoff/events/{args.request_id}"), indent=2))
        return 0
    spec: dict[str, Any] = {"ids": args.ids}
    if args.function:
        spec["function"] = args.function
    result = client.json("POST", "/_sendoff/events/redrive", json=spec)
    print(f"redriven {len(result['redriven'])} event(s)")
    for new_id in result["redriven"]:
        print(new_id)
    return 0
