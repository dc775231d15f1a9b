"""Prometheus metrics of event source mappings, named as AWS/Lambda's ESM metrics.

Labels ``event_source_mapping`` (the UUID, AWS's EventSourceMappingUUID dimension) and
``function_name``. Counts are of messages (AWS counts events), except
``FailedInvokeBatches``; ``ApproximateAgeOfOldestMessage`` (seconds, as the SQS metric) is
the age of the oldest message of the latest batch a mapping received.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from sendoff.metrics import Labelled, Metrics

LABELS = ("event_source_mapping", "function_name")


class SourceMetrics:
    def __init__(self, metrics: Metrics) -> None:
        r = metrics.registry

        def counter(name: str, doc: str) -> Labelled[Counter]:
            return Labelled(Counter(name, doc, LABELS, registry=r))

        self.polled = counter("PolledEventCount", "Messages received by a mapping's pollers")
        self.invoked = counter("InvokedEventCount", "Messages handed to the function")
        self.filtered = counter("FilteredOutEventCount", "Messages deleted by FilterCriteria")
        self.failed = counter(
            "FailedInvokeEventCount", "Messages of batches the function did not finish"
        )
        self.failed_batches = counter(
            "FailedInvokeBatches", "Batches that failed (function error or item failures)"
        )
        self.throttled = counter(
            "ThrottledEventCount", "Messages returned to the queue because of throttling"
        )
        self.dropped = counter("DroppedEventCount", "Messages dropped by loop detection")
        self.oldest_age = Gauge(
            "ApproximateAgeOfOldestMessage", "Seconds since the oldest message of the"
            " latest batch was sent", LABELS, registry=r, multiprocess_mode="mostrecent",
        )  # fmt: skip
