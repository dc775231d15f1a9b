"""The S3 destination kind: AWS's key layout, OnFailure only, the whole record."""

from __future__ import annotations

import asyncio
import re

from sendoff.destinations.kind import Origin, RecordSend
from sendoff.destinations.kinds.s3 import KIND, record_key
from sendoff.destinations.registry import kind_for
from sendoff.model.arn import parse_arn

FN = "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST"


def test_registered_and_on_failure_only() -> None:
    assert kind_for("s3") is KIND and KIND.on_failure_only
    assert KIND.sam.name == "S3" and KIND.iam_action == "s3:PutObject"


def test_key_layout() -> None:
    key = record_key("f", "2024-11-25T10:11:12.345Z", token="u")
    assert key == "aws/lambda/async/f/2024/11/25/2024-11-25T10.11.12-u"
    assert re.fullmatch(
        r"aws/lambda/async/f/\d{4}/\d\d/\d\d/[\dT.-]+-[0-9a-f-]{36}",
        record_key("f", "2024-11-25T10:11:12.345Z"),
    )


def test_payload_is_the_whole_record_under_the_function_name() -> None:
    record = {"timestamp": "2024-11-25T10:11:12.345Z", "requestPayload": "x" * 2_000_000}
    payload = KIND.build_payload(
        RecordSend(
            record=record,
            body='{"big": 1}',
            success=False,
            destination="arn:aws:s3:::b",
            function_arn=FN,
            trace_header=None,
        )
    )
    assert payload["key"].startswith("aws/lambda/async/f/2024/11/25/2024-11-25T10.11.12-")
    assert payload["body"] == '{"big": 1}' and payload["account"] == "000000000000"


def test_validate_arn_and_console_link() -> None:
    async def exists(*_: str) -> bool:
        return True

    origin = Origin(account_id="0", region="r", function_name="f", function_exists=exists)
    assert asyncio.run(KIND.validate_arn("arn:aws:s3:::bucket", origin)) is None
    assert asyncio.run(KIND.validate_arn("arn:aws:s3:us-east-1:1:bucket", origin)) is not None
    parsed = parse_arn("arn:aws:s3:::bucket")
    assert parsed is not None
    assert KIND.console_link("arn:aws:s3:::bucket", parsed) == ("bucket", "/console/buckets/bucket")


def test_iam_resource_is_the_record_object() -> None:
    from sendoff.destinations.registry import kind_for

    s3, sqs = kind_for("s3"), kind_for("sqs")
    assert s3 is not None and sqs is not None
    assert s3.iam_resource("arn:aws:s3:::b", "f") == "arn:aws:s3:::b/aws/lambda/async/f/record"
    assert sqs.iam_resource("arn:aws:sqs:r:1:q", "f") == "arn:aws:sqs:r:1:q"
