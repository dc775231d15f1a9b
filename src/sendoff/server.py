"""Composition root: the only place concrete classes meet.

``build_services`` wires store, registry, executor and the APIs into one ASGI app;
``serve`` runs it on uvicorn until SIGTERM/SIGINT, then shuts down cleanly.
"""

from __future__ import annotations

import dataclasses
import logging
import socket
from typing import Any

from starlette.applications import Starlette

from sendoff.api.app import build_app
from sendoff.api.browser_guard import BrowserGuard
from sendoff.api.internal import InternalApi
from sendoff.api.lambda_common import LambdaEdge
from sendoff.api.lambda_event_config import EventConfigApi
from sendoff.api.lambda_functions import FunctionsApi
from sendoff.api.lambda_invoke import InvokeApi
from sendoff.api.lambda_policy import PolicyApi
from sendoff.api.lambda_versions import VersionsApi
from sendoff.api.protocols import ProtocolRouter
from sendoff.auth.gate import Authenticator, AuthGate
from sendoff.auth.urls import CodeUrls
from sendoff.config.settings import Settings
from sendoff.delivery import Deliveries
from sendoff.destinations import DestinationRouter
from sendoff.destinations.registry import kind_for
from sendoff.executor import Executor, ExecutorSettings
from sendoff.executor.codecache import code_remover
from sendoff.functions.event_config import EventConfigs
from sendoff.functions.invoker import Invoker
from sendoff.functions.registry import FunctionRegistry
from sendoff.metrics import Metrics
from sendoff.model.arn import parse_function_name
from sendoff.model.job import DeliveryJob, RecordSource
from sendoff.scheduler import Scheduler
from sendoff.scheduler.invocations import AsyncInvocations
from sendoff.store import Store, open_store
from sendoff.wiring import lifecycle
from sendoff.wiring.services import Services, built

log = logging.getLogger("sendoff.server")


class StoreCodeSource:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get_code_zip(self, code_sha256: str) -> bytes:
        data = await self.store.get_blob(code_sha256)
        if data is None:
            raise LookupError(f"code {code_sha256} is not in the store")
        return data


def build_services(settings: Settings) -> Services:
    """Everything a server runs: :func:`build_core` and :func:`build_http`."""
    return build_http(build_core(settings))


def build_core(settings: Settings) -> Services:
    """The services of a worker process: store, executor, the async job loop, the built-in
    services' domain objects and delivery transports, retention; no HTTP routes."""
    store = open_store(settings.resolved_store_url)
    auth = Authenticator(store)
    code_urls = CodeUrls(store)
    executor = _build_executor(settings, store, auth)
    registry = FunctionRegistry(store)
    transitions = registry.enable_transitions(executor.prepare_code)
    metrics = Metrics()
    invoker = Invoker(store, executor, metrics)
    scheduler = Scheduler(store, concurrency=settings.concurrency)
    deliveries = Deliveries(store, wake=scheduler.wake, time_scale=settings.time_scale)
    scheduler.register("deliver", deliveries)
    services = Services(
        settings=settings,
        store=store,
        registry=registry,
        executor=executor,
        invoker=invoker,
        router=ProtocolRouter(),
        scheduler=scheduler,
        deliveries=deliveries,
        metrics=metrics,
        auth=auth,
        code_urls=code_urls,
    )
    services.startup_hooks += [auth.start, code_urls.start]
    services.shutdown_hooks.append(transitions.close)

    async def protect_private_paths() -> None:  # the store has created its files now
        executor.protect_private_paths()
        _announce_sandbox(executor)

    services.startup_hooks.append(protect_private_paths)
    from sendoff.functions.code_sweep import CodeSweep

    sweep = CodeSweep(registry, settings.data_dir / "code-cache")
    services.startup_hooks.append(sweep.start)
    services.shutdown_hooks.append(sweep.stop)
    configs = EventConfigs(registry, destinations=kind_for)
    services.event_configs = configs
    lambda_async = AsyncInvocations(
        store=store,
        registry=registry,
        configs=configs,
        invoker=invoker,
        scheduler=scheduler,
        router=DestinationRouter(deliveries),
        metrics=metrics,
        time_scale=settings.time_scale,
    )
    services.lambda_async = lambda_async
    scheduler.register("invoke", lambda_async)
    deliveries.on_failed(_count_delivery_failure(metrics))
    from sendoff.wiring import events, iam, logs, retention, s3, s3_events, sns, sources, sqs

    sqs.install(services)
    s3.install(services)
    sources.install(services)
    sns.install(services)
    events.install(services)
    s3_events.install(services)
    iam.install(services)
    pruner = retention.install(services)
    logs.install(services, pruner)
    from sendoff.destinations.registry import install_transports

    install_transports(services, deliveries)  # one per destination kind; fails if one is missing
    return services


def build_http(services: Services) -> Services:
    """Add what a server serves to the core services: the Lambda API, the protocol
    endpoints of the built-in services, stacks, STS and the console."""
    settings, registry = services.settings, services.registry
    lambda_async = built(services.lambda_async, "the async invocations")
    edge = LambdaEdge(account_id=settings.account_id, default_region=settings.region)
    edge.resource_policies = lambda: registry.invoke_check is not None
    forget_code = code_remover(settings.data_dir / "code-cache")
    services.routes += FunctionsApi(
        edge,
        registry,
        services.executor.stop_function,
        code_token=services.code_urls.token,
        forget_code=forget_code,
    ).routes()
    services.routes += VersionsApi(edge, registry).routes()
    invoke_api = InvokeApi(edge, registry, services.invoker, lambda_async)
    services.routes += invoke_api.routes()
    services.fast_routes += invoke_api.fast_routes()
    services.routes += EventConfigApi(edge, built(services.event_configs, "configs")).routes()
    services.routes += PolicyApi(edge, registry).routes()
    services.routes += InternalApi(
        services.store, services.metrics, services.scheduler.wake, services.executor.stats,
        account_id=settings.account_id, default_region=settings.region,
    ).routes()  # fmt: skip
    from sendoff.wiring import (
        cloudformation,
        console,
        events,
        iam,
        logs,
        s3,
        s3_events,
        sns,
        sources,
        sqs,
        stacks,
        sts,
    )

    sqs.install_http(services)
    s3.install_http(services)
    s3_events.install_http(services)
    sources.install_http(services, edge)
    sns.install_http(services)
    events.install_http(services)
    logs.install_http(services)
    iam.install_http(services)
    sts.install(services)
    stacks.install(services)
    cloudformation.install_http(services)
    console.install(services)
    return services


def _count_delivery_failure(metrics: Metrics) -> Any:
    async def hook(job: Any) -> None:
        source = RecordSource.decode(DeliveryJob.decode(job.body).source)
        if source is None:
            return
        ref = parse_function_name(source.function_arn)
        name = ref.name if ref is not None else ""
        resource = f"{name}:{ref.qualifier}" if ref is not None and ref.qualifier else name
        if source.destination:
            metrics.destination_delivery_failures.labels(name, resource).inc()
        else:
            metrics.dead_letter_errors.labels(name, resource).inc()

    return hook


def _build_executor(settings: Settings, store: Store, auth: Authenticator) -> Executor:
    """The executor with the sandbox asked for; fails (ConfigError) when it is not
    available here, and logs which mode is in force and what it leaves open."""
    from pathlib import Path

    from sendoff.errors import ConfigError, ExecutorError

    private = [settings.data_dir]
    url = settings.resolved_store_url
    if url.startswith("sqlite:///") and not url.endswith(":memory:"):
        private.append(Path("/" + url.removeprefix("sqlite:///").lstrip("/")))
    try:
        executor = Executor(
            ExecutorSettings(
                cache_dir=settings.data_dir / "code-cache",
                endpoint_url=settings.endpoint_url,
                idle_timeout_s=settings.idle_timeout_s,
                sandbox=settings.sandbox,
                private_paths=tuple(private),
                session_credentials=auth.function_credentials,
            ),
            StoreCodeSource(store),
        )
    except ExecutorError as error:
        raise ConfigError(str(error)) from error
    return executor


def _announce_sandbox(executor: Executor) -> None:
    """Say which sandbox is in force (on uvicorn's logger when it is the one set up:
    sendoff's own INFO lines are not shown by `sendoff server`)."""
    uvicorn_log = logging.getLogger("uvicorn.error")
    out = uvicorn_log if logging.getLogger("uvicorn").handlers else log
    out.info("function sandbox: %s (cgroup per environment: %s)", executor.sandbox_mode,
             "yes" if executor.uses_cgroups else "no")  # fmt: skip
    for warning in executor.sandbox_warnings():
        out.warning("function sandbox: %s", warning)


def build_asgi(services: Services) -> Starlette:
    from sendoff.workers import WorkerProcesses

    children = WorkerProcesses(services.settings, services.settings.worker_process_count)
    if children.count:
        services.scheduler.wake_hooks.append(children.notify)
        children.on_jobs = services.scheduler.changed_elsewhere

    async def startup() -> None:
        await lifecycle.start(services, work=services.settings.worker_count > 0)
        await _hint_without_keys(services)
        children.start()
        log.info("sendoff ready on %s (store %s)", services.settings.endpoint_url,
                 services.settings.display_store_url)  # fmt: skip

    async def shutdown() -> None:
        await children.stop()
        await lifecycle.stop(services)

    async def health() -> dict[str, Any]:
        return {
            "store": services.settings.resolved_store_url.split("://", 1)[0],
            "executor": services.executor.stats(),
            "worker_processes": children.pids,
            **services.extra_health,
        }

    return build_app(
        routes=services.routes,
        fast=services.fast_routes,
        router=services.router,
        health=health,
        get_blob=services.store.get_blob,
        code_digest=services.code_urls.digest,
        startup=startup,
        shutdown=shutdown,
        guard=BrowserGuard(
            bound_host=services.settings.host,
            allowed_hosts=services.settings.allowed_hosts,
            cors_origins=services.settings.cors_origins,
        ),
        gate=_gate(services),
        s3=services.s3_api,
    )


