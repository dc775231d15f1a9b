"""One mapping's pollers: receive, batch, filter, invoke, settle.

Each poller repeats: take a concurrency slot (``ScalingConfig.MaximumConcurrency``, shared
by every process through the store's slots), gather a batch, run the function
synchronously, delete what it finished. A batch is gathered until it holds ``BatchSize``
messages, the batching window has passed since its first message, or the next message
would take the payload past 6 MB (that message starts the next batch).

Nothing is deleted before the function answered, so a poller that dies, or a function that
fails, leaves its messages in flight: they come back after the queue's visibility timeout,
and the queue's RedrivePolicy moves those received ``maxReceiveCount`` times to its
dead-letter queue. A throttled batch (reserved concurrency, executor capacity) is made
visible again at once and the poller backs off.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sendoff.functions.errors import LambdaError, ResourceNotFound, TooManyRequests
from sendoff.functions.invoker import Invoker
from sendoff.functions.registry import FunctionRegistry, Resolved
from sendoff.metrics import Metrics
from sendoff.model import lineage
from sendoff.model.scope import Scope
from sendoff.services.sqs.errors import QueueError
from sendoff.services.sqs.model import QueueRef, parse_queue_arn
from sendoff.sources.batch import PAYLOAD_LIMIT, filter_view, record_size, sqs_record, to_delete
from sendoff.sources.mapping import STATUS_KIND, EventSourceMapping, compile_filter
from sendoff.sources.metrics import SourceMetrics
from sendoff.store import Store

log = logging.getLogger("sendoff.sources")

RECEIVE_MAX = 10
IDLE_WAIT_S = 1  # long poll of an empty queue, so a stop is noticed within a second
MAX_BACKOFF_S = 2.0


@dataclass(frozen=True, kw_only=True)
class Deps:
    store: Store
    queues: Any  # sendoff.services.sqs.QueueService
    registry: FunctionRegistry
    invoker: Invoker
    metrics: Metrics
    source_metrics: SourceMetrics
    default_pollers: int
    max_pollers: int  # per mapping and process: the process's --concurrency


class MappingRunner:
    def __init__(self, mapping: EventSourceMapping, deps: Deps) -> None:
        self.mapping = mapping
        self.deps = deps
        self.queue_ref: QueueRef | None = parse_queue_arn(mapping.event_source_arn)
        self.patterns = [compile_filter(p) for p in mapping.filters]
        self.labels = (mapping.uuid, mapping.function_name)
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._carry: dict[int, list[dict[str, Any]]] = {}
        self._last_result: str | None = None

    def start(self, pollers: int) -> None:
        for index in range(pollers):
            name = f"esm-{self.mapping.uuid[:8]}-{index}"
            self._tasks.append(asyncio.create_task(self._poll(index), name=name))

    async def stop(self, grace_s: float = 5.0) -> None:
        """Let each poller finish its batch, then cancel what is left (those messages come
        back after their visibility timeout)."""
        self._stopping = True
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=grace_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _poll(self, index: int) -> None:
        backoff = 0.05
        holder = f"{self.mapping.uuid}/{index}/{uuid.uuid4().hex[:8]}"
        slot = f"esm/{self.mapping.uuid}"
        limit = self.mapping.max_concurrency
        while not self._stopping:
            try:
                if limit is not None:
                    now = time.time()
                    taken = await self.deps.store.acquire_slot(
                        slot, holder=holder, limit=limit, now=now, expires_at=now + 960
                    )
                    if not taken:
                        await asyncio.sleep(backoff)
                        backoff = min(backoff * 2, MAX_BACKOFF_S)
                        continue
                try:
                    pause = await self._one_batch(index)
                finally:
                    if limit is not None:
                        await self.deps.store.release_slot(slot, holder=holder)
                if pause:
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_S)
                else:
                    backoff = 0.05
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event source mapping %s: poller failed", self.mapping.uuid)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    async def _gather(self, index: int) -> list[dict[str, Any]]:
        assert self.queue_ref is not None
        mapping = self.mapping
        queues = self.deps.queues
        records = self._carry.pop(index, [])
        size = sum(record_size(r) for r in records)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + mapping.window_s
        while len(records) < mapping.batch_size and not self._stopping:
            remaining = deadline - loop.time()
            if records and (mapping.window_s == 0 or remaining <= 0):
                break
            wait = IDLE_WAIT_S if not records else max(0, min(int(remaining), 20))
            got = await queues.receive(
                self.queue_ref,
                max_messages=min(RECEIVE_MAX, mapping.batch_size - len(records)),
                wait_s=wait,
            )
            if not got:
                if not records:
                    return []
                if wait == 0:
                    await asyncio.sleep(min(0.05, max(remaining, 0)))
                continue
            self.deps.source_metrics.polled.labels(*self.labels).inc(len(got))
            for message in got:
                record = sqs_record(
                    message, queue_arn=mapping.event_source_arn, region=self.queue_ref.region
                )
                grown = size + record_size(record)
                if records and grown > PAYLOAD_LIMIT - 16:
                    self._carry.setdefault(index, []).append(record)
                    continue
                records.append(record)
                size = grown
            if index in self._carry:
                break
        return records

    async def _report(self, result: str) -> None:
        """Keep the last processing result in the store when it changes (the console
        shows it); a failure to write it never stops polling."""
        if result == self._last_result:
            return
        self._last_result = result
        try:
            await self.deps.store.put(
                STATUS_KIND, self.mapping.key, {"result": result, "at": time.time()}
            )
        except Exception:
            log.exception("event source mapping %s: could not save its status", self.mapping.uuid)

    async def _one_batch(self, index: int) -> bool:
        """Gather and process one batch; True when the poller should back off."""
        if self.queue_ref is None:
            return True
        try:
            records = await self._gather(index)
        except QueueError as exc:  # the queue was deleted: wait for it (or the mapping) to change
            log.warning("event source mapping %s: %s", self.mapping.uuid, exc)
            return True
        if not records:
            return False
        return await self._process(records)

    async def _delete(self, records: Sequence[Mapping[str, Any]]) -> None:
        if records and self.queue_ref is not None:
            handles = [r["receiptHandle"] for r in records]
            for start in range(0, len(handles), 100):
                await self.deps.queues.delete_messages(self.queue_ref, handles[start : start + 100])

    async def _process(self, records: list[dict[str, Any]]) -> bool:
        mapping = self.mapping
        m = self.deps.source_metrics
        oldest = min(int(r["attributes"].get("SentTimestamp", "0")) for r in records)
        m.oldest_age.labels(*self.labels).set(max(0.0, time.time() - oldest / 1000))
        if self.patterns:
            kept = [r for r in records if any(p.matches(filter_view(r)) for p in self.patterns)]
            dropped = [r for r in records if r not in kept]
            if dropped:
                m.filtered.labels(*self.labels).inc(len(dropped))
                await self._delete(dropped)
            records = kept
            if not records:
                return False
        scope = Scope(account_id=mapping.account_id, region=mapping.region)
        try:
            resolved = await self.deps.registry.resolve(
                scope, mapping.function_name, mapping.qualifier
            )
        except ResourceNotFound:
            log.warning("event source mapping %s: function %s not found", mapping.uuid,
                        mapping.function_arn)  # fmt: skip
            await self._report("PROBLEM: Function not found")
            return True
        trace = self._trace(records, resolved)
        if trace is None:
            m.dropped.labels(*self.labels).inc(len(records))
            await self._delete(records)
            return False
        payload = json.dumps({"Records": records}, separators=(",", ":")).encode()
        try:
            result = await self.deps.invoker.run(
                resolved, request_id=str(uuid.uuid4()), payload=payload, trace_id=trace
            )
        except TooManyRequests:
            m.throttled.labels(*self.labels).inc(len(records))
            await self._release(records)
            await self._report("PROBLEM: Function call throttled")
            return True
        except (LambdaError, OSError, LookupError) as exc:
            log.warning("event source mapping %s: invoking %s failed: %s", mapping.uuid,
                        mapping.function_arn, exc)  # fmt: skip
            m.failed.labels(*self.labels).inc(len(records))
            m.failed_batches.labels(*self.labels).inc()
            await self._report("PROBLEM: Function call failed")
            return True
        m.invoked.labels(*self.labels).inc(len(records))
        if result.function_error:
            m.failed.labels(*self.labels).inc(len(records))
            m.failed_batches.labels(*self.labels).inc()
            await self._report("PROBLEM: Function call failed")
            return False
        done = to_delete(
            records,
            result.payload,
            report_failures=mapping.reports_item_failures,
            fifo=mapping.event_source_arn.endswith(".fifo"),
        )
        if len(done) < len(records):
            m.failed.labels(*self.labels).inc(len(records) - len(done))
            m.failed_batches.labels(*self.labels).inc()
        await self._delete(done)
        await self._report("OK")
        return False

    async def _release(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Make a throttled batch visible again now."""
        if self.queue_ref is not None:
            await self.deps.queues.change_visibility(
                self.queue_ref, [(r["receiptHandle"], 0) for r in records]
            )

    def _trace(self, records: Sequence[Mapping[str, Any]], resolved: Resolved) -> str | None:
        """The trace header the invocation runs with: the lineage the messages carry
        (their AWSTraceHeader), counted once more for this function; None when the
        recursion limit stops it."""
        header = next(
            (r["attributes"]["AWSTraceHeader"] for r in records
             if "AWSTraceHeader" in r["attributes"]), None,
        )  # fmt: skip
        stamped = lineage.stamp(header, resolved.unqualified_arn)
        if lineage.stops(stamped, resolved.unqualified_arn, resolved.state.recursive_loop):
            name = resolved.config.name
            self.deps.metrics.recursive_invocations_dropped.labels(name, name).inc()
            return None
        return stamped
