"""``sendoff buses list``: event buses, their rules and targets, and failed deliveries."""

from __future__ import annotations

import argparse
from typing import Any

from sendoff.cli.client import Client
from sendoff.cli.output import emit_json, wants_json


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    buses = sub.add_parser("buses", help="event buses: list")
    actions = buses.add_subparsers(dest="action", required=True)
    lst = actions.add_parser("list", help="list buses with rules, targets, failed deliveries")
    lst.add_argument("--region", default=None, help="region (default: the server's)")
    lst.add_argument("--failures", action="store_true", help="also show recent failures")


def run(client: Client, args: argparse.Namespace) -> int:
    params = {"region": args.region} if args.region else {}
    overview: dict[str, Any] = client.json("GET", "/_sendoff/buses", params=params)
    if wants_json(args):
        return emit_json(overview)
    print(f"region {overview['region']}, account {overview['account']}")
    for bus in overview["buses"]:
        rules = bus["rules"]
        print(f"{bus['name']}  ({len(rules)} rule{'' if len(rules) == 1 else 's'})")
        for rule in rules:
            failed = rule["failed_invocations"]
            print(f"  {rule['name']:<32} {rule['state']:<9} failed deliveries: {failed}")
            for target in rule["targets"]:
                print(f"    -> {target}")
            if args.failures:
                for failure in rule["recent_failures"]:
                    print(f"    ! {failure.get('target_id')}: {failure.get('error')}")
    return 0
