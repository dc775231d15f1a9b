"""IAM domain errors. Each carries the IAM query-protocol error code and status it maps to.

IamError (SendoffError)
├── NoSuchEntity                404 NoSuchEntity
├── EntityAlreadyExists         409 EntityAlreadyExists
├── DeleteConflict              409 DeleteConflict
├── MalformedPolicyDocument     400 MalformedPolicyDocument
├── InvalidInput                400 InvalidInput
├── ValidationError             400 ValidationError
└── LimitExceeded               409 LimitExceeded

Codes, statuses and the messages raised with them follow AWS's recorded responses
(localstack/localstack tests/aws/services/iam/test_iam_roles.snapshot.json). The wire edge
(:mod:`sendoff.api.iam`) renders them as ``<ErrorResponse>`` XML in one place.
"""

from __future__ import annotations

from sendoff.errors import SendoffError


class IamError(SendoffError):
    code = "ServiceFailure"
    status = 500
    sender_fault = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NoSuchEntity(IamError):
    code = "NoSuchEntity"
    status = 404
    not_found = True
    sender_fault = True


class EntityAlreadyExists(IamError):
    code = "EntityAlreadyExists"
    status = 409
    sender_fault = True


class DeleteConflict(IamError):
    code = "DeleteConflict"
    status = 409
    sender_fault = True


class MalformedPolicyDocument(IamError):
    code = "MalformedPolicyDocument"
    status = 400
    sender_fault = True


class InvalidInput(IamError):
    code = "InvalidInput"
    status = 400
    sender_fault = True


class ValidationError(IamError):
    code = "ValidationError"
    status = 400
    sender_fault = True


class LimitExceeded(IamError):
    code = "LimitExceeded"
    status = 409
    sender_fault = True


def no_such_role(name: str) -> NoSuchEntity:
    return NoSuchEntity(f"The role with name {name} cannot be found.")


def validation(value: object, member: str, constraint: str) -> ValidationError:
    """AWS's one-problem validation message (``1 validation error detected: ...``)."""
    return ValidationError(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy"
        f" constraint: {constraint}"
    )
