"""Cross-process wake-ups over Redis pub/sub.

The scripts that create work PUBLISH on ``<prefix>:wakeups``: ``jobs`` when events become
leasable, ``messages/<queue id>`` when messages arrive. One relay task per store subscribes
and calls every listener (``Store.add_wakeup_listener``) on the event loop; a failing
listener is logged and the others still run.

Pub/sub is fire-and-forget: a wake-up published while the subscription is down is lost.
So after every reconnect the relay calls the listeners with ``jobs`` (the scheduler then
looks for due work once); queue long polls fall back to their poll interval. A connection
that dies silently is noticed by a PING every ``ping_every_s`` that must be answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

import redis.asyncio as aioredis

log = logging.getLogger(__name__)

Listeners = Callable[[], Sequence[Callable[[str], None]]]


class WakeupRelay:
    def __init__(
        self,
        client: aioredis.Redis,
        channel: str,
        listeners: Listeners,
        *,
        ping_every_s: float = 15.0,
        pong_within_s: float = 10.0,
    ) -> None:
        self.client = client
        self.channel = channel
        self.listeners = listeners
        self.ping_every_s = ping_every_s
        self.pong_within_s = pong_within_s
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"sendoff-redis-wakeups:{self.channel}"
            )

    async def stop(self) -> None:
        """Stop relaying. (redis-py can swallow a cancellation that lands in a read with a
        timeout, so the loop also checks a flag, and waiting for it is bounded.)"""
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait({task}, timeout=2.0)

    def dispatch(self, topic: str) -> None:
        for listener in list(self.listeners()):
            try:
                listener(topic)
            except Exception:
                log.exception("wake-up listener failed on %r", topic)

    async def _reconnected(self, connection: Any) -> None:
        self.dispatch("jobs")  # wake-ups published while we were away are lost

    async def _run(self) -> None:
        backoff = 0.05
        subscribed_before = False
        while not self._stopping:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                if pubsub.connection is not None:  # redis-py also reconnects on its own
                    pubsub.connection.register_connect_callback(self._reconnected)
                if subscribed_before:
                    self.dispatch("jobs")
                subscribed_before = True
                backoff = 0.05
                await self._relay(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._stopping:
                    return
                log.warning("redis wake-up subscription lost (%s); resubscribing", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]

    async def _relay(self, pubsub: Any) -> None:
        """Relay messages until stopped; raise when the connection fails or goes silent."""
        loop = asyncio.get_running_loop()
        pong_due: float | None = None
        while True:
            message = await pubsub.get_message(timeout=self.ping_every_s)
            if self._stopping:
                return
            if message is None:
                if pong_due is None:
                    await pubsub.ping()
                    pong_due = loop.time() + self.pong_within_s
                elif loop.time() >= pong_due:
                    raise ConnectionError("the wake-up subscription did not answer a PING")
            elif message.get("type") == "pong":
                pong_due = None
            elif message.get("type") == "message":
                self.dispatch(str(message["data"]))
