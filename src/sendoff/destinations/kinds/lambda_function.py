"""Lambda functions as destinations: an asynchronous invoke with the record as payload,
keeping the trace header so the recursion lineage follows the record (facts §5, §7.2).

A function cannot be its own destination, and the destination function must exist when
the config is put (its qualifier, or ``$LATEST``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sendoff.delivery.outbox import DeliveryError
from sendoff.destinations.kind import DestinationKind, EventInvoker, Origin, RecordSend, SamType
from sendoff.functions.errors import ResourceNotFound
from sendoff.model.arn import Arn, parse_function_name
from sendoff.model.function import LATEST

if TYPE_CHECKING:
    from sendoff.delivery.outbox import Transport
    from sendoff.destinations.kind import BuiltServices
    from sendoff.model.scope import Scope


class LambdaTransport:
    """The ``lambda`` delivery transport: an Event invoke of the target function."""

    def __init__(self, invoker: EventInvoker) -> None:
        self.invoker = invoker

    async def deliver(self, target: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        try:
            request_id = await self.invoker.invoke_event(
                target, payload["payload"].encode(), trace_header=payload.get("trace_header")
            )
        except ResourceNotFound as exc:
            raise DeliveryError(str(exc), retryable=False) from exc
        return {"request_id": request_id}


class LambdaKind(DestinationKind):
    service = "lambda"
    label = "Lambda function"
    with_article = "a Lambda function"
    rank = 30
    iam_action = "lambda:InvokeFunction"
    operation = "InvokeFunction"
    sam = SamType(name="Lambda", action="lambda:InvokeFunction")

    async def validate_arn(self, arn: str, origin: Origin) -> str | None:
        ref = parse_function_name(arn)
        if ref is None:
            return f"The destination ARN {arn} is invalid."
        if ref.name == origin.function_name and (ref.account_id, ref.region) == (
            origin.account_id,
            origin.region,
        ):
            return "You can't specify the function as a destination for itself."
        exists = await origin.function_exists(
            ref.account_id or origin.account_id,
            ref.region or origin.region,
            ref.name,
            ref.qualifier or LATEST,
        )
        return None if exists else f"The destination ARN {arn} is invalid."

    def build_payload(self, send: RecordSend) -> dict[str, Any]:
        return {"payload": send.body, "trace_header": send.trace_header}

    def console_link(self, arn: str, parsed: Arn) -> tuple[str, str | None]:
        ref = parse_function_name(arn)
        if ref is None:
            return parsed.resource, None
        name = f"{ref.name}:{ref.qualifier}" if ref.qualifier else ref.name
        return name, f"/console/functions/{quote(ref.name, safe='')}"

    async def console_choices(self, services: BuiltServices, scope: Scope) -> list[str]:
        states, _ = await services.registry.list_functions(scope, marker=None, limit=1000)
        return [scope.function_arn(state.latest.name) for state in states]

    async def console_exists(
        self, services: BuiltServices, scope: Scope, arn: str, parsed: Arn
    ) -> bool | None:
        try:
            await services.registry.resolve(scope, arn)
        except ResourceNotFound:
            return False
        return True

    def transport(self, services: BuiltServices) -> Transport | None:
        invoker = services.lambda_async
        return None if invoker is None else LambdaTransport(invoker)


KIND = LambdaKind()
