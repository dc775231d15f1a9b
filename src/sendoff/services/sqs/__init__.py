"""The built-in SQS-compatible queue service (domain side).

Other services use :class:`QueueService` (``services.queues``): ``send_message`` to a
queue ARN and ``get_queue``. The wire protocol lives in :mod:`sendoff.api.sqs`; the
message persistence contract in :mod:`sendoff.store.messages`. See ``docs/sqs.md``.
"""

from sendoff.services.sqs.errors import QueueError, QueueNotFound
from sendoff.services.sqs.model import Queue, QueueRef
from sendoff.services.sqs.service import QueueService

__all__ = ["Queue", "QueueError", "QueueNotFound", "QueueRef", "QueueService"]
