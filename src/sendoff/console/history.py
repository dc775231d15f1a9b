"""Per-minute metric history for the Monitor charts and the functions list.

``/metrics`` (Prometheus) holds running totals since the process started; charts need
values per minute. :class:`MinuteSeries` keeps, per function and metric, a sum for each
minute of the last 24 hours (and a count, for the averages Duration and AsyncEventAge):

* **Backfill** from the stored event history when the console starts: each event adds
  AsyncEventsReceived at its arrival, Invocations/Errors/Throttles/Duration/AsyncEventAge
  per attempt, AsyncEventsDropped when it failed; each failed destination delivery adds
  DestinationDeliveryFailures. Only times before the start are taken from history.
* **Sampling** afterwards: every tick (and before each render) the Prometheus totals are
  read and their increase since the last sample is added to the current minute. This
  includes synchronous invocations, which the event history does not hold.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from sendoff.metrics import Metrics
from sendoff.model.arn import parse_function_name
from sendoff.model.job import AttemptOutcome, DeliveryJob, RecordSource, decode_job
from sendoff.store import EventRecord
from sendoff.store.base import EventState

KEEP_MINUTES = 24 * 60


@dataclass(frozen=True, kw_only=True)
class MetricSpec:
    name: str
    statistic: str  # "Sum" or "Average"
    unit: str
    help: str


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(name="Invocations", statistic="Sum", unit="count",
               help="Function runs, synchronous and asynchronous"),
    MetricSpec(name="Errors", statistic="Sum", unit="count",
               help="Runs that ended in a function error"),
    MetricSpec(name="Throttles", statistic="Sum", unit="count",
               help="Requests refused for lack of concurrency"),
    MetricSpec(name="Duration", statistic="Average", unit="ms",
               help="Function run time"),
    MetricSpec(name="AsyncEventsReceived", statistic="Sum", unit="count",
               help="Events queued for asynchronous invocation"),
    MetricSpec(name="AsyncEventAge", statistic="Average", unit="ms",
               help="Time from queueing to each attempt"),
    MetricSpec(name="AsyncEventsDropped", statistic="Sum", unit="count",
               help="Events that failed without a successful run"),
    MetricSpec(name="DestinationDeliveryFailures", statistic="Sum", unit="count",
               help="Execution records that could not be delivered"),
)  # fmt: skip
AVERAGED = frozenset(m.name for m in METRICS if m.statistic == "Average")

# Prometheus sample name -> series key ("#n" keys hold the counts behind an average)
_SAMPLES = {
    "Invocations_total": "Invocations",
    "Errors_total": "Errors",
    "Throttles_total": "Throttles",
    "AsyncEventsReceived_total": "AsyncEventsReceived",
    "AsyncEventsDropped_total": "AsyncEventsDropped",
    "DestinationDeliveryFailures_total": "DestinationDeliveryFailures",
    "Duration_sum": "Duration",
    "Duration_count": "Duration#n",
    "AsyncEventAge_sum": "AsyncEventAge",
    "AsyncEventAge_count": "AsyncEventAge#n",
}


def minute_of(ts: float) -> int:
    return int(ts // 60)


class MinuteSeries:
    def __init__(
        self, metrics: Metrics, *, time_scale: float = 1.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.metrics = metrics
        self.time_scale = time_scale
        self.clock = clock
        self.data: dict[str, dict[str, dict[int, float]]] = {}
        self.started_at: float | None = None
        self._last: dict[tuple[str, str], float] = {}

    # ---- writing ----
    def add(self, function: str, key: str, ts: float, value: float = 1.0) -> None:
        bucket = self.data.setdefault(function, {}).setdefault(key, {})
        minute = minute_of(ts)
        bucket[minute] = bucket.get(minute, 0.0) + value

    def start(self) -> None:
        """Take the current Prometheus totals as the baseline; history covers what came before."""
        self.started_at = self.clock()
        self._last = self._read()

    def backfill(self, event: EventRecord) -> None:
        """Add one stored event's contribution, for times before :meth:`start`."""
        start = self.started_at if self.started_at is not None else self.clock()
        horizon = start - KEEP_MINUTES * 60
        job = decode_job(event.body)

        def add(function: str, key: str, ts: float | None, value: float = 1.0) -> None:
            if ts is not None and horizon <= ts < start:
                self.add(function, key, ts, value)

        if isinstance(job, DeliveryJob):
            source = RecordSource.decode(job.source)
            if event.state is EventState.FAILED and source is not None:
                ref = parse_function_name(source.function_arn) if source.destination else None
                if ref is not None and ref.account_id is not None:
                    at = job.failures[-1].at if job.failures else None
                    add(ref.name, "DestinationDeliveryFailures", at)
            return
        if job is None:
            return
        name = job.function_name
        add(name, "AsyncEventsReceived", event.enqueued_at)
        for attempt in job.attempts:
            started = attempt.started_at
            age_ms = max(0.0, (started - event.enqueued_at) * 1000 / self.time_scale)
            add(name, "AsyncEventAge", started, age_ms)
            add(name, "AsyncEventAge#n", started)
            outcome = attempt.outcome
            if outcome in (AttemptOutcome.SUCCESS, AttemptOutcome.ERROR):
                add(name, "Invocations", started)
                if outcome is AttemptOutcome.ERROR:
                    add(name, "Errors", started)
                if attempt.duration_ms is not None:
                    add(name, "Duration", started, attempt.duration_ms)
                    add(name, "Duration#n", started)
            elif outcome is AttemptOutcome.THROTTLED:
                add(name, "Throttles", started)
        if (
            event.state is EventState.FAILED
            and job.outcome is not None
            and job.outcome.condition != "FunctionNotFound"
        ):
            add(name, "AsyncEventsDropped", job.outcome.at)

    def sample(self) -> None:
        """Add what the Prometheus totals gained since the last sample to this minute."""
        if self.started_at is None:
            return
        now = self.clock()
        current = self._read()
        for key, value in current.items():
            gained = value - self._last.get(key, 0.0)
            if gained > 0:
                self.add(key[0], key[1], now, gained)
        self._last = current
        self._prune(now)

    def _read(self) -> dict[tuple[str, str], float]:
        m = self.metrics
        totals: dict[tuple[str, str], float] = {}
        families = (m.invocations, m.errors, m.throttles, m.async_events_received,
                    m.async_events_dropped, m.destination_delivery_failures, m.duration,
                    m.async_event_age)  # fmt: skip
        for metric in m.everyones(families):  # the worker processes' runs too
            for sample in metric.samples:
                key = _SAMPLES.get(sample.name)
                if key is None:
                    continue
                name = sample.labels.get("function_name", "")
                totals[(name, key)] = totals.get((name, key), 0.0) + float(sample.value)
        return totals

    def _prune(self, now: float) -> None:
        oldest = minute_of(now) - KEEP_MINUTES
        for series in self.data.values():
            for bucket in series.values():
                if bucket and min(bucket) < oldest:
                    for minute in [m for m in bucket if m < oldest]:
                        del bucket[minute]

    # ---- reading ----
    def points(
        self, function: str, metric: str, *, end: float, minutes: int, step: int
    ) -> list[float | None]:
        """Values per ``step`` minutes over the last ``minutes`` up to ``end``, oldest first:
        sums for counts, averages (None where nothing ran) for Duration and AsyncEventAge."""
        series = self.data.get(function, {})
        sums = series.get(metric, {})
        counts = series.get(f"{metric}#n", {}) if metric in AVERAGED else None
        last = minute_of(end)
        first = last - minutes + 1
        out: list[float | None] = []
        for start in range(first, last + 1, step):
            total = sum(sums.get(m, 0.0) for m in range(start, min(start + step, last + 1)))
            if counts is None:
                out.append(total)
                continue
            n = sum(counts.get(m, 0.0) for m in range(start, min(start + step, last + 1)))
            out.append(total / n if n else None)
        return out

    def total(self, function: str, metric: str, *, since: float) -> float:
        bucket = self.data.get(function, {}).get(metric, {})
        first = minute_of(since)
        return sum(v for m, v in bucket.items() if m >= first)

    def average(self, function: str, metric: str, *, since: float) -> float | None:
        n = self.total(function, f"{metric}#n", since=since)
        return self.total(function, metric, since=since) / n if n else None


def nice_ceiling(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 5 x 10^n)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for factor in (1, 2, 5, 10):
        candidate = factor * 10**exponent
        if candidate >= value:
            return float(candidate)
    return float(10 ** (exponent + 1))
