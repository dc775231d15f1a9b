"""What a destination kind is: the one class a new kind of destination implements.

A *destination kind* is a kind of resource that can receive an asynchronous invocation's
execution record (``DestinationConfig``) — an SQS queue, an SNS topic, a Lambda function, an
EventBridge bus. Each is one module in :mod:`sendoff.destinations.kinds` exposing ``KIND``, an
instance of a :class:`DestinationKind` subclass. Everything that differs per kind lives there:

* ``service`` — the ARN's service; also the delivery scheme its records go out under;
* :meth:`~DestinationKind.validate_arn` — the extra checks PutFunctionEventInvokeConfig makes;
* :meth:`~DestinationKind.build_payload` — the delivery payload of one execution record;
* ``label`` / ``with_article`` / :meth:`~DestinationKind.console_link` — how the console names
  it and where its page is; :meth:`~DestinationKind.console_choices` and
  :meth:`~DestinationKind.console_exists` — the existing resources the console's destination
  picker suggests, and whether an ARN names one (optional: by default none, and "cannot tell");
* ``sam`` — its ``Type`` in a SAM ``EventInvokeConfig`` and the policy SAM adds;
* ``iam_action`` / ``operation`` — what the execution role must allow to send to it;
* ``on_failure_only`` — refused as an OnSuccess destination (S3);
* :meth:`~DestinationKind.transport` — how it is delivered, looked up from the services.

:mod:`sendoff.destinations.registry` finds the kinds and checks at start-up that each one is
complete and has a transport, so a missing piece fails ``build_services``, not a delivery.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from sendoff.functions.destination_rules import Origin
from sendoff.model.arn import Arn

__all__ = [
    "BuiltServices", "DestinationKind", "EventInvoker", "Origin", "RecordSend", "SamAutoCreate",
    "SamType",
]  # fmt: skip

if TYPE_CHECKING:
    from sendoff.delivery.outbox import Transport
    from sendoff.functions.registry import FunctionRegistry
    from sendoff.model.scope import Scope
    from sendoff.services.events.service import EventBusService
    from sendoff.services.s3.service import S3Service
    from sendoff.services.sns.service import TopicService
    from sendoff.services.sqs.service import QueueService


class EventInvoker(Protocol):
    """Accepts an asynchronous (Event) invoke: ``AsyncInvocations``."""

    async def invoke_event(
        self, function_arn: str, payload: bytes, *, trace_header: str | None = None
    ) -> str: ...


class BuiltServices(Protocol):
    """What a kind's transport (and its console listing) may be built from
    (``sendoff.wiring.services.Services``)."""

    @property
    def registry(self) -> FunctionRegistry: ...
    @property
    def queues(self) -> QueueService | None: ...
    @property
    def topics(self) -> TopicService | None: ...
    @property
    def buses(self) -> EventBusService | None: ...
    @property
    def lambda_async(self) -> EventInvoker | None: ...
    @property
    def objects(self) -> S3Service | None: ...


@dataclass(frozen=True, kw_only=True)
class RecordSend:
    """One execution record on its way to a destination (for build_payload)."""

    record: dict[str, Any]
    body: str  # the record as compact JSON
    success: bool
    destination: str
    function_arn: str
    trace_header: str | None


@dataclass(frozen=True, kw_only=True)
class SamAutoCreate:
    """A SAM destination of this Type without ``Destination`` creates this resource."""

    resource_type: str  # "AWS::SQS::Queue"
    suffix: str  # logical id suffix: "Queue"
    referable: str  # ``Ref: F.<referable>`` names it: "DestinationQueue"
    arn_by: Literal["Ref", "GetAtt"]  # how its ARN is read from the created resource


@dataclass(frozen=True, kw_only=True)
class SamType:
    """The kind in a SAM template: ``EventInvokeConfig.DestinationConfig.*.Type``."""

    name: str  # "SQS"
    action: str  # the policy statement SAM adds to the function's role
    auto_create: SamAutoCreate | None = None


class DestinationKind(ABC):
    """Subclass, set every class attribute, implement every abstract method."""

    service: ClassVar[str]
    label: ClassVar[str]  # "SQS queue"
    with_article: ClassVar[str]  # "an SQS queue"
    rank: ClassVar[int]  # position in the console's type picker
    iam_action: ClassVar[str]  # "sqs:SendMessage"
    operation: ClassVar[str]  # "SendMessage", as IAM refusals name it
    sam: ClassVar[SamType]
    dead_letter: ClassVar[bool] = False  # may also be a DeadLetterConfig target
    on_failure_only: ClassVar[bool] = False  # refused as OnSuccess (S3)

    REQUIRED: ClassVar[tuple[str, ...]] = (
        "service", "label", "with_article", "rank", "iam_action", "operation", "sam",
    )  # fmt: skip

    @abstractmethod
    async def validate_arn(self, arn: str, origin: Origin) -> str | None:
        """Why ``arn`` cannot be this function's destination (the message of an
        InvalidParameterValueException), or None when it can."""

    @abstractmethod
    def build_payload(self, send: RecordSend) -> dict[str, Any]:
        """The delivery payload that carries ``send.record`` to ``send.destination``."""

    def iam_resource(self, arn: str, function_name: str) -> str:
        """The resource the execution role must be allowed to act on to deliver the
        records of ``function_name`` to ``arn``: the ARN itself unless a kind says
        otherwise (an S3 bucket: the object Lambda puts)."""
        return arn

    @abstractmethod
    def console_link(self, arn: str, parsed: Arn) -> tuple[str, str | None]:
        """The name the console shows for ``arn`` and the path of its console page."""

    @abstractmethod
    def transport(self, services: BuiltServices) -> Transport | None:
        """The delivery transport for ``service``, from the built services."""

    def dead_letter_payload(
        self, event_payload: str, attributes: dict[str, dict[str, str]]
    ) -> dict[str, Any]:
        """The payload of a dead-letter message (kinds with ``dead_letter = True``)."""
        raise NotImplementedError(f"{self.service} is not a dead-letter target")

    async def console_choices(self, services: BuiltServices, scope: Scope) -> list[str]:
        """The ARNs of this kind's resources in ``scope``, which the console's destination
        picker suggests; none for a kind that does not list them."""
        return []

    async def console_exists(
        self, services: BuiltServices, scope: Scope, arn: str, parsed: Arn
    ) -> bool | None:
        """Whether ``arn``, in ``scope``, names an existing resource (the console warns
        when it does not); None when the kind cannot tell."""
        return None
