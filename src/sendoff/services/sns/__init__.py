"""The built-in SNS-compatible topic service (domain side).

``TopicService`` is the one entry point (``services.topics``); see docs/sns.md.
"""

from sendoff.services.sns.errors import InvalidParameter, NotFound, SnsError
from sendoff.services.sns.fanout import PublishResult
from sendoff.services.sns.service import BatchEntry, BatchResult, TopicService

__all__ = [
    "BatchEntry",
    "BatchResult",
    "InvalidParameter",
    "NotFound",
    "PublishResult",
    "SnsError",
    "TopicService",
]
