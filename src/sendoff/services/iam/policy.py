"""Identity-policy evaluation: pure, no I/O.

The rules (IAM's, for one principal's identity policies, no resource policies, no
boundaries, no SCPs):

1. Gather every statement whose action and resource match the request.
2. An explicit ``Deny`` among them decides: denied.
3. Otherwise an ``Allow`` among them decides: allowed.
4. Otherwise: denied by default (an implicit deny).

Matching: ``Action``/``NotAction`` are ``service:Action`` patterns, compared without regard
to case; ``Resource``/``NotResource`` are ARN patterns, compared with case. ``*`` matches
any run of characters (``:`` and ``/`` included) and ``?`` one character. Each of these may
be a string or a list; ``Statement`` may be one object or a list.

Conditions are **not evaluated**. A statement with a ``Condition`` that otherwise matches
is listed in :attr:`Decision.unevaluated`, so callers can say so, and is treated so that
the result never grants more than AWS could:

* an ``Allow`` with a condition does not grant (AWS grants only when the condition holds,
  which sendoff cannot tell);
* a ``Deny`` with a condition applies (AWS denies when the condition holds; honouring it
  always may deny more than AWS would, never less).

Both fail closed: a policy that relies on conditions is refused visibly rather than
trusted silently. See docs/iam.md.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sendoff.model.glob import glob_match

__all__ = [
    "Decision",
    "Effect",
    "Policy",
    "Statement",
    "Verdict",
    "evaluate",
    "parse_policy",
]


class Effect(enum.StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


class Verdict(enum.StrEnum):
    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicit-deny"
    IMPLICIT_DENY = "implicit-deny"


@dataclass(frozen=True, kw_only=True)
class Statement:
    effect: Effect
    label: str  # "<policy name> statement <n>" or "... (Sid X)": how reports name it
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] | None = None  # None: the statement uses Action
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] | None = None  # None: the statement uses Resource
    has_condition: bool = False

    def matches(self, action: str, resource: str) -> bool:
        if self.not_actions is not None:
            action_ok = not _any_match(self.not_actions, action, fold=True)
        else:
            action_ok = _any_match(self.actions, action, fold=True)
        if not action_ok:
            return False
        if self.not_resources is not None:
            return not _any_match(self.not_resources, resource, fold=False)
        return _any_match(self.resources, resource, fold=False)


@dataclass(frozen=True, kw_only=True)
class Policy:
    name: str
    statements: tuple[Statement, ...]


@dataclass(frozen=True, kw_only=True)
class Decision:
    verdict: Verdict
    deciding: str | None = None  # label of the statement that allowed or explicitly denied
    unevaluated: tuple[str, ...] = field(default=())  # matched statements with a Condition

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOWED


def evaluate(policies: Iterable[Policy], action: str, resource: str) -> Decision:
    """May a principal holding ``policies`` perform ``action`` on ``resource``?"""
    allow: str | None = None
    deny: str | None = None
    unevaluated: list[str] = []
    for policy in policies:
        for statement in policy.statements:
            if not statement.matches(action, resource):
                continue
            if statement.has_condition:
                unevaluated.append(statement.label)
                if statement.effect is Effect.ALLOW:
                    continue  # an Allow whose condition is unknown grants nothing
            if statement.effect is Effect.DENY:
                deny = deny or statement.label
            else:
                allow = allow or statement.label
    reported = tuple(unevaluated)
    if deny is not None:
        return Decision(verdict=Verdict.EXPLICIT_DENY, deciding=deny, unevaluated=reported)
    if allow is not None:
        return Decision(verdict=Verdict.ALLOWED, deciding=allow, unevaluated=reported)
    return Decision(verdict=Verdict.IMPLICIT_DENY, unevaluated=reported)


def parse_policy(name: str, document: dict[str, Any]) -> Policy:
    """A policy from a document already checked by :func:`.documents.check_identity_policy`."""
    raw = document.get("Statement")
    items: Sequence[Any] = raw if isinstance(raw, list) else [raw]
    statements = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            continue
        sid = item.get("Sid")
        label = f"{name} statement {number}" + (f" (Sid {sid})" if sid else "")
        statements.append(
            Statement(
                effect=Effect.DENY if item.get("Effect") == "Deny" else Effect.ALLOW,
                label=label,
                actions=_strings(item.get("Action")),
                not_actions=_strings(item["NotAction"]) if "NotAction" in item else None,
                resources=_strings(item.get("Resource")),
                not_resources=_strings(item["NotResource"]) if "NotResource" in item else None,
                has_condition=bool(item.get("Condition")),
            )
        )
    return Policy(name=name, statements=tuple(statements))


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value if isinstance(v, str))


def _any_match(patterns: Sequence[str], value: str, *, fold: bool) -> bool:
    """Actions compare case-insensitively, resources exactly; wildcards never backtrack
    (model.glob: a statement like ``*a*a*a*...b`` costs pattern times value length)."""
    if fold:
        value = value.lower()
    return any(glob_match(p.lower() if fold else p, value) for p in patterns)
