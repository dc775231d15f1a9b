"""The one name for a parsed JSON object, used across the tree (issue 13)."""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]
"""A JSON object as ``json.loads`` gives it (keys are strings, values anything JSON)."""
