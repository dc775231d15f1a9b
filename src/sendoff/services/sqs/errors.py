"""Errors of the queue service, named as SQS names them.

QueueError (SendoffError)           a request the queue service refuses; ``code`` is the
│                                   SQS error name the protocol edge renders
├── QueueNotFound                   QueueDoesNotExist
├── QueueNameExists                 same name, different attributes
├── InvalidAttributeName            unknown or read-only queue attribute
├── InvalidAttributeValue           a queue attribute value out of range or malformed
├── InvalidParameterValue           any other bad parameter (sizes, ids, message attributes)
├── MissingParameter                a required parameter is absent
├── InvalidMessageContents          characters SQS does not allow in a body
├── ReceiptHandleIsInvalid          a receipt handle that this queue never issued
├── MessageNotInflight              visibility change of a message nobody holds
├── UnsupportedOperation            an operation sendoff does not implement
├── PurgeQueueInProgress            a second PurgeQueue within the purge interval (403)
└── batch envelope errors           EmptyBatchRequest, TooManyEntriesInBatchRequest,
                                    BatchEntryIdsNotDistinct, InvalidBatchEntryId,
                                    BatchRequestTooLong

Domain code raises these; :mod:`sendoff.api.sqs` maps them to the wire in one place.
"""

from __future__ import annotations

from sendoff.errors import SendoffError


class QueueError(SendoffError):
    """A request the queue service refuses. ``sender_fault`` is False for server faults;
    ``status`` is the HTTP status AWS answers it with."""

    code = "InvalidParameterValue"
    sender_fault = True
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class QueueNotFound(QueueError):
    code = "QueueDoesNotExist"
    not_found = True

    def __init__(self, message: str = "The specified queue does not exist.") -> None:
        super().__init__(message)


class QueueNameExists(QueueError):
    code = "QueueNameExists"


class InvalidAttributeName(QueueError):
    code = "InvalidAttributeName"


class InvalidAttributeValue(QueueError):
    code = "InvalidAttributeValue"


class InvalidParameterValue(QueueError):
    code = "InvalidParameterValue"


class MissingParameter(QueueError):
    code = "MissingParameter"

    def __init__(self, name: str) -> None:
        super().__init__(f"The request must contain the parameter {name}.")


class InvalidMessageContents(QueueError):
    code = "InvalidMessageContents"


class ReceiptHandleIsInvalid(QueueError):
    code = "ReceiptHandleIsInvalid"

    def __init__(self, handle: str) -> None:
        super().__init__(f'The input receipt handle "{handle}" is not a valid receipt handle.')


class MessageNotInflight(QueueError):
    code = "MessageNotInflight"

    def __init__(self) -> None:
        super().__init__("The message referred to is not in flight.")


class UnsupportedOperation(QueueError):
    code = "UnsupportedOperation"


class PurgeQueueInProgress(QueueError):
    """AWS answers 403 (recorded: LocalStack's test_successive_purge_calls_fail)."""

    code = "PurgeQueueInProgress"
    status = 403

    def __init__(self, name: str) -> None:
        super().__init__(f"Only one PurgeQueue operation on {name} is allowed every 60 seconds.")


class EmptyBatchRequest(QueueError):
    code = "EmptyBatchRequest"


class TooManyEntriesInBatchRequest(QueueError):
    code = "TooManyEntriesInBatchRequest"


class BatchEntryIdsNotDistinct(QueueError):
    code = "BatchEntryIdsNotDistinct"


class InvalidBatchEntryId(QueueError):
    code = "InvalidBatchEntryId"


class BatchRequestTooLong(QueueError):
    code = "BatchRequestTooLong"
