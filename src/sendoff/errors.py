"""The one exception root of sendoff.

SendoffError
├── ConfigError            bad settings at start-up
├── StoreError             the persistence layer failed
│   └── ConflictError      a compare-and-swap lost (stale revision)
├── ExecutorError          an execution environment could not be used
│   └── Throttled          reserved or account concurrency is exhausted
├── DeliveryError          an outbox transport could not deliver (delivery.outbox)
├── PatternError           an event pattern or filter policy is invalid (services)
├── LambdaError            Lambda's API errors (functions.errors)
├── QueueError             SQS's (services.sqs.errors)
├── SnsError               SNS's (services.sns.errors)
├── EventsError            EventBridge's (services.events.errors)
├── IamError               IAM's (services.iam.errors)
├── S3Error                S3's (services.s3.errors)
├── LogsError              CloudWatch Logs' (services.logs.errors)
├── IacError               templates and stacks (iac.errors)
└── NotFound               a console page for something that does not exist

Every one has ``code`` (the AWS error code its wire edge renders), ``message``, ``status``
(the HTTP status) and ``not_found`` (the console answers 404 for those). Domain code
raises these; each protocol edge maps them to its wire format in one place.
tests/unit/test_error_trees.py checks that each tree drawn in a module docstring names
exactly the classes of that module.
"""

from __future__ import annotations


class SendoffError(Exception):
    """Root of every error sendoff raises on purpose."""

    code: str = "InternalError"
    status: int = 500
    not_found: bool = False
    """The thing asked for does not exist (the console answers 404)."""

    def __init__(self, message: str = "", *args: object) -> None:
        super().__init__(message, *args)
        self.message = message


class ConfigError(SendoffError):
    """Settings given at start-up are invalid."""


class StoreError(SendoffError):
    """The store could not complete an operation."""


class ConflictError(StoreError):
    """A conditional write found a different revision than expected."""


class ExecutorError(SendoffError):
    """An execution environment could not be started or used."""


class Throttled(ExecutorError):
    """No concurrency is available for the function right now."""

    def __init__(self, message: str = "Rate Exceeded.", *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason
