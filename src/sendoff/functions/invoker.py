"""Running one invocation of a resolved function: spec, executor, throttling, logs.

Shared by synchronous invokes (the API) and the asynchronous workers.
"""

from __future__ import annotations

import time
from dataclasses import replace

from sendoff.errors import Throttled
from sendoff.executor import Executor, FunctionSpec, InvokeRequest, InvokeResult, PackageError
from sendoff.functions.errors import InvalidZipFile, TooManyRequests
from sendoff.functions.log_writer import LogWriter
from sendoff.functions.logging_config import (
    invoke_status,
    json_lines,
    log_group_of,
    logging_environment,
)
from sendoff.functions.registry import Resolved
from sendoff.metrics import Metrics
from sendoff.model.ids import random_hex
from sendoff.model.log_names import Scope, lines_key
from sendoff.store import LogEvent, Store

TAIL_BYTES = 4096
RESERVED_LIMIT = "ReservedFunctionConcurrentInvocationLimitExceeded"


def log_group(function_name: str) -> str:
    """The CloudWatch log group name a function's logs go to, as AWS names it."""
    return f"/aws/lambda/{function_name}"


def log_key(account_id: str, region: str, function_name: str) -> str:
    """Where a function's log group keeps its lines in the store: per account and region,
    as CloudWatch Logs scopes groups (sendoff.services.logs.model.lines_key)."""
    return lines_key(Scope(account_id=account_id, region=region), log_group(function_name))


def spec_for(resolved: Resolved) -> FunctionSpec:
    config = resolved.config
    return FunctionSpec(
        account_id=resolved.scope.account_id,
        region=resolved.scope.region,
        function_name=config.name,
        function_arn=resolved.unqualified_arn,
        version=config.version,
        runtime=config.runtime,
        handler=config.handler,
        code_sha256=config.code_sha256,
        timeout_s=config.timeout_s,
        memory_mb=config.memory_mb,
        environment={**config.environment, **logging_environment(config)},
        revision=config.revision_id,
        reserved_concurrency=resolved.state.reserved_concurrency,
        ephemeral_storage_mb=config.ephemeral_storage_mb,
        log_group=config.log_group,
    )


class Invoker:
    def __init__(self, store: Store, executor: Executor, metrics: Metrics) -> None:
        self.store = store
        self.executor = executor
        self.metrics = metrics
        self.log_writer = LogWriter(store)

    async def run(
        self,
        resolved: Resolved,
        *,
        request_id: str,
        payload: bytes,
        client_context: str | None = None,
        trace_id: str | None = None,
    ) -> InvokeResult:
        """Run once. Raises TooManyRequests when no concurrency is available.

        Counts the AWS per-attempt metrics: Invocations, Errors, Duration, Throttles
        (a throttled request is neither an invocation nor an error)."""
        name = resolved.config.name
        resource = name if resolved.qualifier == "$LATEST" else f"{name}:{resolved.qualifier}"
        reserved = resolved.state.reserved_concurrency
        slot_key = f"concurrency/{resolved.scope.prefix}/{name}"
        holder = f"{request_id}/{random_hex()[:8]}"
        if reserved is not None:
            now = time.time()
            taken = await self.store.acquire_slot(
                slot_key,
                holder=holder,
                limit=reserved,
                now=now,
                expires_at=now + resolved.config.timeout_s + 60,
            )
            if not taken:
                self.metrics.throttles.labels(name, resource).inc()
                raise TooManyRequests("Rate Exceeded.", reason=RESERVED_LIMIT)
        try:
            return await self._run(
                resolved,
                name,
                resource,
                request_id=request_id,
                payload=payload,
                client_context=client_context,
                trace_id=trace_id,
            )
        finally:
            if reserved is not None:
                await self.store.release_slot(slot_key, holder=holder)

    async def _run(
        self,
        resolved: Resolved,
        name: str,
        resource: str,
        *,
        request_id: str,
        payload: bytes,
        client_context: str | None,
        trace_id: str | None,
    ) -> InvokeResult:
        try:
            result = await self.executor.invoke(
                spec_for(resolved),
                InvokeRequest(
                    request_id=request_id,
                    payload=payload,
                    invoked_function_arn=(
                        resolved.unqualified_arn
                        if resolved.qualifier == "$LATEST"
                        else resolved.qualified_arn
                    ),
                    trace_id=trace_id,
                    client_context=client_context,
                ),
            )
        except Throttled as exc:
            self.metrics.throttles.labels(name, resource).inc()
            raise TooManyRequests("Rate Exceeded.", reason=exc.reason, retry_after=1) from exc
        except PackageError as exc:  # a sync caller sees it; an async event retries it
            raise InvalidZipFile(f"Lambda could not unzip the deployment package: {exc}") from exc
        self.metrics.invocations.labels(name, resource).inc()
        self.metrics.duration.labels(name, resource).observe(result.duration_ms)
        if result.function_error:
            self.metrics.errors.labels(name, resource).inc()
        config = resolved.config
        if config.log_format == "JSON":
            lines = json_lines(
                result.log.splitlines(), status=invoke_status(result.error_type),
                system_level=config.system_log_level,
                application_level=config.application_log_level,
            )  # fmt: skip
            result = replace(result, log="".join(f"{line}\n" for line in lines))
        scope = Scope(account_id=resolved.scope.account_id, region=resolved.scope.region)
        await self.save_log(scope, log_group_of(config), result)
        return result

    async def save_log(self, scope: Scope, group: str, result: InvokeResult) -> None:
        """The invocation's lines into its environment's stream of the function's group
        (made on first use, as Lambda does)."""
        now_ms = int(time.time() * 1000)
        lines = [line for line in result.log.splitlines() if line]
        events = [LogEvent(timestamp_ms=now_ms, message=line) for line in lines]
        if events:
            stream = (
                getattr(result, "log_stream", None)
                or time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()) + random_hex()
            )
            await self.log_writer.write(scope, group, stream, events)


def tail(log: str) -> str:
    """The last 4 KB of a log, as X-Amz-Log-Result carries it (before base64)."""
    data = log.encode()
    return data[-TAIL_BYTES:].decode(errors="ignore")
