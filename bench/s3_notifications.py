"""Benchmark S3 event notifications: what a notification configuration costs PutObject,
and how fast events reach a queue and a function.

    python bench/s3_notifications.py [--objects 500] [--endpoint-url URL]

Starts a real ``sendoff server`` (SQLite, the embedded default) unless ``--endpoint-url``
names one, then, with boto3 one call at a time:

* PutObject of 1 KB objects per second into a bucket without notifications, and into one
  notifying an SQS queue (each put stores one delivery job);
* how long until the last of those SQS messages can be received (end to end);
* how long until a function notified by a bucket has run for every object (an
  asynchronous invoke per object, through the same queue as every Event invoke).

The command to rerun is printed with the figures.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import client_for  # noqa: E402
from tests.support.functions import create_python  # noqa: E402
from tests.support.server import start_server  # noqa: E402

BODY = b"x" * 1024


def puts(s3: Any, bucket: str, count: int) -> float:
    start = time.perf_counter()
    for i in range(count):
        s3.put_object(Bucket=bucket, Key=f"k/{i}", Body=BODY)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=500)
    parser.add_argument("--endpoint-url")
    args = parser.parse_args()
    server = None
    url = args.endpoint_url
    if url is None:
        server = start_server(Path(tempfile.mkdtemp(prefix="s3bench-")))
        url = server.url
    try:
        s3, sqs, lam = (client_for(url, s) for s in ("s3", "sqs", "lambda"))
        tag = uuid.uuid4().hex[:8]
        plain, notified, invoking = f"plain-{tag}", f"notified-{tag}", f"invoking-{tag}"
        for name in (plain, notified, invoking):
            s3.create_bucket(Bucket=name)
        queue = sqs.create_queue(QueueName=f"events-{tag}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        s3.put_bucket_notification_configuration(
            Bucket=notified, SkipDestinationValidation=True,
            NotificationConfiguration={"QueueConfigurations": [
                {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]},
        )  # fmt: skip
        base = puts(s3, plain, args.objects)
        start = time.perf_counter()
        with_queue = puts(s3, notified, args.objects)
        received = 0
        while received < args.objects:
            got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for m in got.get("Messages", []):
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
                received += 1
        queue_s = time.perf_counter() - start

        fn = f"count-{tag}"
        fn_arn = create_python(lam, fn, "def handler(e, c):\n    return 1\n")["FunctionArn"]
        s3.put_bucket_notification_configuration(
            Bucket=invoking, SkipDestinationValidation=True,
            NotificationConfiguration={"LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": fn_arn, "Events": ["s3:ObjectCreated:*"]}]},
        )  # fmt: skip
        start = time.perf_counter()
        with_lambda = puts(s3, invoking, args.objects)
        key = f"000000000000/us-east-1/{fn}"
        while True:
            params = {"function": key, "limit": 1000, "state": "succeeded"}
            page = httpx.get(f"{url}/_sendoff/events", params=params).json()
            if len(page["events"]) >= args.objects:
                break
            time.sleep(0.2)
        lambda_s = time.perf_counter() - start
    finally:
        if server is not None:
            server.stop()
    n = args.objects
    print(f"PutObject 1 KB, no notifications:      {base:7.0f} objects/s")
    print(f"PutObject 1 KB, notifying a queue:      {with_queue:7.0f} objects/s")
    print(f"PutObject 1 KB, notifying a function:   {with_lambda:7.0f} objects/s")
    print(f"{n} puts until the last SQS event received: {queue_s:6.2f} s")
    print(f"{n} puts until the function ran for all:    {lambda_s:6.2f} s")
    print(f"rerun: python bench/s3_notifications.py --objects {n}")


if __name__ == "__main__":
    main()
