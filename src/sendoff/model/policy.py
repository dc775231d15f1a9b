"""The retry and event-age policies of asynchronous invocation and of the delivery
outbox, as pure functions (tests/unit/test_policy.py holds their tables).

Everything here works in *AWS seconds* (unscaled): callers divide real elapsed time by
the time scale before asking, and multiply the returned delay by it afterwards. This is
the model layer: the scheduler, the outbox, event configs and the console all read it.

Facts reproduced (see shared/spec/lambda-async-facts.md §2):

* function errors (incl. timeouts and runtime exits) are retried MaximumRetryAttempts
  times (default 2), the first retry about 60 s after the first attempt, the second
  about 120 s after that;
* throttles and system errors are retried with exponential backoff from 1 s to 5 min
  without consuming retry attempts, until the event's maximum age;
* MaximumEventAgeInSeconds (default 6 h) looks ahead: when the next retry would start
  past the age limit, the event fails at once with EventAgeExceeded;
* reserved concurrency 0 fails the event at once with ZeroReservedConcurrency.

Deliveries (``delivery/outbox.py``: records to destinations, SNS fan-out...) are sendoff's
own: a retryable failure is retried after 1, 2, 4... seconds, capped at 5 minutes, while
the retry would start within the delivery's maximum age (1 hour by default); a permanent
failure (a refusal, a missing target) fails at once.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

DEFAULT_MAX_RETRY_ATTEMPTS = 2
DEFAULT_MAX_EVENT_AGE_S = 21_600
FUNCTION_RETRY_BASE_S = 60.0
THROTTLE_BACKOFF_MAX_S = 300.0
DELIVERY_MAX_AGE_S = 3600.0
DELIVERY_BACKOFF_MAX_S = 300.0


class Outcome(enum.Enum):
    SUCCESS = "success"
    FUNCTION_ERROR = "function_error"
    THROTTLED = "throttled"
    SYSTEM_ERROR = "system_error"


class Condition(enum.StrEnum):
    SUCCESS = "Success"
    RETRIES_EXHAUSTED = "RetriesExhausted"
    EVENT_AGE_EXCEEDED = "EventAgeExceeded"
    ZERO_RESERVED_CONCURRENCY = "ZeroReservedConcurrency"
    RECURSIVE_INVOCATION = "RecursiveInvocationDetected"
    SENDOFF_INTERNAL_ERROR = "SendoffInternalError"
    """sendoff could not run the event (scheduler/watchdog.py); AWS has no such condition."""


class Action(enum.Enum):
    SUCCEED = "succeed"
    RETRY = "retry"
    FAIL = "fail"


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    max_retry_attempts: int = DEFAULT_MAX_RETRY_ATTEMPTS
    max_event_age_s: float = DEFAULT_MAX_EVENT_AGE_S


@dataclass(frozen=True, kw_only=True)
class Decision:
    action: Action
    delay_s: float = 0.0
    condition: Condition | None = None


def before_attempt(
    *, age_s: float, policy: RetryPolicy, reserved_concurrency: int | None
) -> Decision | None:
    """A decision that stops the event before it runs, or None to go ahead."""
    if reserved_concurrency == 0:
        return Decision(action=Action.FAIL, condition=Condition.ZERO_RESERVED_CONCURRENCY)
    if age_s > policy.max_event_age_s:
        return Decision(action=Action.FAIL, condition=Condition.EVENT_AGE_EXCEEDED)
    return None


def after_attempt(
    *,
    outcome: Outcome,
    function_attempts: int,
    system_retries: int,
    age_s: float,
    policy: RetryPolicy,
) -> Decision:
    """What to do after an attempt.

    ``function_attempts`` counts attempts that ran the function, including this one;
    ``system_retries`` counts earlier throttle/system-error retries (for the backoff).
    """
    if outcome is Outcome.SUCCESS:
        return Decision(action=Action.SUCCEED, condition=Condition.SUCCESS)
    if outcome is Outcome.FUNCTION_ERROR:
        if function_attempts > policy.max_retry_attempts:
            return Decision(action=Action.FAIL, condition=Condition.RETRIES_EXHAUSTED)
        delay = FUNCTION_RETRY_BASE_S * function_attempts
    else:
        delay = min(2.0**system_retries, THROTTLE_BACKOFF_MAX_S)
    if math.ceil(age_s) + delay > policy.max_event_age_s:
        return Decision(action=Action.FAIL, condition=Condition.EVENT_AGE_EXCEEDED)
    return Decision(action=Action.RETRY, delay_s=delay)


def delivery_backoff_s(failures: int) -> float:
    """The wait after the ``failures``-th failed delivery: 1, 2, 4, ... s, at most 5 min."""
    return min(2.0 ** max(failures - 1, 0), DELIVERY_BACKOFF_MAX_S)


def delivery_decision(
    *, failures: int, age_s: float, retryable: bool, max_age_s: float = DELIVERY_MAX_AGE_S
) -> Decision:
    """What to do after a failed delivery attempt (``failures`` counts it): retry after
    the backoff while that stays within ``max_age_s`` of the delivery's creation, else
    fail; a permanent failure fails at once."""
    if not retryable:
        return Decision(action=Action.FAIL)
    delay = delivery_backoff_s(failures)
    if age_s + delay > max_age_s:
        return Decision(action=Action.FAIL)
    return Decision(action=Action.RETRY, delay_s=delay)
