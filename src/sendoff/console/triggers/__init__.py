"""What invokes a function, as its console page lists it ("Triggers").

One module per kind of trigger (``sns``: topic subscriptions, ``events``: rule targets,
``sqs``: event source mappings), each exposing ``SOURCE``, a :class:`TriggerSource`.
:func:`triggers_of` imports every module of this package once and asks each source in
``rank`` order, so a new kind of trigger (S3 bucket notifications, say) is one new module
here and nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from sendoff.console.context import Console


@dataclass(frozen=True, kw_only=True)
class Trigger:
    kind: str  # "SNS topic" | "EventBridge rule" | "S3 bucket" | "SQS queue"
    name: str
    detail: str
    url: str
    mapping: str | None = None  # an event source mapping's UUID (it can be toggled)
    enabled: bool = True
    last_result: str | None = None


class TriggerSource(ABC):
    """One kind of resource that can invoke a function."""

    rank: ClassVar[int]  # position on the function's page

    @abstractmethod
    async def find(self, console: Console, function_name: str, function_arn: str) -> list[Trigger]:
        """The triggers in the console's scope that invoke ``function_name`` (whose
        unqualified ARN is ``function_arn``; a qualified ARN names it too)."""


def names_function(target: str, function_arn: str) -> bool:
    """Whether ``target`` is the function's ARN, unqualified or with a qualifier."""
    return target == function_arn or target.startswith(function_arn + ":")


@cache
def sources() -> tuple[TriggerSource, ...]:
    """Every module's ``SOURCE``, by rank."""
    found: list[TriggerSource] = []
    for info in pkgutil.iter_modules(__path__):
        source = getattr(importlib.import_module(f"{__name__}.{info.name}"), "SOURCE", None)
        if not isinstance(source, TriggerSource):
            raise TypeError(f"{__name__}.{info.name} has no SOURCE (a TriggerSource)")
        found.append(source)
    return tuple(sorted(found, key=lambda s: s.rank))


async def triggers_of(console: Console, function_name: str) -> list[Trigger]:
    """What invokes the function, from every source in turn."""
    arn = console.scope.function_arn(function_name)
    found: list[Trigger] = []
    for source in sources():
        found.extend(await source.find(console, function_name, arn))
    return found
