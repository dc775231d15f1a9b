"""``ScheduleExpression`` syntax: ``rate(value unit)`` and ``cron(6 fields)``.

Scheduled rules are stored and described but do not fire yet (see docs/events.md).
"""

from __future__ import annotations

import re
from typing import Final

from sendoff.model.digits import is_digits
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
    elif (match := _CRON.fullmatch(expression.strip())) and _cron_ok(match.group(1).split()):
        return
    raise ValidationFailed("Parameter ScheduleExpression is not valid.")


_MONTHS: Final = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV",
                  "DEC")  # fmt: skip
_DAYS: Final = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# (low, high, names, extra forms allowed) per field, from the EventBridge user guide's
# "Cron expressions" table: minutes, hours, day-of-month, month, day-of-week, year.
_FIELDS: Final = (
    (0, 59, (), ""),
    (0, 23, (), ""),
    (1, 31, (), "?LW"),
    (1, 12, _MONTHS, ""),
    (1, 7, _DAYS, "?L#"),
    (1970, 2199, (), ""),
)


def _cron_ok(fields: list[str]) -> bool:
    """Six fields, each within its range; one of day-of-month and day-of-week is ``?``."""
    if len(fields) != 6:
        return False
    if (fields[2] == "?") == (fields[4] == "?"):
        return False
    return all(_field_ok(f, *spec) for f, spec in zip(fields, _FIELDS, strict=True))


def _field_ok(text: str, low: int, high: int, names: tuple[str, ...], extra: str) -> bool:
    def value(token: str) -> int | None:
        if token.upper() in names:
            return names.index(token.upper()) + 1
        if not is_digits(token):
            return None
        number = int(token)
        return number if low <= number <= high else None

    if text == "?":
        return "?" in extra
    for item in text.split(","):
        if "L" in extra and (item == "L" or (item.endswith("L") and value(item[:-1]))):
            continue
        if "W" in extra and item.endswith("W") and value(item[:-1]) is not None:
            continue
        if "#" in extra and "#" in item:
            day, _, nth = item.partition("#")
            if value(day) is None or nth not in ("1", "2", "3", "4", "5"):
                return False
            continue
        base, slash, step = item.partition("/")
        if slash and (not is_digits(step) or int(step) < 1):
            return False
        if base == "*":
            continue
        start, dash, end = base.partition("-")
        if value(start) is None or (dash and value(end) is None):
            return False
    return True
