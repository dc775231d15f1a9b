"""Start and stop one process's services, the same way in a server and in a worker.

``start`` opens the store and runs the installs' start-up hooks; with ``work`` it also
starts the async job loop and the event source pollers (a server with ``--workers`` > 0,
``sendoff worker``). ``stop`` undoes it in reverse; stopping a loop that never started is
a no-op, so a server that only serves stops the same way.
"""

from __future__ import annotations

from sendoff.wiring.services import Services


async def start(services: Services, *, work: bool) -> None:
    await services.store.open()
    for hook in services.startup_hooks:
        await hook()
    if work:
        services.scheduler.start()
        if services.event_sources is not None:
            services.event_sources.start()


async def stop(services: Services) -> None:
    if services.event_sources is not None:
        await services.event_sources.stop()
    await services.scheduler.stop()
    for hook in services.shutdown_hooks:
        await hook()
    await services.executor.aclose()
    await services.store.close()
