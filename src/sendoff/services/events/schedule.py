"""``ScheduleExpression`` syntax: ``rate(value unit)`` and ``cron(6 fields)``.

Scheduled rules are stored and described but do not fire yet (see docs/events.md).
"""

from __future__ import annotations

import re
from typing import Final

from sendoff.services.events.errors import ValidationFailed

_RATE: Final = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")
_CRON: Final = re.compile(r"cron\(([^()]+)\)")


def check_schedule_expression(expression: str) -> None:
    """Raise :class:`ValidationFailed` unless ``expression`` is a rate or cron expression."""
    if match := _RATE.fullmatch(expression.strip()):
        value, unit = int(match.group(1)), match.group(2)
        plural = unit.endswith("s")
        if (value == 1 and not plural) or (value > 1 and plural):
            return
    elif (match := _CRON.fullmatch(expression.strip())) and len(match.group(1).split()) == 6:
        return
    raise ValidationFailed("Parameter ScheduleExpression is not valid.")
