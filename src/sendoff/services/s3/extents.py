"""Reference counts on stored bytes, and the sweep that removes bytes nothing refers to.

Every body written (a PutObject, an UploadPart, a ranged UploadPartCopy) becomes one
*extent*: chunks stored as blobs ``s3/<extent id>/<n>`` (:mod:`sendoff.services.s3.chunks`).
Manifests (objects, parts) list their extents. ``("s3-extent", <id>)`` counts the
manifests that refer to an extent: a copy (CopyObject, UploadPartCopy of a whole object,
CompleteMultipartUpload) adds a reference instead of copying bytes; an overwrite, a
delete, an abort drops one. At zero the extent is queued as
``("s3-dead", "<epoch seconds>/<id>")`` and :meth:`Extents.sweep` deletes its blobs after
:data:`GRACE_S` (scaled by ``--time-scale``), so a GetObject already streaming an object
that was just overwritten or deleted still reads it to the end. Every process may sweep
(deleting twice is harmless).

A process that dies between storing chunks and committing their manifest leaves them
unreferenced and unqueued: they stay (docs/s3.md, "Limits").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable

from sendoff.errors import ConflictError
from sendoff.services.s3.errors import NoSuchKey
from sendoff.store import Store

log = logging.getLogger(__name__)

EXTENTS = "s3-extent"
DEAD = "s3-dead"
GRACE_S = 60.0
SWEEP_INTERVAL_S = 30.0


def chunk_name(extent: str, index: int) -> str:
    return f"s3/{extent}/{index}"


class Extents:
    def __init__(
        self, store: Store, *, clock: Callable[[], float] = time.time, grace_s: float = GRACE_S
    ) -> None:
        self.store = store
        self.clock = clock
        self.grace_s = grace_s
        self._task: asyncio.Task[None] | None = None

    async def created(self, extent: str, count: int) -> None:
        """A freshly written extent of ``count`` chunks, referred to once."""
        await self.store.put(EXTENTS, extent, {"refs": 1, "count": count}, expect=0)

    async def share(self, extents: Iterable[str]) -> None:
        """One more reference to each (existing) extent: NoSuchKey if one is gone."""
        for extent in extents:
            while True:
                doc = await self.store.get(EXTENTS, extent)
                if doc is None or int(doc.value["refs"]) <= 0:
                    raise NoSuchKey("The specified key does not exist.")
                value = {**doc.value, "refs": int(doc.value["refs"]) + 1}
                try:
                    await self.store.put(EXTENTS, extent, value, expect=doc.revision)
                    break
                except ConflictError:
                    continue

    async def release(self, extents: Iterable[str]) -> None:
        """One reference fewer to each; at none, queue its bytes for the sweep."""
        for extent in extents:
            while True:
                doc = await self.store.get(EXTENTS, extent)
                if doc is None:
                    break
                refs = int(doc.value["refs"]) - 1
                try:
                    if refs > 0:
                        value = {**doc.value, "refs": refs}
                        await self.store.put(EXTENTS, extent, value, expect=doc.revision)
                    else:
                        if not await self.store.delete(EXTENTS, extent, expect=doc.revision):
                            continue
                        dead = {"extent": extent, "count": doc.value["count"]}
                        await self.store.put(DEAD, f"{self.clock():017.6f}/{extent}", dead)
                    break
                except ConflictError:
                    continue

    async def sweep(self, *, limit: int = 200) -> int:
        """Delete the blobs of extents dead for longer than ``grace_s``; how many."""
        cutoff = f"{self.clock() - self.grace_s:017.6f}"
        swept = 0
        for doc in await self.store.scan(DEAD, "", limit=limit):
            if doc.key >= cutoff:
                break
            extent, count = str(doc.value["extent"]), int(doc.value["count"])
            for index in range(count):
                await self.store.delete_blob(chunk_name(extent, index))
            await self.store.delete(DEAD, doc.key)
            swept += 1
        return swept

    def start(self, interval_s: float = SWEEP_INTERVAL_S) -> None:
        async def loop() -> None:
            while True:
                try:
                    while await self.sweep() > 0:
                        pass
                except Exception:  # the next round tries again
                    log.exception("S3 sweep failed")
                await asyncio.sleep(interval_s)

        self._task = asyncio.get_running_loop().create_task(loop(), name="s3-sweep")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