def warn_about_auth(settings: Settings) -> None:
    """``--auth none`` off loopback must be asked for (``auto`` gives sigv4 there), and
    is said out loud at start-up."""
    import sys

    if settings.resolved_auth == "none" and not settings.loopback_only:
        message = (
            f"WARNING: authentication is off (--auth none) and sendoff listens on"
            f" {settings.host}:{settings.port}: anyone who can reach this port can run code"
            " on this machine. Use --auth sigv4 (and `sendoff credentials create`) unless"
            " the network itself is trusted."
        )
        print(message, file=sys.stderr, flush=True)
        log.warning(message)


async def _hint_without_keys(services: Services) -> None:
    if services.settings.resolved_auth == "sigv4" and not await services.auth.credentials.list():
        log.warning(
            "--auth sigv4 and no access keys yet: create one with `sendoff credentials create"
            " --data-dir %s` (or --store URL)", services.settings.data_dir,
        )  # fmt: skip


def _gate(services: Services) -> AuthGate | None:
    """The authentication check under ``--auth sigv4`` (sendoff.auth.gate), else None."""
    settings = services.settings
    if settings.resolved_auth != "sigv4":
        return None
    from sendoff.api.s3.addressing import signing_path

    return AuthGate(services.auth, metrics_token=settings.metrics_token, s3_path=signing_path)


def work(settings: Settings) -> None:
    """Run only the async worker (``sendoff worker``) against the configured store.

    Functions it runs reach the API server named by ``--host``/``--port`` through
    AWS_ENDPOINT_URL. Jobs enqueued by other processes are seen within ``poll_s``.
    """
    import asyncio
    import signal
    import sys

    from sendoff.workers import JobNotes, watch_parent

    # A SIGTERM during start-up is a clean stop too (the loop's handlers replace this).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    services = build_core(settings)
    services.scheduler.poll_s = 0.05

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        watch_parent(loop, stop, services.scheduler.wake)
        notes = JobNotes.from_env()
        if notes is not None:
            services.scheduler.add_observer(notes)
        await lifecycle.start(services, work=True)
        log.info("sendoff worker %s started (store %s)", services.scheduler.owner,
                 settings.display_store_url)  # fmt: skip

        async def report_busy() -> None:  # ConcurrentExecutions, for a shared /metrics
            while True:
                busy = services.executor.stats().get("busy", 0)
                services.metrics.concurrent_executions.set(busy)
                await asyncio.sleep(1.0)

        reporter = asyncio.create_task(report_busy())
        await stop.wait()
        reporter.cancel()
        await lifecycle.stop(services)

    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s: %(message)s")
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(main())


def _loop_factory() -> Any:
    """uvloop when it is installed (it comes with uvicorn[standard]), as the server uses."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def serve(settings: Settings) -> None:
    import uvicorn

    from sendoff.api.http_limits import BoundedHttpProtocol

    warn_about_auth(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    listener = None
    if settings.port == 0:
        # --port 0: the kernel picks the port, and everything that names the endpoint
        # (the banner, AWS_ENDPOINT_URL in functions, the worker processes' settings)
        # must name that port, so bind before anything is built
        listener = _listen_on_any_port(settings.host)
        settings = dataclasses.replace(settings, port=listener.getsockname()[1])
    services = build_services(settings)

    async def banner() -> None:  # last start-up hook: the store is open, the sandbox known
        from sendoff.banner import SandboxFacts, print_banner

        executor = services.executor
        print_banner(settings, SandboxFacts(mode=executor.sandbox_mode,
                                            cgroups=executor.uses_cgroups))  # fmt: skip

    services.startup_hooks.append(banner)
    app = build_asgi(services)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        proxy_headers=False,  # sendoff is not behind a proxy; saves a layer per request
        lifespan="on",
        loop="auto",
        http=BoundedHttpProtocol.with_timeout(settings.client_timeout_s),
        timeout_graceful_shutdown=10,
    )
    _server_class()(config).run(sockets=None if listener is None else [listener])


def _listen_on_any_port(host: str) -> socket.socket:
    """A listening socket on ``host`` and a port the kernel picks (not inherited by the
    processes sendoff starts, as every Python socket)."""
    name = host.strip("[]")
    family = socket.AF_INET6 if ":" in name else socket.AF_INET
    if name == "localhost":
        name, family = "127.0.0.1", socket.AF_INET
    return socket.create_server((name, 0), family=family, backlog=2048)


def _server_class() -> type:
    import contextlib
    from collections.abc import Iterator

    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn re-raises a captured SIGTERM/SIGINT after its graceful shutdown; by then
        everything is closed, so sendoff exits 0 (a clean stop) instead."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                yield
                self._captured_signals.clear()

    return Server
