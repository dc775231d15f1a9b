"""``sendoff topics list``: SNS topics, their subscriptions and failed deliveries."""

from __future__ import annotations

import argparse
from typing import Any

from sendoff.cli.client import Client
from sendoff.cli.output import emit_json, wants_json


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    topics = sub.add_parser("topics", help="SNS topics: list")
    actions = topics.add_subparsers(dest="action", required=True)
    lst = actions.add_parser("list", help="list topics with subscriptions and failed deliveries")
    lst.add_argument("--region", default=None, help="only this region (default: all)")


def run(client: Client, args: argparse.Namespace) -> int:
    params = {"region": args.region} if args.region else {}
    overview: dict[str, Any] = client.json("GET", "/_sendoff/sns/topics", params=params)
    topics = overview["topics"]
    if wants_json(args):
        return emit_json(overview)
    if not topics:
        print("no topics")
        return 0
    for topic in topics:
        subs = topic["subscriptions"]
        kind = " (FIFO)" if topic["fifo"] else ""
        print(
            f"{topic['arn']}{kind}  subscriptions: {len(subs)}  "
            f"failed deliveries: {topic['notifications_failed']}"
        )
        for s in subs:
            state = "pending confirmation" if s["pending"] else "confirmed"
            failed = f"  failed: {s['notifications_failed']}" if s["notifications_failed"] else ""
            print(f"  -> {s['protocol']:<10} {s['endpoint']}  [{state}]{failed}")
    return 0
