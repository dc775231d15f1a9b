"""Prometheus metrics with AWS/Lambda's metric names (served at /metrics).

Labels: ``function_name`` and ``resource`` (function plus qualifier), as the AWS/Lambda
dimensions FunctionName and Resource.

sendoff's own, unlabelled: what the store keeps (``StoredEvents``, ``StoredLogBytes``,
``OldestKeptEventTimestamp``, refreshed by the retention task every pass) and what it pruned
(``EventsPruned``, ``LogLinesPruned``); see docs/operations.md.

With ``--worker-processes``, the events run in other processes: every process then keeps
its values in files under ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess
mode, chosen when the variable is set before the client is imported: see
``sendoff.workers.share_metrics``), and /metrics adds them all up.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

LABELS = ("function_name", "resource")

M = TypeVar("M", Counter, Histogram)


class Labelled(Generic[M]):
    """A labelled metric that looks each label pair's child up once (prometheus-client's
    ``labels()`` checks and locks on every call; the async path calls it several times
    per event)."""

    def __init__(self, metric: M) -> None:
        self.metric: M = metric
        self._children: dict[tuple[str, ...], M] = {}

    def labels(self, *values: str) -> M:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self.metric.labels(*values)
        return child

    def collect(self) -> Iterable[Metric]:
        metrics: Iterable[Metric] = self.metric.collect()
        return metrics


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry

        def counter(name: str, doc: str) -> Labelled[Counter]:
            return Labelled(Counter(name, doc, LABELS, registry=r))

        self.invocations = counter("Invocations", "Function attempts (sync and async)")
        self.errors = counter("Errors", "Attempts that ended in a function error")
        self.throttles = counter("Throttles", "Invocation requests that were throttled")
        self.async_events_received = counter("AsyncEventsReceived", "Events queued")
        self.async_events_dropped = counter(
            "AsyncEventsDropped", "Events dropped without a successful run"
        )
        self.destination_delivery_failures = counter(
            "DestinationDeliveryFailures", "Records that could not be delivered"
        )
        self.dead_letter_errors = counter("DeadLetterErrors", "Events not sent to the DLQ")
        self.recursive_invocations_dropped = counter(
            "RecursiveInvocationsDropped", "Invocations stopped by loop detection"
        )
        self.duplicate_executions = counter(
            "AsyncDuplicateExecutions", "Attempts re-run after a lost lease (sendoff only)"
        )
        self.duration = Labelled(Histogram(
            "Duration", "Function run time in milliseconds", LABELS, registry=r,
            buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 3000, 10000, 60000, 900000),
        ))  # fmt: skip
        self.async_event_age = Labelled(Histogram(
            "AsyncEventAge", "Milliseconds from enqueue to invocation", LABELS, registry=r,
            buckets=(1, 5, 10, 50, 100, 1000, 10000, 60000, 300000, 3600000, 21600000),
        ))  # fmt: skip
        self.concurrent_executions = Gauge(
            "ConcurrentExecutions", "Environments running an invocation now", registry=r,
            multiprocess_mode="livesum",
        )  # fmt: skip

        # retention (sendoff only): set by sendoff.store.retention after each pass
        def stored(name: str, doc: str) -> Gauge:
            return Gauge(name, doc, registry=r, multiprocess_mode="mostrecent")

        self.stored_events = stored("StoredEvents", "Events and delivery jobs in the store")
        self.stored_log_bytes = stored("StoredLogBytes", "Bytes of function log messages kept")
        self.oldest_kept_event = stored(
            "OldestKeptEventTimestamp", "Epoch seconds the oldest kept finished event ended"
        )
        self.events_pruned = Counter("EventsPruned", "Finished events deleted", registry=r)
        self.log_lines_pruned = Counter("LogLinesPruned", "Log lines deleted", registry=r)

    def everyones(self, families: Iterable[Labelled[Any]]) -> Iterable[Metric]:
        """What ``families`` hold in every process: with worker processes, what all
        processes' files hold (for /metrics and the console's charts), else this
        process's own values."""
        shared = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not shared:
            for family in families:
                yield from family.collect()
            return
        names = {d.name for family in families for d in family.metric.describe()}
        collector = MultiProcessCollector(None, path=shared)  # type: ignore[no-untyped-call]
        for metric in collector.collect():  # type: ignore[no-untyped-call]
            if metric.name in names:
                yield metric

    def render(self) -> bytes:
        shared = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not shared:
            return bytes(generate_latest(self.registry))
        everyone = CollectorRegistry()
        MultiProcessCollector(everyone, path=shared)  # type: ignore[no-untyped-call]
        return bytes(generate_latest(everyone))
