"""Driving one operation with hypothesis against the real server, and the run's invariants.

:func:`fuzz_operations` draws (operation, mutated input) pairs, sends each over HTTP and
records what :func:`~tests.fuzz.oracle.check` says. A problem is recorded in the tally
and raised as a :class:`FuzzFailure` of its own kind (``service.Operation`` and what went
wrong): hypothesis then shrinks each kind separately to a minimal input and reports every
kind found, each with its falsifying example and a ``reproduce:`` note holding the exact
request to send (:func:`reproducer`). Every ``HEALTH_EVERY`` requests the server must answer
``GET /_sendoff/health`` within ``HEALTH_BUDGET_S``.

Budget: ``SENDOFF_FUZZ_EXAMPLES`` (examples per test; the default keeps the whole module
well under three minutes on a 2-core machine). Raise it for a longer run by hand.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

import httpx
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from tests.fuzz.model import Operation
from tests.fuzz.oracle import TALLY, check
from tests.fuzz.strategies import Hints, request_params
from tests.fuzz.wire import HttpRequest, build

HEALTH_EVERY = 25
HEALTH_BUDGET_S = 0.1
ACCOUNT = "000000000000"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/lambda-role"


def examples(default: int) -> int:
    return int(os.environ.get("SENDOFF_FUZZ_EXAMPLES", default))


def fuzz_settings(count: int) -> settings:
    """``SENDOFF_FUZZ_SHRINK=0``: report failures as found, without shrinking them."""
    phases = tuple(Phase)
    if os.environ.get("SENDOFF_FUZZ_SHRINK") == "0":
        phases = tuple(p for p in Phase if p is not Phase.shrink)
    return settings(
        max_examples=count,
        phases=phases,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        print_blob=True,  # a failure also prints @reproduce_failure(...) to replay it
        report_multiple_bugs=True,
    )


class FuzzFailure(AssertionError):
    """A problem the fuzzer found. Each kind gets a subclass of its own (:func:`fail`):
    hypothesis tells failures apart by exception type and origin, so it shrinks and reports
    each kind on its own instead of stopping at the first."""

    kind = ""


_KINDS: dict[str, type[FuzzFailure]] = {}


def fail(kind: str, message: str) -> NoReturn:
    cls = _KINDS.get(kind)
    if cls is None:
        name = f"FuzzFailure{len(_KINDS)}"
        cls = _KINDS[kind] = type(name, (FuzzFailure,), {"kind": kind})
    raise cls(f"{kind}: {message}")


def problem_kind(where: str, problem: str) -> str:
    """``sqs.SendMessage 500`` or ``sns.Publish 400 Foo is not an error of Publish``: the
    status and what was wrong, without the body (which varies with the input)."""
    return f"{where} {problem.split(':', 1)[0][:80]}"


def reproducer(base_url: str, request: HttpRequest) -> str:
    """The request as a line of Python to paste (bodies past 4 kB shortened)."""
    body = request.content
    shown = repr(body) if len(body) <= 4096 else f"{body[:4096]!r} + ... ({len(body)} bytes)"
    headers = {k: v.decode("latin-1") if isinstance(v, bytes) else v
               for k, v in request.headers.items()}  # fmt: skip
    return (
        f"reproduce: httpx.request({request.method!r}, {base_url!r} + {request.path!r},"
        f" headers={headers!r}, content={shown})"
    )


@dataclass
class Resources:
    queue_url: str
    fifo_url: str
    scratch_queue_url: str
    topic_arn: str
    scratch_topic_arn: str
    subscription_arn: str
    zip_bytes: bytes
    created_functions: list[str] = field(default_factory=list)

    def queue_arn(self, name: str = "fuzz-q") -> str:
        return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


MUTATING_PREFIXES = ("Create", "Delete", "Update", "Put", "Set", "Tag", "Untag", "Purge",
                     "Remove", "Enable", "Disable", "Unsubscribe", "Subscribe", "Confirm",
                     "PublishVersion", "ChangeMessage")  # fmt: skip
READ_ONLY = ("PutEvents", "Publish", "PublishBatch", "TestEventPattern")


def mutating(op: Operation) -> bool:
    return op.name.startswith(MUTATING_PREFIXES) and op.name not in READ_ONLY


# deleting the scratch resources would leave every later mutating call "not found"
DESTRUCTIVE = frozenset({"DeleteFunction", "DeleteQueue", "DeleteTopic", "DeleteRule",
                         "DeleteEventBus"})  # fmt: skip


def hints(op: Operation, res: Resources) -> Hints:
    """Identity members aimed at resources that exist: mutating calls at scratch ones,
    deletions of whole resources at names that do not exist."""
    if op.name in DESTRUCTIVE:
        doomed = "fuzz-doomed"
        return Hints({
            "FunctionName": [doomed], "QueueUrl": [res.queue_url.replace("fuzz-q", doomed)],
            "TopicArn": [res.topic_arn.replace("fuzz-topic", doomed)], "Name": [doomed],
        })  # fmt: skip
    scratch = mutating(op)
    fn_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fuzz-ok"
    by: dict[str, list[Any]] = {}
    if op.service == "lambda":
        by = {
            "FunctionName": ["fuzz-scratch"]
            if scratch
            else ["fuzz-ok", "fuzz-fail", fn_arn, "fuzz-ok:live", f"{fn_arn}:1"],
            "Qualifier": ["$LATEST", "1", "live"],
            "Name": ["live", "fuzz-alias"],
            "FunctionVersion": ["1", "$LATEST"],
            "Runtime": ["python3.12"],
            "Role": [ROLE],
            "Handler": ["app.handler"],
            "ZipFile": [res.zip_bytes],
            "Destination": [res.queue_arn(), res.topic_arn, fn_arn],
            "TargetArn": [res.queue_arn()],
            "InvocationType": ["Event", "Event", "RequestResponse", "DryRun"],
        }
    elif op.service == "sqs":
        by = {
            "QueueUrl": [res.scratch_queue_url] if scratch else [res.queue_url, res.fifo_url],
            "QueueName": ["fuzz-q", "fuzz-q.fifo", "fz-new"],
            "MessageGroupId": ["g1"],
            "Id": ["e1", "e2", "e3"],
            "MessageBody": ["hello", '{"a": 1}'],
        }
    elif op.service == "sns":
        topic = res.scratch_topic_arn if scratch else res.topic_arn
        by = {
            "TopicArn": [topic],
            "ResourceArn": [topic],
            "TargetArn": [topic],
            "SubscriptionArn": [res.subscription_arn],
            "Protocol": ["sqs", "http", "email", "lambda"],
            "Endpoint": [res.queue_arn("fuzz-scratch")],
            "MessageStructure": ["json"],
            "Id": ["e1", "e2", "e3"],
            "Message": ["hello", '{"default": "d", "sqs": "s"}'],
            "AttributeName": [
                "DisplayName",
                "Policy",
                "DeliveryPolicy",
                "FilterPolicy",
                "RawMessageDelivery",
                "RedrivePolicy",
            ],
        }
    elif op.service == "events":
        by = {
            "Name": ["fuzz-scratch" if scratch else "fuzz-rule", "fuzz-bus"],
            "Rule": ["fuzz-scratch" if scratch else "fuzz-rule"],
            "EventBusName": ["default", "fuzz-bus"],
            "Arn": [res.queue_arn()],
            "EventPattern": ['{"source": ["fuzz.never"]}', '{"detail": {"x": [{"prefix": "a"}]}}'],
            "Source": ["fuzz.test"],
            "DetailType": ["fuzz"],
            "Detail": ['{"x": 1}'],
        }
    elif op.service == "logs":
        group = "/fuzz/scratch" if scratch else "/aws/lambda/fuzz-ok"
        by = {
            "logGroupName": [group],
            "logGroupIdentifier": [group],
            "logStreamName": ["fuzz-stream"],
            "logStreamNames": [["fuzz-stream"]],
            "resourceArn": [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}"],
            "filterPattern": ["ERROR", '{ $.a = "x*" || $.b > 2 }', "[a, ..., c = 4*]",
                              "?START ?END -REPORT", "%ab+c%"],
        }  # fmt: skip
    return Hints(by)


def send(http: httpx.Client, request: HttpRequest) -> httpx.Response | str:
    try:
        return http.request(
            request.method, request.path, headers=request.headers, content=request.content
        )
    except httpx.TransportError as exc:
        return f"connection dropped: {type(exc).__name__}: {exc}"


def assert_healthy(http: httpx.Client) -> None:
    """Health within budget; one retry, so a scheduler hiccup on a busy machine is not
    taken for a stall (a stalled server is slow twice)."""
    for attempt in range(2):
        started = time.perf_counter()
        response = http.get("/_sendoff/health", timeout=5)
        elapsed = time.perf_counter() - started
        TALLY.health_ms.append(elapsed * 1000)
        if response.status_code == 200 and elapsed <= HEALTH_BUDGET_S:
            return
        if attempt == 0:
            time.sleep(0.2)
    raise AssertionError(f"health took {elapsed * 1000:.0f} ms ({response.status_code})")


class Run:
    """Counts requests for the periodic health check; records each answer in the tally."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.sent = 0

    def exchange(self, op: Operation, request: HttpRequest, detail: str,
                 after: Callable[[httpx.Response], None] | None = None) -> None:  # fmt: skip
        response = send(self.http, request)
        self.sent += 1
        if self.sent % HEALTH_EVERY == 0:
            assert_healthy(self.http)
        where = f"{op.service}.{op.name}"
        if isinstance(response, str):
            TALLY.requests[op.service] += 1
            TALLY.problems.append(f"{where} [{detail}]: {response}")
            problem: str | None = response
        else:
            problem = check(op, response)
            TALLY.record(op, response, problem, detail)
            if after is not None:
                after(response)
        if problem is not None:
            note(reproducer(str(self.http.base_url), request))
            fail(problem_kind(where, problem), f"{problem}\n  [{detail}]")


