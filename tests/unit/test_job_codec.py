"""model/job.py: bodies in the stored format (as earlier versions wrote them) decode, and
encode back to the same keys."""

from __future__ import annotations

import inspect
from dataclasses import FrozenInstanceError, fields, replace
from typing import Any

import pytest

from sendoff.model.job import (
    Attempt,
    AttemptOutcome,
    DeliveryJob,
    InvokeJob,
    RecordSource,
    bare_body,
    decode_job,
    handler_failures_of,
    job_kind,
    with_handler_failure,
)

QUEUED: dict[str, Any] = {
    "kind": "invoke", "request_id": "r-1", "account_id": "000000000000",
    "region": "us-east-1", "function_name": "f", "qualifier": "$LATEST",
    "payload": '{"a": 1}', "trace_header": "Root=1-2-3;Lineage=1:ab:1",
    "function_attempts": 0, "system_retries": 0, "attempts": [],
}  # fmt: skip

RETRYING: dict[str, Any] = {
    **QUEUED,
    "function_attempts": 1,
    "system_retries": 1,
    "attempts": [
        {"started_at": 10.0, "outcome": "throttled", "error_type": "TooManyRequestsException",
         "error_message": "Rate Exceeded.", "reason": "ReservedConcurrency"},
        {"started_at": 11.0, "duration_ms": 1.5, "executed_version": "$LATEST",
         "outcome": "error", "error_type": "ValueError", "error_message": "boom"},
    ],
    "last_response": {"executed_version": "$LATEST", "function_error": "Unhandled",
                      "payload": '{"errorMessage": "boom"}'},
    "next_attempt_at": 71.0,
    "handler_failures": 1,
    "handler_error": "RecursionError: deep",
}  # fmt: skip

SUCCEEDED: dict[str, Any] = {
    **QUEUED,
    "function_attempts": 1,
    "attempts": [{"started_at": 10.0, "duration_ms": 1.0, "executed_version": "3",
                  "outcome": "success"}],
    "last_response": {"executed_version": "3", "function_error": None, "payload": '"ok"'},
    "outcome": {
        "condition": "Success", "at": 12.0, "record": {"version": "1.0", "requestContext": {}},
        "deliveries": [
            {"kind": "destination", "target": "arn:aws:sqs:us-east-1:000000000000:q",
             "state": "succeeded", "result": {"message_id": "m"}, "delivered_at": 12.0},
            {"kind": "dead-letter", "target": "arn:aws:sqs:us-east-1:000000000000:d",
             "job": "d-1"},
        ],
    },
    "redriven_from": "r-0",
}  # fmt: skip

NOT_FOUND: dict[str, Any] = {
    **QUEUED,
    "outcome": {"condition": "FunctionNotFound", "error": "Function not found: f", "at": 3.0},
}

DELIVERY: dict[str, Any] = {
    "kind": "deliver", "scheme": "sqs", "target": "arn:aws:sqs:us-east-1:000000000000:q",
    "payload": {"body": "x", "group_id": "g"},
    "source": {"kind": "destination", "request_id": "r-1",
               "function_arn": "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
               "condition": "Success", "role": "arn:aws:iam::000000000000:role/r"},
    "failures": [{"at": 1.0, "error": "QueueDoesNotExist"}],
    "error": "QueueDoesNotExist",
}  # fmt: skip

DELIVERED: dict[str, Any] = {
    "kind": "deliver", "scheme": "events", "target": "arn:aws:events:us-east-1:0:event-bus/b",
    "payload": {"detail": {}}, "source": {"kind": "events-target", "rule": "r"},
    "failures": [], "result": {"event_id": "e"}, "delivered_at": 4.0,
}  # fmt: skip


@pytest.mark.parametrize("body", [QUEUED, RETRYING, SUCCEEDED, NOT_FOUND])
def test_invoke_bodies_round_trip(body: dict[str, Any]) -> None:
    job = decode_job(body)
    assert isinstance(job, InvokeJob)
    assert job.encode() == body


@pytest.mark.parametrize("body", [DELIVERY, DELIVERED])
def test_delivery_bodies_round_trip(body: dict[str, Any]) -> None:
    job = decode_job(body)
    assert isinstance(job, DeliveryJob)
    assert job.encode() == body


