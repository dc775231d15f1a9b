"""Target deliveries that failed for good: counted per rule, and sent to a target's DLQ.

Every delivery job the bus service submits carries ``source = {"kind": "events-target",
...}``. When the outbox gives up on such a job (retries with backoff until its age limit,
or at once for a non-retryable error) :meth:`DeliveryFailures.on_failed` runs:

* the rule's ``events-rule-stats`` document (key ``{account}/{region}/{bus}:{rule}``) gets
  ``failed_invocations`` incremented and the failure recorded in ``recent`` (last 10),
  the sendoff counterpart of CloudWatch's ``FailedInvocations`` metric; it is served at
  ``GET /_sendoff/buses`` and shown by ``sendoff buses list``;
* if the target has a ``DeadLetterConfig``, the event goes to that SQS queue with the
  ``ERROR_CODE``, ``ERROR_MESSAGE``, ``RULE_ARN`` and ``TARGET_ARN`` attributes AWS sets.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from sendoff.delivery import Deliveries
from sendoff.errors import ConflictError
from sendoff.model.clock import Clock, system_clock
from sendoff.model.job import DeliveryJob
from sendoff.model.scope import Scope
from sendoff.services.events.model import rule_key
from sendoff.store import EventRecord, Store

log = logging.getLogger("sendoff.events")

STATS_KIND: Final = "events-rule-stats"
SOURCE_KIND: Final = "events-target"
_RECENT: Final = 10
_ERROR_MESSAGE_LIMIT: Final = 1024


class DeliveryFailures:
    def __init__(
        self, store: Store, deliveries: Deliveries, *, clock: Clock = system_clock
    ) -> None:
        self.store = store
        self.deliveries = deliveries
        self.clock = clock

    async def on_failed(self, record: EventRecord) -> None:
        job = DeliveryJob.decode(record.body)
        source = job.source
        if source.get("kind") != SOURCE_KIND:
            return
        error = job.error or "delivery failed"
        scope = Scope(account_id=source["account_id"], region=source["region"])
        await self._count(scope, source, record.id, job, error)
        if source.get("dead_letter_arn"):
            await self._dead_letter(scope, source, job, error)

    async def _count(
        self, scope: Scope, source: dict[str, Any], job_id: str, job: DeliveryJob, error: str
    ) -> None:
        key = rule_key(scope, source["bus"], source["rule"])
        failure = {
            "at": self.clock(),
            "delivery_id": job_id,
            "event_id": source.get("event_id"),
            "target_id": source.get("target_id"),
            "target_arn": job.target,
            "attempts": len(job.failures),
            "error": error,
        }
        for _ in range(20):
            doc = await self.store.get(STATS_KIND, key)
            value = dict(doc.value) if doc else {"rule_arn": source.get("rule_arn")}
            value["failed_invocations"] = int(value.get("failed_invocations") or 0) + 1
            value["recent"] = [*list(value.get("recent") or [])[-(_RECENT - 1) :], failure]
            try:
                await self.store.put(STATS_KIND, key, value, expect=doc.revision if doc else 0)
                return
            except ConflictError:
                continue
        log.warning("could not count a failed invocation of rule %s", source.get("rule_arn"))

    async def _dead_letter(
        self, scope: Scope, source: dict[str, Any], job: DeliveryJob, error: str
    ) -> None:
        message = error.encode()[:_ERROR_MESSAGE_LIMIT].decode(errors="ignore") or " "
        attributes = {
            "ERROR_CODE": _string("SDK_CLIENT_ERROR"),
            "ERROR_MESSAGE": _string(message),
            "RULE_ARN": _string(source.get("rule_arn") or ""),
            "TARGET_ARN": _string(job.target),
        }
        await self.deliveries.submit(
            scheme="sqs",
            target=source["dead_letter_arn"],
            payload={"body": source.get("event") or "{}", "attributes": attributes},
            scope_key=scope.key,
            source={"kind": "events-dead-letter", "rule_arn": source.get("rule_arn")},
        )

    # ---- reading ----
    async def stats(self, scope: Scope) -> dict[str, dict[str, Any]]:
        """Stats documents of one scope by ``{bus}:{rule}``."""
        prefix = f"{scope.key}/"
        docs = await self.store.scan(STATS_KIND, prefix)
        return {doc.key.removeprefix(prefix): doc.value for doc in docs}

    async def forget(self, scope: Scope, bus: str, rule: str = "") -> None:
        """Drop the stats of one rule, or of every rule of the bus when ``rule`` is empty."""
        if rule:
            await self.store.delete(STATS_KIND, rule_key(scope, bus, rule))
            return
        for doc in await self.store.scan(STATS_KIND, rule_key(scope, bus, "")):
            await self.store.delete(STATS_KIND, doc.key)


def _string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value or " "}