def fuzz_operations(
    http: httpx.Client,
    ops: list[Operation],
    res: Resources,
    count: int,
    *,
    payloads: st.SearchStrategy[bytes] | None = None,
    after: Callable[[Operation, httpx.Response, dict[str, Any]], None] | None = None,
    favour: dict[str, int] | None = None,
) -> list[str]:
    """Run ``count`` examples; answers the problems found (empty when all is well)."""
    first = len(TALLY.problems)
    run = Run(http)
    by_name = {op.name: (op, hints(op, res)) for op in ops}

    @st.composite
    def case(draw: st.DrawFn) -> tuple[Operation, str, dict[str, Any], bytes | None]:
        names = sorted(by_name) + [n for n, k in (favour or {}).items() for _ in range(k)]
        op, op_hints = by_name[draw(st.sampled_from(names))]
        mutation, params = draw(request_params(op, op_hints))
        payload = None
        if payloads is not None and op.input is not None and op.input.get("payload"):
            payload = draw(payloads)
        return op, mutation, params, payload

    @fuzz_settings(count)
    @given(case())
    def one(drawn: tuple[Operation, str, dict[str, Any], bytes | None]) -> None:
        op, mutation, params, payload = drawn
        request = build(op, params, payload=payload)
        callback = None if after is None else (lambda r: after(op, r, params))
        detail = f"{mutation} {request.method} {request.path[:80]} {request.content[:120]!r}"
        run.exchange(op, request, detail, callback)

    one()
    assert_healthy(http)
    return TALLY.problems[first:]


def report(problems: list[str]) -> str:
    return f"{len(problems)} problems, first ones:\n" + "\n".join(problems[:15])
