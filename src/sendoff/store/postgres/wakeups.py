"""Wake-ups across processes: LISTEN on the store's channel over a dedicated connection.

Writers ``NOTIFY`` in their transaction (:meth:`PostgresDatabase.notify`), so a wake-up is
heard only once the work it announces is committed. The channel is ``sendoff`` in the
``public`` schema and ``sendoff.<schema>`` otherwise, so deployments in separate schemas
of one database do not wake each other.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from sendoff.store.postgres.db import APPLICATION_NAME

log = logging.getLogger("sendoff.store.postgres")


class Listener:
    """LISTEN on a channel over a dedicated connection; reconnect when it drops.

    ``deliver`` gets every payload, on the event loop. After a reconnect it also gets
    ``"jobs"``: notifications sent while disconnected are lost, so workers look again.
    """

    def __init__(self, conninfo: str, channel: str, deliver: Callable[[str], None]) -> None:
        self.conninfo = make_conninfo(
            conninfo,
            application_name=f"{APPLICATION_NAME}-listener",
            keepalives=1,
            keepalives_idle=30,
            keepalives_interval=10,
            keepalives_count=3,
        )
        self.channel = channel
        self.deliver = deliver
        self.connects = 0
        self.backend_pid: int | None = None
        self.listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sendoff-pg-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        delay_s = 0.1
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
                async with conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    self.connects += 1
                    self.backend_pid = conn.info.backend_pid
                    self.listening.set()
                    if self.connects > 1:
                        self.deliver("jobs")
                    delay_s = 0.1
                    async for notify in conn.notifies():
                        self.deliver(notify.payload)
            except psycopg.Error as exc:
                log.warning("wake-up listener lost its connection (%s); reconnecting", exc)
            self.listening.clear()
            await asyncio.sleep(delay_s)  # back off between reconnects
            delay_s = min(delay_s * 2, 5.0)
