"""The CloudFormation API's errors, each with AWS's code and HTTP status (botocore's model).

CfnError (IacError)
├── ValidationError                      400 ``ValidationError`` (most refusals)
├── AlreadyExistsException               400 ``Stack [x] already exists``
├── InsufficientCapabilitiesException    400 ``Requires capabilities : [CAPABILITY_IAM]``
├── ChangeSetNotFound                    404 ``ChangeSet [x] does not exist``
├── InvalidChangeSetStatus               400 a change set that cannot be executed now
└── LimitExceeded                        400 ``LimitExceededException``: too many deployments

sendoff.iac.cfn_api turns them into ``<ErrorResponse>`` (type Sender), in one place.
"""

from __future__ import annotations

from sendoff.iac.errors import IacError


class CfnError(IacError):
    code = "InternalFailure"
    status = 500
    sender_fault = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(CfnError):
    code = "ValidationError"
    status = 400
    sender_fault = True


class AlreadyExists(CfnError):
    code = "AlreadyExistsException"
    status = 400
    sender_fault = True


class InsufficientCapabilities(CfnError):
    code = "InsufficientCapabilitiesException"
    status = 400
    sender_fault = True


class ChangeSetNotFound(CfnError):
    code = "ChangeSetNotFound"
    status = 404
    sender_fault = True


class InvalidChangeSetStatus(CfnError):
    code = "InvalidChangeSetStatus"
    status = 400
    sender_fault = True


class LimitExceeded(CfnError):
    code = "LimitExceededException"
    status = 400
    sender_fault = True


def stack_not_found(name_or_id: str) -> ValidationError:
    return ValidationError(f"Stack with id {name_or_id} does not exist")
