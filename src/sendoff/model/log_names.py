"""Where CloudWatch Logs keeps things, by account and region: store keys and ARNs.

A log group's lines live in the store's log table under ``<account>:<region>:<group>``
(:func:`lines_key`); its description (creation time, retention, tags) is the ``log-group``
document ``<account>/<region>/<group>``; a stream made by ``CreateLogStream`` is the
``log-stream`` document ``<account>/<region>/<group>:<stream>`` (group names cannot hold
a ``:``). Streams that functions log to need no document: their lines describe them.
Used by the functions that log (sendoff.functions.log_writer) and the Logs service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

GROUP_KIND: Final = "log-group"
STREAM_KIND: Final = "log-stream"


@dataclass(frozen=True, kw_only=True)
class Scope:
    account_id: str
    region: str

    @property
    def doc_prefix(self) -> str:
        return f"{self.account_id}/{self.region}/"


def lines_key(scope: Scope, group: str) -> str:
    """Where a group's lines live in the store's log table."""
    return f"{scope.account_id}:{scope.region}:{group}"


def group_doc_key(scope: Scope, group: str) -> str:
    return f"{scope.doc_prefix}{group}"


def stream_doc_key(scope: Scope, group: str, stream: str) -> str:
    return f"{scope.doc_prefix}{group}:{stream}"


def group_arn(scope: Scope, group: str) -> str:
    return f"arn:aws:logs:{scope.region}:{scope.account_id}:log-group:{group}"


def stream_arn(scope: Scope, group: str, stream: str) -> str:
    return f"{group_arn(scope, group)}:log-stream:{stream}"
