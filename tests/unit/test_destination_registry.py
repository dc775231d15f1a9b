"""The destination kinds registry (sendoff.destinations): the four kinds, the payloads the
router builds from them (as before the registry, byte for byte), and start-up failure of a
kind with a piece missing."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import sendoff.destinations.kinds as kinds_package
from sendoff.config.settings import Settings
from sendoff.delivery import Deliveries
from sendoff.destinations import DestinationRouter, registry
from sendoff.errors import ConfigError
from sendoff.store.memory import MemoryStore

FN = "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST"
RECORD: dict[str, Any] = {
    "version": "1.0",
    "requestContext": {"requestId": "r-1", "condition": "Success", "functionArn": FN},
    "responsePayload": {"ok": "é"},
}
BODY = json.dumps(RECORD, separators=(",", ":"))  # as model.records.compact
TRACE = "Root=1-00000000-000000000000000000000000;Lineage=1:abcdef01:1"
ARNS = {
    "sqs": "arn:aws:sqs:us-east-1:000000000000:q",
    "sns": "arn:aws:sns:us-east-1:000000000000:t",
    "lambda": "arn:aws:lambda:us-east-1:000000000000:function:g",
    "events": "arn:aws:events:us-east-1:000000000000:event-bus/default",
}


class Capture:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def deliver(self, target: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        self.sent.append((target, payload))
        return {}


def test_the_five_kinds_in_the_pickers_order() -> None:
    assert [k.service for k in registry.kinds()] == ["sqs", "sns", "lambda", "events", "s3"]
    assert registry.service_names() == {"sqs", "sns", "lambda", "events", "s3"}
    assert [k.sam.name for k in registry.kinds()] == ["SQS", "SNS", "Lambda", "EventBridge", "S3"]
    assert registry.kind_for("firehose") is None and registry.kind_for_sam_type("Firehose") is None


def test_the_shipped_kinds_are_complete() -> None:
    registry.check(registry.kinds())  # raises ConfigError when one lacks a piece


async def _routed(service: str, *, success: bool, trace: str | None) -> dict[str, Any]:
    store = MemoryStore()
    await store.open()
    deliveries = Deliveries(store, wake=lambda: None)
    capture = Capture()
    deliveries.register(service, capture)
    await DestinationRouter(deliveries).send_record(
        destination=ARNS[service], record=RECORD, success=success, function_arn=FN,
        scope_key="000000000000/us-east-1", trace_header=trace,
    )  # fmt: skip
    [(target, payload)] = capture.sent
    assert target == ARNS[service]
    return payload


@pytest.mark.parametrize("trace", [TRACE, None])
async def test_the_router_builds_each_kinds_payload_as_before(trace: str | None) -> None:
    sqs: dict[str, Any] = {"body": BODY}
    sns: dict[str, Any] = {"message": BODY}
    events: dict[str, Any] = {
        "source": "lambda",
        "detail_type": "Lambda Function Invocation Result - Failure",
        "detail": RECORD,
        "resources": [ARNS["events"], FN],
    }
    if trace:
        sqs["system_attributes"] = {"AWSTraceHeader": {"DataType": "String", "StringValue": trace}}
        sns["trace_header"] = trace
        events["trace_header"] = trace
    assert await _routed("sqs", success=True, trace=trace) == sqs
    assert await _routed("sns", success=True, trace=trace) == sns
    assert await _routed("lambda", success=True, trace=trace) == {
        "payload": BODY, "trace_header": trace,
    }  # fmt: skip
    assert await _routed("events", success=False, trace=trace) == events
    succeeded = await _routed("events", success=True, trace=trace)
    assert succeeded["detail_type"] == "Lambda Function Invocation Result - Success"


@pytest.mark.parametrize(("service", "key"), [("sqs", "body"), ("sns", "message")])
async def test_dead_letters_carry_the_event_and_its_error_attributes(
    service: str, key: str
) -> None:
    store = MemoryStore()
    await store.open()
    deliveries = Deliveries(store, wake=lambda: None)
    capture = Capture()
    deliveries.register(service, capture)
    await DestinationRouter(deliveries).send_dead_letter(
        target=ARNS[service], event_payload='{"a":1}', request_id="r-1", error_code="200",
        error_message="x" * 2000, scope_key="000000000000/us-east-1", function_arn=FN,
    )  # fmt: skip
    [(_, payload)] = capture.sent
    assert payload == {
        key: '{"a":1}',
        "attributes": {
            "RequestID": {"DataType": "String", "StringValue": "r-1"},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": "x" * 1024},
        },
    }


def _add_kind_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    """Add one module to sendoff.destinations.kinds, as a new kind would be added."""
    extra = tmp_path / "kinds"
    extra.mkdir()
    (extra / "zz_bucket.py").write_text(textwrap.dedent(source))
    monkeypatch.setattr(kinds_package, "__path__", [*kinds_package.__path__, str(extra)])
    monkeypatch.delitem(sys.modules, "sendoff.destinations.kinds.zz_bucket", raising=False)
    registry.kinds.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_registry() -> Any:
    registry.kinds.cache_clear()
    yield
    registry.kinds.cache_clear()
    sys.modules.pop("sendoff.destinations.kinds.zz_bucket", None)


BUCKET = """
    from sendoff.destinations.kind import DestinationKind, SamType


    class BucketKind(DestinationKind):
        service = "firehose"
        label = "Firehose stream"
        with_article = "a Firehose stream"
        rank = 60
        iam_action = "firehose:PutRecord"
        operation = "PutRecord"
        sam = SamType(name="Firehose", action="firehose:PutRecord")

        async def validate_arn(self, arn, origin):
            return None

        def build_payload(self, send):
            return {"body": send.body}

        def console_link(self, arn, parsed):
            return parsed.resource, None
    {transport}

    KIND = BucketKind()
"""
NO_SERVICE = """
        def transport(self, services):
            return getattr(services, "buckets", None)  # no bucket service is built
"""
WITH_TRANSPORT = """
        def transport(self, services):
            class Put:
                async def deliver(self, target, payload):
                    return {}
            return Put()
"""


def test_a_kind_without_a_transport_method_fails_discovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add_kind_module(tmp_path, monkeypatch, BUCKET.replace("{transport}", ""))
    with pytest.raises(ConfigError, match=r"zz_bucket is incomplete.*transport"):
        registry.kinds()


def test_a_kind_whose_transport_is_not_built_stops_the_server_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sendoff.server import build_services

    _add_kind_module(tmp_path, monkeypatch, BUCKET.replace("{transport}", NO_SERVICE))
    with pytest.raises(ConfigError, match="destination kind 'firehose' has no transport"):
        build_services(Settings(store_url="memory://", data_dir=tmp_path / "data"))


def test_a_complete_new_kind_is_registered_by_the_server_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sendoff.server import build_services

    _add_kind_module(tmp_path, monkeypatch, BUCKET.replace("{transport}", WITH_TRANSPORT))
    assert registry.kind_for("firehose") is not None
    services = build_services(Settings(store_url="memory://", data_dir=tmp_path / "data"))
    assert "firehose" in services.deliveries.transports
    assert {"sqs", "sns", "lambda", "events"} <= set(services.deliveries.transports)
