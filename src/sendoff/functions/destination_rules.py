"""What EventInvokeConfig validation needs from a destination kind, as a protocol.

The kinds live above this package (:mod:`sendoff.destinations.kinds`); the composition root
hands :class:`~sendoff.functions.event_config.EventConfigs` a lookup from an ARN's service
to its rules (``sendoff.destinations.registry.kind_for``), so ``functions/`` never imports
``destinations/``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, kw_only=True)
class Origin:
    """The function whose EventInvokeConfig names the destination."""

    account_id: str
    region: str
    function_name: str
    # (account_id, region, name, qualifier) -> does that function exist?
    function_exists: Callable[[str, str, str, str], Awaitable[bool]]


class DestinationRules(Protocol):
    @property
    def iam_action(self) -> str:
        """What the execution role must allow to send to it ("sqs:SendMessage")."""

    @property
    def operation(self) -> str:
        """The operation IAM refusals name ("SendMessage")."""

    @property
    def on_failure_only(self) -> bool:
        """Whether it may only be an OnFailure destination (an S3 bucket)."""

    def iam_resource(self, arn: str, function_name: str) -> str:
        """What the execution role must be allowed to act on to deliver to ``arn``."""

    async def validate_arn(self, arn: str, origin: Origin) -> str | None:
        """Why ``arn`` cannot be the destination (the InvalidParameterValue message)."""


# an ARN's service -> its destination rules, or None when it cannot be a destination
DestinationLookup = Callable[[str], DestinationRules | None]
