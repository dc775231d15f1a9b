"""A failure the fuzzer finds is shrunk by hypothesis to a minimal input, per kind, and
reported with the exact request to replay. The oracle is made strict on purpose here (two
SQS operations may answer no error at all), so every "does not exist" answer fails."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from tests.fuzz.model import implemented
from tests.fuzz.oracle import TALLY
from tests.fuzz.runner import FuzzFailure, Resources, Run, fuzz_settings
from tests.fuzz.wire import build


def test_each_kind_of_failure_shrinks_to_a_minimal_reproducer(
    http: httpx.Client, resources: Resources
) -> None:
    names = ("GetQueueUrl", "GetQueueAttributes")
    strict = {op.name: dataclasses.replace(op, errors=frozenset())
              for op in implemented("sqs") if op.name in names}  # fmt: skip
    run, first = Run(http), len(TALLY.problems)

    @settings(fuzz_settings(300), phases=tuple(Phase))  # shrinks even under SHRINK=0
    @given(st.integers(min_value=0, max_value=10**9))
    def one(n: int) -> None:
        if n >= 1000:
            op, params = strict["GetQueueUrl"], {"QueueName": f"nope-{n}"}
        else:
            op, params = strict["GetQueueAttributes"], {"QueueUrl": f"{resources.queue_url}-{n}"}
        run.exchange(op, build(op, params), f"n={n}")

    try:
        with pytest.raises(ExceptionGroup) as caught:
            one()
    finally:
        del TALLY.problems[first:]  # planted failures: not the run's
    failures = caught.value.exceptions
    assert all(isinstance(f, FuzzFailure) for f in failures)
    by_kind = {f.kind: f for f in failures if isinstance(f, FuzzFailure)}
    assert set(by_kind) == {
        "sqs.GetQueueUrl 400 QueueDoesNotExist is not an error of GetQueueUrl",
        "sqs.GetQueueAttributes 400 QueueDoesNotExist is not an error of GetQueueAttributes",
    }
    notes = {kind: "\n".join(getattr(f, "__notes__", [])) for kind, f in by_kind.items()}
    url_note, attributes_note = (notes[k] for k in sorted(notes, reverse=True))
    assert "n=1000" in url_note and "nope-1000" in url_note  # the boundary, not a random n
    assert "n=0," in attributes_note or "n=0\n" in attributes_note
    for text in notes.values():
        assert "Falsifying example" in text
        assert "reproduce: httpx.request('POST', 'http://127.0.0.1:" in text
        assert "@reproduce_failure(" in text
