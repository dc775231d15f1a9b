"""``sendoff queues list|receive``: look at queues through the server's SQS JSON protocol.

``list`` shows every queue of a region with its message counts; ``receive URL|NAME``
prints messages as JSON lines (MessageId, Body, attributes), optionally waiting for them
(``--wait``) and deleting them after printing (``--delete``). Requests are unsigned; a
``--region`` is passed the way SigV4 would carry it (the server reads, not verifies, it).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from sendoff.cli.client import Client, CliError
from sendoff.cli.output import emit_json, wants_json

JSON_TYPE = "application/x-amz-json-1.0"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    queues = sub.add_parser("queues", help="SQS queues: list, receive")
    actions = queues.add_subparsers(dest="action", required=True)
    lst = actions.add_parser("list", help="list queues with their message counts")
    lst.add_argument("--region", default=None, help="region (default: the server's)")
    lst.add_argument("--prefix", default="", help="only queues whose name starts with this")
    rcv = actions.add_parser("receive", help="receive messages and print them as JSON lines")
    rcv.add_argument("queue", metavar="URL|NAME", help="queue URL or name")
    rcv.add_argument("--region", default=None, help="region (default: the server's)")
    rcv.add_argument("--max", type=int, default=10, help="messages to receive (1-10)")
    rcv.add_argument("--wait", type=int, default=0, help="seconds to wait for messages (0-20)")
    rcv.add_argument("--visibility", type=int, default=None, help="visibility timeout, s")
    rcv.add_argument("--delete", action="store_true", help="delete messages after printing")


def run(client: Client, args: argparse.Namespace) -> int:
    sqs = _Sqs(client, args.region)
    try:
        if args.action == "list":
            return _list(sqs, args.prefix, as_json=wants_json(args))
        return _receive(sqs, args)
    finally:
        client.http.close()


class _Sqs:
    def __init__(self, client: Client, region: str | None) -> None:
        self.client = client
        self.headers = {"Content-Type": JSON_TYPE}
        if region:
            self.headers["Authorization"] = (
                f"AWS4-HMAC-SHA256 Credential=sendoff-cli/20000101/{region}/sqs/aws4_request,"
                " SignedHeaders=host, Signature=unsigned"
            )

    def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        response = self.client.request(
            "POST",
            "/",
            content=json.dumps(params).encode(),
            headers={**self.headers, "X-Amz-Target": f"AmazonSQS.{operation}"},
        )
        body: dict[str, Any] = response.json() if response.content else {}
        if response.status_code >= 400:
            code = str(body.get("__type", response.status_code)).rsplit("#", 1)[-1]
            raise CliError(f"{code}: {body.get('message', response.text)}")
        return body

    def url_of(self, queue: str) -> str:
        if "/" in queue:
            return queue
        return str(self.call("GetQueueUrl", {"QueueName": queue})["QueueUrl"])


def _list(sqs: _Sqs, prefix: str, *, as_json: bool = False) -> int:
    urls: list[str] = []
    token = None
    while True:
        params: dict[str, Any] = {"QueueNamePrefix": prefix, "MaxResults": 1000}
        if token:
            params["NextToken"] = token
        page = sqs.call("ListQueues", params)
        urls += page.get("QueueUrls", [])
        token = page.get("NextToken")
        if not token:
            break
    if as_json:
        return emit_json(
            [
                {
                    "url": url,
                    "attributes": sqs.call(
                        "GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["All"]}
                    ).get("Attributes", {}),
                }
                for url in urls
            ]
        )
    if not urls:
        print("no queues")
        return 0
    names = [url.rsplit("/", 1)[-1] for url in urls]
    width = max(len(n) for n in names)
    print(f"{'NAME':<{width}}  {'VISIBLE':>8} {'IN FLIGHT':>9} {'DELAYED':>8}  URL")
    for name, url in zip(names, urls, strict=True):
        counts = sqs.call("GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["All"]})
        a = counts.get("Attributes", {})
        print(
            f"{name:<{width}}  {a.get('ApproximateNumberOfMessages', '?'):>8}"
            f" {a.get('ApproximateNumberOfMessagesNotVisible', '?'):>9}"
            f" {a.get('ApproximateNumberOfMessagesDelayed', '?'):>8}  {url}"
        )
    return 0


def _receive(sqs: _Sqs, args: argparse.Namespace) -> int:
    url = sqs.url_of(args.queue)
    params: dict[str, Any] = {
        "QueueUrl": url,
        "MaxNumberOfMessages": args.max,
        "WaitTimeSeconds": args.wait,
        "MessageAttributeNames": ["All"],
        "MessageSystemAttributeNames": ["All"],
    }
    if args.visibility is not None:
        params["VisibilityTimeout"] = args.visibility
    messages = sqs.call("ReceiveMessage", params).get("Messages", [])
    for message in messages:
        line = {k: message[k] for k in ("MessageId", "Body") if k in message}
        for key in ("MessageAttributes", "Attributes"):
            if key in message:
                line[key] = message[key]
        print(json.dumps(line))
    if args.delete and messages:
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
        ]
        result = sqs.call("DeleteMessageBatch", {"QueueUrl": url, "Entries": entries})
        for failure in result.get("Failed", []):
            print(f"sendoff: could not delete: {failure.get('Message')}", file=sys.stderr)
    if not messages:
        print("no messages", file=sys.stderr)
    return 0
