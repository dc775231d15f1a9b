"""Domain errors of the CloudWatch Logs service; each names the AWS error code it maps to.

LogsError (SendoffError)
├── ResourceNotFound          ResourceNotFoundException       unknown log group or stream
├── ResourceAlreadyExists     ResourceAlreadyExistsException  a taken group or stream name
├── InvalidParameter          InvalidParameterException       bad parameters, tokens, patterns
├── ValidationFailed          ValidationException             mutually exclusive members
└── ServiceUnavailable        ServiceUnavailableException (500)  a store failure

The wire edge (:mod:`sendoff.api.logs`) renders them as JSON 1.1 errors,
``{"__type": code, "message": ...}``, with status 400 (500 for the last), in one place.
"""

from __future__ import annotations

from sendoff.errors import SendoffError

GROUP_NOT_FOUND = "The specified log group does not exist."
STREAM_NOT_FOUND = "The specified log stream does not exist."
BAD_TOKEN = "The specified nextToken is invalid."


class LogsError(SendoffError):
    code = "ServiceUnavailableException"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ResourceNotFound(LogsError):
    code = "ResourceNotFoundException"
    not_found = True


class ResourceAlreadyExists(LogsError):
    code = "ResourceAlreadyExistsException"


class InvalidParameter(LogsError):
    code = "InvalidParameterException"


class ValidationFailed(LogsError):
    code = "ValidationException"


class ServiceUnavailable(LogsError):
    code = "ServiceUnavailableException"
    status = 500