def test_fields_are_typed() -> None:
    job = InvokeJob.decode(RETRYING)
    assert [a.outcome for a in job.attempts] == [AttemptOutcome.THROTTLED, AttemptOutcome.ERROR]
    assert job.last_response is not None and job.last_response.function_error == "Unhandled"
    assert job.next_attempt_at == 71.0 and job.handler_failures == 1
    done = InvokeJob.decode(SUCCEEDED)
    assert done.outcome is not None and done.outcome.succeeded
    assert [d.job_id for d in done.outcome.deliveries or ()] == [None, "d-1"]
    delivery = DeliveryJob.decode(DELIVERY)
    assert delivery.group_id == "g" and delivery.failures[0].error == "QueueDoesNotExist"
    source = RecordSource.decode(delivery.source)
    assert source is not None and source.destination and source.role is not None
    assert source.encode() == DELIVERY["source"]
    assert RecordSource.decode(DELIVERED["source"]) is None


def test_a_body_without_kind_is_an_invocation_and_old_keys_are_ignored() -> None:
    """The first bodies had no ``kind``; ``attempt_open``/``attempt_started_at`` were read
    by earlier versions but never written."""
    legacy = {k: v for k, v in QUEUED.items() if k != "kind"}
    legacy.update(attempt_open=True, attempt_started_at=5.0)
    assert job_kind(legacy) == "invoke"
    job = decode_job(legacy)
    assert isinstance(job, InvokeJob) and job.lost_leases(5) == 0  # the body does not say
    assert job.encode() == QUEUED


def test_leases_lost_between_settles_are_counted() -> None:
    accepted = InvokeJob.decode({**QUEUED, "settled_lease": 0})
    assert accepted.encode() == {**QUEUED, "settled_lease": 0}
    assert accepted.lost_leases(1) == 0  # the first lease
    assert accepted.lost_leases(2) == 1  # the first lease ended without a settle
    retried = InvokeJob.decode({**RETRYING, "settled_lease": 3})
    assert (retried.lost_leases(4), retried.lost_leases(6)) == (0, 2)


def test_a_partial_body_decodes_with_defaults() -> None:
    job = InvokeJob.decode({"payload": "{}"})
    assert job == InvokeJob(request_id="", account_id="", region="", function_name="",
                            qualifier="$LATEST", payload="{}")  # fmt: skip
    assert (job.qualifier, job.attempts, job.outcome) == ("$LATEST", (), None)
    assert decode_job({"kind": "test"}) is None


def test_the_watchdog_view_works_on_any_kind() -> None:
    body = {"kind": "test", "payload": "{}", "nested": {"x": 1}}
    counted = with_handler_failure(body, failures=2, error="E: x", lease_token=3)
    assert handler_failures_of(body) == 0 and handler_failures_of(counted) == 2
    assert counted["nested"] == {"x": 1} and "settled_lease" not in counted
    invoke = with_handler_failure(QUEUED, failures=1, error="E: x", lease_token=3)
    assert InvokeJob.decode(invoke).lost_leases(4) == 0  # the watchdog settled lease 3
    bare = bare_body(counted, condition="SendoffInternalError", error="E: x", at=1.0)
    outcome = {"condition": "SendoffInternalError", "error": "E: x", "at": 1.0}
    assert bare == {"kind": "test", "payload": "{}", "handler_failures": 2,
                    "handler_error": "E: x", "outcome": outcome}  # fmt: skip


@pytest.mark.parametrize("cls", [InvokeJob, DeliveryJob])
def test_evolve_takes_every_field(cls: type[InvokeJob | DeliveryJob]) -> None:
    """``evolve`` is ``dataclasses.replace`` made cheap: it must name every field."""
    params = inspect.signature(cls.evolve).parameters
    assert [p for p in params if p != "self"] == [f.name for f in fields(cls)]


@pytest.mark.parametrize("body", [QUEUED, RETRYING, SUCCEEDED, NOT_FOUND])
def test_evolve_is_replace(body: dict[str, Any]) -> None:
    job = InvokeJob.decode(body)
    assert job.evolve() == job and job.evolve() is not job
    changes: dict[str, Any] = {"outcome": None, "next_attempt_at": None, "settled_lease": 7,
                               "attempts": (*job.attempts, Attempt(started_at=1.0))}  # fmt: skip
    assert job.evolve(**changes) == replace(job, **changes)
    delivery = DeliveryJob.decode(DELIVERY)
    assert delivery.evolve(error=None, delivered_at=2.0) == replace(
        delivery, error=None, delivered_at=2.0
    )
    with pytest.raises(FrozenInstanceError):
        job.evolve(payload="x").payload = "y"  # type: ignore[misc]
