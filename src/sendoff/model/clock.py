"""Time helpers: timezone-aware UTC, and the timestamp formats AWS uses on the wire."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], float]
"""Returns epoch seconds; injectable so tests control time."""


def system_clock() -> float:
    return time.time()


def iso_lambda(ts: float) -> str:
    """FunctionConfiguration.LastModified: ``2019-11-14T18:16:05.568+0000``."""
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000"


def iso_millis_z(ts: float) -> str:
    """Execution record timestamp: ``2019-11-14T18:16:05.568Z``."""
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def iso_seconds_z(ts: float) -> str:
    """EventBridge envelope time: ``2019-11-14T18:16:05Z``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
