"""Domain errors of the event-bus service; each names the AWS error code it maps to.

EventsError (SendoffError)
├── ResourceNotFound          ResourceNotFoundException       unknown bus or rule
├── ResourceAlreadyExists     ResourceAlreadyExistsException  CreateEventBus on a taken name
├── ValidationFailed          ValidationException             bad parameters
├── InvalidEventPattern       InvalidEventPatternException    a pattern that does not compile
├── LimitExceeded             LimitExceededException          too many targets on a rule
├── ConcurrentModification    ConcurrentModificationException a write kept losing its race
└── InternalFailure           InternalException (500)         a bug or a store failure

The EventBridge wire edge (:mod:`sendoff.api.events`) renders them as JSON 1.1 errors,
``{"__type": code, "message": ...}``, in one place.
"""

from __future__ import annotations

from sendoff.errors import SendoffError


class EventsError(SendoffError):
    code = "InternalException"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ResourceNotFound(EventsError):
    code = "ResourceNotFoundException"
    not_found = True


class ResourceAlreadyExists(EventsError):
    code = "ResourceAlreadyExistsException"


class ValidationFailed(EventsError):
    code = "ValidationException"


class InvalidEventPattern(EventsError):
    code = "InvalidEventPatternException"


class LimitExceeded(EventsError):
    code = "LimitExceededException"


class ConcurrentModification(EventsError):
    code = "ConcurrentModificationException"


class InternalFailure(EventsError):
    code = "InternalException"
    status = 500


def bus_not_found(name: str) -> ResourceNotFound:
    return ResourceNotFound(f"Event bus {name} does not exist.")


def rule_not_found(name: str, bus: str) -> ResourceNotFound:
    return ResourceNotFound(f"Rule {name} does not exist on EventBus {bus}.")
