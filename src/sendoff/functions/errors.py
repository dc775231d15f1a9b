"""Lambda domain errors. Each carries the AWS error code it maps to on the wire.

LambdaError (SendoffError)
├── ResourceNotFound          404 ResourceNotFoundException   (key "Message")
├── ResourceConflict          409 ResourceConflictException   (key "message")
├── InvalidParameterValue     400 InvalidParameterValueException
├── ValidationFailed          400 ValidationException
├── InvalidRequestContent     400 InvalidRequestContentException
├── UnsupportedMediaType      415 UnsupportedMediaTypeException
├── RequestTooLarge           413 RequestEntityTooLargeException
├── TooManyRequests           429 TooManyRequestsException    (+ Reason, maybe Retry-After)
├── RecursiveInvocation       400 RecursiveInvocationException
├── InvalidZipFile            502 InvalidZipFileException     (Invoke of a broken package)
├── PreconditionFailed        412 PreconditionFailedException (a stale RevisionId)
└── ServiceFailure            500 ServiceException
"""

from __future__ import annotations

from sendoff.errors import SendoffError


class LambdaError(SendoffError):
    code = "ServiceException"
    status = 500
    message_key = "Message"
    typed = True  # the body carries "Type": "User" (or "Service" for 5xx)

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ResourceNotFound(LambdaError):
    code = "ResourceNotFoundException"
    status = 404
    not_found = True


class ResourceConflict(LambdaError):
    code = "ResourceConflictException"
    status = 409
    message_key = "message"


class InvalidParameterValue(LambdaError):
    code = "InvalidParameterValueException"
    status = 400
    message_key = "message"


class ValidationFailed(LambdaError):
    code = "ValidationException"
    status = 400
    message_key = "message"


class InvalidRequestContent(LambdaError):
    code = "InvalidRequestContentException"
    status = 400
    message_key = "message"


class UnsupportedMediaType(LambdaError):
    code = "UnsupportedMediaTypeException"
    status = 415
    message_key = "message"


class RequestTooLarge(LambdaError):
    code = "RequestEntityTooLargeException"
    status = 413
    message_key = "message"


class TooManyRequests(LambdaError):
    code = "TooManyRequestsException"
    status = 429
    message_key = "message"

    def __init__(
        self, message: str = "Rate Exceeded.", *, reason: str = "", retry_after: int | None = None
    ) -> None:
        """`retry_after` becomes a Retry-After header (botocore: `retryAfterSeconds`). AWS's
        reserved-concurrency throttle has none (test_lambda TestLambdaConcurrency recordings),
        so only sendoff's own executor-capacity throttle sets it."""
        super().__init__(message)
        self.reason = reason
        self.retry_after = retry_after


class RecursiveInvocation(LambdaError):
    code = "RecursiveInvocationException"
    status = 400


class ServiceFailure(LambdaError):
    code = "ServiceException"
    status = 500


def validation_error(value: object, path: str, constraint: str) -> ValidationFailed:
    """The Coral-style message AWS uses for model validation failures."""
    return ValidationFailed(
        f"1 validation error detected: Value '{value}' at '{path}' failed to satisfy"
        f" constraint: {constraint}"
    )


class InvalidZipFile(LambdaError):
    """Invoke's own error for a package Lambda cannot unpack (botocore: 502, `Message`)."""

    code = "InvalidZipFileException"
    status = 502
    message_key = "Message"


class PreconditionFailed(LambdaError):
    code = "PreconditionFailedException"
    status = 412
    message_key = "message"
