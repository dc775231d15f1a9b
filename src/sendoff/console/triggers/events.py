"""EventBridge rules with a target naming the function, on any bus of the scope."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from sendoff.console.triggers import Trigger, TriggerSource, names_function

if TYPE_CHECKING:
    from sendoff.console.context import Console


class RuleTargets(TriggerSource):
    rank = 20

    async def find(self, console: Console, function_name: str, function_arn: str) -> list[Trigger]:
        buses = console.services.buses
        if buses is None:
            return []
        scope = console.scope
        found: list[Trigger] = []
        for bus in (await buses.list_event_buses(scope)).items:
            for rule in await buses.repo.rules_of(scope, bus.name):
                if any(names_function(t.arn, function_arn) for t in rule.targets):
                    found.append(Trigger(
                        kind="EventBridge rule", name=rule.name,
                        detail=f"on bus {bus.name}" + (
                            "" if rule.state.value == "ENABLED" else f" ({rule.state.value})"
                        ),
                        url=f"/console/buses/{quote(bus.name, safe='')}#rule-{rule.name}",
                    ))  # fmt: skip
        return found


SOURCE = RuleTargets()
