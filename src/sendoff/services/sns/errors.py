"""SNS domain errors. Each carries the AWS query-protocol error code it maps to.

SnsError (SendoffError)
├── NotFound                    404 NotFound
├── ResourceNotFound            404 ResourceNotFound        (tagging)
├── InvalidParameter            400 InvalidParameter        "Invalid parameter: <detail>"
├── InvalidParameterValue       400 ParameterValueInvalid
├── AuthorizationError          403 AuthorizationError
└── BatchError                  400 the PublishBatch request-level errors
    ├── EmptyBatchRequest
    ├── TooManyEntriesInBatchRequest
    ├── BatchEntryIdsNotDistinct
    ├── InvalidBatchEntryId
    └── BatchRequestTooLong

The wire edge (:mod:`sendoff.api.sns`) renders them as ``<ErrorResponse>`` XML in one place.
"""

from __future__ import annotations

from sendoff.errors import SendoffError


class SnsError(SendoffError):
    code = "InternalError"
    status = 500
    sender_fault = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(SnsError):
    code = "NotFound"
    status = 404
    sender_fault = True
    not_found = True


class ResourceNotFound(SnsError):
    code = "ResourceNotFound"
    status = 404
    sender_fault = True
    not_found = True


class InvalidParameter(SnsError):
    code = "InvalidParameter"
    status = 400
    sender_fault = True

    def __init__(self, detail: str) -> None:
        super().__init__(f"Invalid parameter: {detail}")
        self.detail = detail


class InvalidParameterValue(SnsError):
    code = "ParameterValueInvalid"
    status = 400
    sender_fault = True


class AuthorizationError(SnsError):
    code = "AuthorizationError"
    status = 403
    sender_fault = True


class BatchError(SnsError):
    status = 400
    sender_fault = True


class EmptyBatchRequest(BatchError):
    code = "EmptyBatchRequest"


class TooManyEntriesInBatchRequest(BatchError):
    code = "TooManyEntriesInBatchRequest"


class BatchEntryIdsNotDistinct(BatchError):
    code = "BatchEntryIdsNotDistinct"


class InvalidBatchEntryId(BatchError):
    code = "InvalidBatchEntryId"


class BatchRequestTooLong(BatchError):
    code = "BatchRequestTooLong"


def too_few_arn_elements(field_name: str, arn: str) -> InvalidParameter:
    """AWS's answer to an ARN with fewer than six ``:``-separated elements."""
    count = len(arn.split(":"))
    return InvalidParameter(
        f"{field_name} Reason: An ARN must have at least 6 elements, not {count}"
    )


def topic_not_found() -> NotFound:
    return NotFound("Topic does not exist")


def subscription_not_found() -> NotFound:
    return NotFound("Subscription does not exist")
