"""Queue configurations as store documents (kind ``sqs-queue``), with compare-and-swap.

Creating is idempotent: the same name with the same (given) attributes returns the
existing queue; a different value for any given attribute is ``QueueNameExists``. Updates
re-read and retry on a revision conflict, so concurrent writers never lose each other's
changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace

from sendoff.errors import ConflictError
from sendoff.model.clock import Clock, system_clock
from sendoff.model.scope import Scope
from sendoff.services.sqs import attributes as attrs
from sendoff.services.sqs.errors import InvalidParameterValue, QueueNameExists, QueueNotFound
from sendoff.services.sqs.model import DOC_KIND, Queue, QueueRef, check_queue_name, parse_queue_arn
from sendoff.store import Doc, Store
from sendoff.store.cache import DocCache

_CAS_ATTEMPTS = 20


class QueueRegistry:
    def __init__(self, store: Store, *, clock: Clock = system_clock) -> None:
        self.store = store
        self.clock = clock
        # Every send looks its queue up: a read-through cache (writes below go through it;
        # other processes' changes show within a second, AWS allows up to 60 s).
        self.docs = DocCache(store)

    async def get(self, ref: QueueRef) -> Queue | None:
        return await self.docs.get_decoded(DOC_KIND, ref.key, _decode)

    async def require(self, ref: QueueRef) -> Queue:
        queue = await self.get(ref)
        if queue is None:
            raise QueueNotFound()
        return queue

    async def by_arn(self, arn: str) -> Queue | None:
        ref = parse_queue_arn(arn)
        return None if ref is None else await self.get(ref)

    async def create(
        self, scope: Scope, name: str, attributes: Mapping[str, str], tags: Mapping[str, str]
    ) -> Queue:
        fifo = attributes.get("FifoQueue", "").lower() == "true"
        check_queue_name(name, fifo=fifo)
        given = attrs.normalize(attributes, fifo=fifo, creating=True)
        ref = QueueRef(account_id=scope.account_id, region=scope.region, name=name)
        explicit = {k: v for k, v in given.items() if v != ""}
        if "FifoQueue" in explicit or fifo:
            explicit["FifoQueue"] = "true"
        now = self.clock()
        candidate = Queue(
            id=uuid.uuid4().hex,
            account_id=scope.account_id,
            region=scope.region,
            name=name,
            attributes=explicit,
            tags=dict(tags),
            created_at=now,
            last_modified_at=now,
        )
        existing = await self.get(ref)
        if existing is None:
            await self._check_redrive(candidate)
            try:
                await self.docs.put(DOC_KIND, ref.key, candidate.to_doc(), expect=0)
                return candidate
            except ConflictError:
                existing = await self.require(ref)
        different = attrs.differing(given, existing.effective)
        if different is not None:
            raise QueueNameExists(
                f"A queue already exists with the same name and a different value for"
                f" attribute {different}"
            )
        return existing

    async def in_scope(
        self, scope: Scope, *, prefix: str = "", after: str | None = None, limit: int = 1000
    ) -> list[Queue]:
        docs = await self.store.scan(
            DOC_KIND,
            scope.key_prefix + prefix,
            after=None if after is None else scope.key_prefix + after,
            limit=limit,
        )
        return [Queue.from_doc(d.value) for d in docs]

    async def all(self) -> list[Queue]:
        return [Queue.from_doc(d.value) for d in await self.store.scan(DOC_KIND)]

    async def delete(self, ref: QueueRef) -> Queue:
        doc = await self.store.get(DOC_KIND, ref.key)
        if doc is None:
            raise QueueNotFound()
        await self.docs.delete(DOC_KIND, ref.key)
        return Queue.from_doc(doc.value)

    async def set_attributes(self, ref: QueueRef, attributes: Mapping[str, str]) -> Queue:
        def change(queue: Queue) -> Queue:
            given = attrs.normalize(attributes, fifo=queue.is_fifo, creating=False)
            merged = {**queue.attributes, **given}
            return replace(
                queue,
                attributes={k: v for k, v in merged.items() if v != ""},
                last_modified_at=self.clock(),
            )

        return await self._update(ref, change, check_redrive=True)

    async def tag(self, ref: QueueRef, tags: Mapping[str, str]) -> Queue:
        return await self._update(ref, lambda q: replace(q, tags={**q.tags, **tags}))

    async def untag(self, ref: QueueRef, keys: list[str]) -> Queue:
        return await self._update(
            ref, lambda q: replace(q, tags={k: v for k, v in q.tags.items() if k not in keys})
        )

    async def dead_letter_sources(self, queue: Queue) -> list[Queue]:
        scope = Scope(account_id=queue.account_id, region=queue.region)
        return [
            q
            for q in await self.in_scope(scope, limit=100_000)
            if (policy := q.redrive) is not None and policy.dead_letter_arn == queue.arn
        ]

    async def _update(
        self, ref: QueueRef, change: Callable[[Queue], Queue], *, check_redrive: bool = False
    ) -> Queue:
        for _ in range(_CAS_ATTEMPTS):
            doc = await self.store.get(DOC_KIND, ref.key)
            if doc is None:
                raise QueueNotFound()
            updated = change(Queue.from_doc(doc.value))
            if check_redrive:
                await self._check_redrive(updated)
            try:
                await self.docs.put(DOC_KIND, ref.key, updated.to_doc(), expect=doc.revision)
                return updated
            except ConflictError:
                continue
        raise ConflictError(f"queue {ref.key} is being changed concurrently; try again")

    async def _check_redrive(self, queue: Queue) -> None:
        policy = queue.redrive
        if policy is None:
            return
        target = await self.by_arn(policy.dead_letter_arn)
        reason = None
        if target is None:
            reason = "Dead letter target does not exist."
        elif target.is_fifo != queue.is_fifo:
            reason = "Dead-letter queue must be same type of queue as the source."
        if reason:
            raise InvalidParameterValue(
                f"Value {queue.attributes['RedrivePolicy']} for parameter RedrivePolicy is"
                f" invalid. Reason: {reason}"
            )


def _decode(doc: Doc) -> Queue:
    return Queue.from_doc(doc.value)
