"""Composition root: the only place concrete classes meet.

``build_services`` wires store, registry, executor and the APIs into one ASGI app;
``serve`` runs it on uvicorn until SIGTERM/SIGINT, then shuts down cleanly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from sendoff.api.app import build_app
from sendoff.api.internal import InternalApi
from sendoff.api.lambda_common import LambdaEdge
from sendoff.api.lambda_functions import FunctionsApi
from sendoff.api.lambda_invoke import InvokeApi
from sendoff.api.lambda_versions import VersionsApi
from sendoff.api.protocols import ProtocolRouter
from sendoff.config.settings import Settings
from sendoff.executor import Executor, ExecutorSettings
from sendoff.functions.invoker import Invoker
from sendoff.functions.registry import FunctionRegistry
from sendoff.store import Store, open_store

log = logging.getLogger("sendoff.server")


class StoreCodeSource:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get_code_zip(self, code_sha256: str) -> bytes:
        data = await self.store.get_blob(code_sha256)
        if data is None:
            raise LookupError(f"code {code_sha256} is not in the store")
        return data


@dataclass(kw_only=True)
class Services:
    settings: Settings
    store: Store
    registry: FunctionRegistry
    executor: Executor
    invoker: Invoker
    router: ProtocolRouter
    routes: list[BaseRoute] = field(default_factory=list)
    extra_health: dict[str, Any] = field(default_factory=dict)


def build_services(settings: Settings) -> Services:
    store = open_store(settings.resolved_store_url)
    executor = Executor(
        ExecutorSettings(
            cache_dir=settings.data_dir / "code-cache",
            endpoint_url=settings.endpoint_url,
            idle_timeout_s=settings.idle_timeout_s,
        ),
        StoreCodeSource(store),
    )
    registry = FunctionRegistry(store)
    invoker = Invoker(store, executor)
    services = Services(
        settings=settings,
        store=store,
        registry=registry,
        executor=executor,
        invoker=invoker,
        router=ProtocolRouter(),
    )
    edge = LambdaEdge(account_id=settings.account_id, default_region=settings.region)
    services.routes += FunctionsApi(edge, registry, executor.stop_function).routes()
    services.routes += VersionsApi(edge, registry).routes()
    services.routes += InvokeApi(edge, registry, invoker, None).routes()
    services.routes += InternalApi(store).routes()
    return services


def build_asgi(services: Services) -> Starlette:
    async def startup() -> None:
        await services.store.open()
        log.info("sendoff ready on %s (store %s)", services.settings.endpoint_url,
                 services.settings.resolved_store_url)  # fmt: skip

    async def shutdown() -> None:
        await services.executor.aclose()
        await services.store.close()

    async def health() -> dict[str, Any]:
        return {
            "store": services.settings.resolved_store_url.split("://", 1)[0],
            "executor": services.executor.stats(),
            **services.extra_health,
        }

    return build_app(
        routes=services.routes,
        router=services.router,
        health=health,
        get_blob=services.store.get_blob,
        startup=startup,
        shutdown=shutdown,
    )


def serve(settings: Settings) -> None:
    import uvicorn

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = build_asgi(build_services(settings))
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        lifespan="on",
        loop="auto",
        http="auto",
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run()
