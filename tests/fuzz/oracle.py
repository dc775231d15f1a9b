"""What every answer must be, whatever was asked: no 5xx, and an AWS-shaped body.

:func:`check` returns a problem (a string) or ``None``; :class:`Tally` counts requests and
problems per service and operation for the run's summary.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from xml.etree import ElementTree

import httpx

from tests.fuzz.model import Operation


def error_code(protocol: str, response: httpx.Response) -> str | None:
    """The AWS error code of an error answer, read as the SDKs read it; None if unreadable."""
    try:
        if protocol == "query":
            root = ElementTree.fromstring(response.content)
            node = root.find(".//{*}Error/{*}Code")
            return None if node is None or not node.text else node.text
        body = json.loads(response.content)
        if not isinstance(body, dict):
            return None
        if protocol == "rest-json":
            header = response.headers.get("x-amzn-errortype", "")
            code = header.split(":", 1)[0] or body.get("__type") or body.get("code")
        else:
            code = body.get("__type") or body.get("code")
        return str(code).rsplit("#", 1)[-1] if code else None
    except (ValueError, ElementTree.ParseError):
        return None


def body_parses(protocol: str, response: httpx.Response) -> bool:
    if not response.content:
        return True
    try:
        if protocol == "query":
            ElementTree.fromstring(response.content)
        else:
            json.loads(response.content)
    except (ValueError, ElementTree.ParseError):
        return False
    return True


def check(op: Operation, response: httpx.Response, *, raw_body: bool = False) -> str | None:
    if response.status_code >= 500:
        return f"{response.status_code}: {response.text[:300]}"
    if response.status_code >= 400:
        code = error_code(op.protocol, response)
        if code is None:
            return f"{response.status_code} with an unreadable error body: {response.text[:300]!r}"
        if code not in op.allowed_errors:
            return (
                f"{response.status_code} {code} is not an error of {op.name}: {response.text[:200]}"
            )
        return None
    if op.name in ("Invoke", "InvokeAsync"):
        return None  # the function's own output
    if not body_parses(op.protocol, response):
        return f"{response.status_code} with a body that does not parse: {response.text[:300]!r}"
    return None


@dataclass
class Tally:
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    accepted_events: list[str] = field(default_factory=list)
    health_ms: list[float] = field(default_factory=list)

    def record(self, op: Operation, response: httpx.Response, problem: str | None,
               detail: str = "") -> None:  # fmt: skip
        self.requests[op.service] += 1
        self.statuses[(op.service, response.status_code)] += 1
        if problem:
            self.problems.append(f"{op.service}.{op.name} [{detail}]: {problem}")

    def summary(self) -> str:
        lines = ["sendoff fuzz: requests per service"]
        for service, count in sorted(self.requests.items()):
            codes = {s: n for (svc, s), n in sorted(self.statuses.items()) if svc == service}
            lines.append(f"  {service:7} {count:6}  statuses {codes}")
        five = sum(n for (_, s), n in self.statuses.items() if s >= 500)
        lines.append(f"  total {sum(self.requests.values())}, 5xx {five}, "
                     f"problems {len(self.problems)}, event invokes accepted "
                     f"{len(self.accepted_events)}")  # fmt: skip
        if self.health_ms:
            lines.append(f"  health checks {len(self.health_ms)}, slowest "
                         f"{max(self.health_ms):.1f} ms")  # fmt: skip
        return "\n".join(lines)


TALLY = Tally()  # the whole run's figures (printed by conftest's terminal summary)
