"""The retry and age policies as tables: each row one situation and AWS's (or, for
deliveries, sendoff's documented) answer. Source of the invocation rows:
shared/spec/lambda-async-facts.md §2."""

from __future__ import annotations

import pytest

from sendoff.model.policy import (
    Action,
    Condition,
    Decision,
    Outcome,
    RetryPolicy,
    after_attempt,
    before_attempt,
    delivery_backoff_s,
    delivery_decision,
)

RETRY = Action.RETRY
FAIL = Action.FAIL
DEFAULT = RetryPolicy()
NO_RETRIES = RetryPolicy(max_retry_attempts=0)
ONE_RETRY = RetryPolicy(max_retry_attempts=1)
AGE_100 = RetryPolicy(max_event_age_s=100)


@pytest.mark.parametrize(
    ("age_s", "policy", "reserved", "expected"),
    [
        # reserved concurrency 0 fails at once, whatever the age
        (0, DEFAULT, 0, Decision(action=FAIL, condition=Condition.ZERO_RESERVED_CONCURRENCY)),
        (1e9, DEFAULT, 0, Decision(action=FAIL, condition=Condition.ZERO_RESERVED_CONCURRENCY)),
        # young enough: go ahead (None), with or without a reservation
        (0, DEFAULT, None, None),
        (21_600, DEFAULT, None, None),  # exactly the maximum age still runs
        (5, DEFAULT, 3, None),
        # past the maximum age (default 6 h, or the configured one)
        (21_600.5, DEFAULT, None, Decision(action=FAIL, condition=Condition.EVENT_AGE_EXCEEDED)),
        (101, AGE_100, 10, Decision(action=FAIL, condition=Condition.EVENT_AGE_EXCEEDED)),
    ],
)
def test_before_attempt(
    age_s: float, policy: RetryPolicy, reserved: int | None, expected: Decision | None
) -> None:
    assert before_attempt(age_s=age_s, policy=policy, reserved_concurrency=reserved) == expected


OK = Outcome.SUCCESS
ERR = Outcome.FUNCTION_ERROR
THR = Outcome.THROTTLED
SYS = Outcome.SYSTEM_ERROR
EXHAUSTED = Condition.RETRIES_EXHAUSTED
AGED = Condition.EVENT_AGE_EXCEEDED


@pytest.mark.parametrize(
    ("outcome", "attempts", "system_retries", "age_s", "policy", "action", "delay", "condition"),
    [
        # success ends the event whatever came before
        (OK, 1, 0, 0, DEFAULT, Action.SUCCEED, 0, Condition.SUCCESS),
        (OK, 3, 7, 20_000, DEFAULT, Action.SUCCEED, 0, Condition.SUCCESS),
        # function errors: first retry ~60 s after the first attempt, second ~120 s later
        (ERR, 1, 0, 0, DEFAULT, RETRY, 60, None),
        (ERR, 2, 0, 61, DEFAULT, RETRY, 120, None),
        (ERR, 3, 0, 182, DEFAULT, FAIL, 0, EXHAUSTED),
        # MaximumRetryAttempts 0 and 1
        (ERR, 1, 0, 0, NO_RETRIES, FAIL, 0, EXHAUSTED),
        (ERR, 1, 0, 0, ONE_RETRY, RETRY, 60, None),
        (ERR, 2, 0, 60, ONE_RETRY, FAIL, 0, EXHAUSTED),
        # earlier throttles do not use up retry attempts
        (ERR, 1, 5, 40, DEFAULT, RETRY, 60, None),
        # age look-ahead: a retry that would start past the maximum age fails now
        (ERR, 1, 0, 41, AGE_100, FAIL, 0, AGED),  # 41 + 60 > 100
        (ERR, 1, 0, 40, AGE_100, RETRY, 60, None),  # 40 + 60 = 100 fits
        (ERR, 1, 0, 40.2, AGE_100, FAIL, 0, AGED),  # the age is rounded up to whole seconds
        (ERR, 1, 0, 39.2, AGE_100, RETRY, 60, None),
        # throttles and system errors: 1 s doubling to 5 min, no retry count
        (THR, 0, 0, 0, DEFAULT, RETRY, 1, None),
        (THR, 0, 1, 1, DEFAULT, RETRY, 2, None),
        (THR, 0, 4, 15, DEFAULT, RETRY, 16, None),
        (THR, 0, 8, 500, DEFAULT, RETRY, 256, None),
        (THR, 0, 9, 800, DEFAULT, RETRY, 300, None),
        (THR, 0, 60, 1_000, DEFAULT, RETRY, 300, None),  # capped, never overflows
        (SYS, 0, 0, 0, DEFAULT, RETRY, 1, None),
        (SYS, 2, 3, 10, NO_RETRIES, RETRY, 8, None),  # system errors ignore the retry limit
        # ... until the maximum age
        (THR, 0, 6, 40, AGE_100, FAIL, 0, AGED),  # 40 + 64 > 100
        (THR, 0, 5, 68, AGE_100, RETRY, 32, None),  # 68 + 32 = 100 fits
        (SYS, 0, 0, 21_600, DEFAULT, FAIL, 0, AGED),
    ],
)
def test_after_attempt(
    outcome: Outcome,
    attempts: int,
    system_retries: int,
    age_s: float,
    policy: RetryPolicy,
    action: Action,
    delay: float,
    condition: Condition | None,
) -> None:
    decision = after_attempt(
        outcome=outcome,
        function_attempts=attempts,
        system_retries=system_retries,
        age_s=age_s,
        policy=policy,
    )
    assert decision == Decision(action=action, delay_s=delay, condition=condition)


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(0, 1), (1, 1), (2, 2), (3, 4), (8, 128), (9, 256), (10, 300), (1_000, 300)],
)
def test_delivery_backoff(failures: int, expected: float) -> None:
    assert delivery_backoff_s(failures) == expected


@pytest.mark.parametrize(
    ("failures", "age_s", "retryable", "max_age_s", "action", "delay"),
    [
        (1, 0, True, 3600, RETRY, 1),
        (2, 1, True, 3600, RETRY, 2),
        (12, 3000, True, 3600, RETRY, 300),  # 3000 + 300 fits in the hour
        (12, 3300.5, True, 3600, FAIL, 0),  # 3300.5 + 300 does not
        (1, 3599, True, 3600, RETRY, 1),  # the last second
        (1, 3599.5, True, 3600, FAIL, 0),
        (1, 0, False, 3600, FAIL, 0),  # permanent: no retry even when young
        (3, 0, True, 3, FAIL, 0),  # a short maximum age: 0 + 4 > 3
    ],
)
def test_delivery_decision(
    failures: int, age_s: float, retryable: bool, max_age_s: float, action: Action, delay: float
) -> None:
    decision = delivery_decision(
        failures=failures, age_s=age_s, retryable=retryable, max_age_s=max_age_s
    )
    assert decision == Decision(action=action, delay_s=delay)
