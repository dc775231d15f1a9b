"""Does a function's resource-based policy let this principal do this? Pure, no I/O.

IAM's rules for one resource policy: the statements whose principal, action, resource and
conditions all match are gathered; an explicit ``Deny`` among them denies, otherwise an
``Allow`` allows, otherwise the request is denied by default.

* Principal: ``"*"`` matches everyone; ``{"Service": s}`` a service principal;
  ``{"AWS": "arn:aws:iam::<acct>:root"}`` (or a bare account id) any principal of that
  account; ``{"AWS": <arn>}`` that IAM user or role (a role also matches its
  ``assumed-role`` sessions). Each value may be a string or a list.
* ``Action`` patterns compare without regard to case, ``Resource`` patterns with it;
  ``*`` matches any run of characters, ``?`` one.
* Conditions: ``StringEquals``/``StringNotEquals``/``StringEqualsIgnoreCase``/
  ``StringLike``/``StringNotLike``/``ArnEquals``/``ArnLike``/``ArnNotEquals``/
  ``ArnNotLike``, each also with ``IfExists``, on the context keys a delivery or call
  carries: ``aws:SourceArn``, ``aws:SourceAccount``, ``aws:PrincipalAccount`` (key names
  compare without regard to case). A key the request does not carry fails a positive
  operator, as in IAM: so ``aws:PrincipalOrgID``, ``lambda:FunctionUrlAuthType`` and
  ``lambda:EventSourceToken`` conditions never match here (sendoff has no organizations,
  function URLs or Alexa). Any other operator does not match either (fail closed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sendoff.model.glob import glob_match
from sendoff.model.json_types import JSON

_ROOT_RE = re.compile(r"arn:aws[a-zA-Z-]*:iam::(\d{12}):root")
_SESSION_RE = re.compile(r"arn:(aws[a-zA-Z-]*):sts::(\d{12}):assumed-role/([^/]+)/.+")


@dataclass(frozen=True, kw_only=True)
class AccessRequest:
    action: str  # lambda:InvokeFunction
    resource: str  # the function ARN as invoked (qualified or not)
    service: str | None = None  # a service principal (sns.amazonaws.com), or
    principal_arn: str | None = None  # an IAM principal (user, role session)
    principal_account: str | None = None
    source_arn: str | None = None
    source_account: str | None = None

    def context(self) -> dict[str, str]:
        values = {
            "aws:sourcearn": self.source_arn,
            "aws:sourceaccount": self.source_account,
            "aws:principalaccount": self.principal_account,
        }
        return {k: v for k, v in values.items() if v is not None}


def allows(statements: Iterable[JSON], request: AccessRequest) -> bool:
    allowed = False
    context = request.context()
    for statement in statements:
        if not isinstance(statement, dict) or not _matches(statement, request, context):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed


def _matches(statement: JSON, request: AccessRequest, context: dict[str, str]) -> bool:
    return (
        _principal_matches(statement.get("Principal"), request)
        and _any(_strings(statement.get("Action")), request.action, fold=True)
        and _any(_strings(statement.get("Resource")), request.resource, fold=False)
        and _conditions_hold(statement.get("Condition"), context)
    )


def _principal_matches(principal: Any, request: AccessRequest) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if request.service is not None:
        return request.service in _strings(principal.get("Service"))
    if request.principal_arn is None:
        return False
    return any(_aws_principal(value, request) for value in _strings(principal.get("AWS")))


def _aws_principal(value: str, request: AccessRequest) -> bool:
    if value == "*":
        return True
    root = _ROOT_RE.fullmatch(value)
    account = root.group(1) if root else value if re.fullmatch(r"\d{12}", value) else None
    if account is not None:
        return account == request.principal_account
    if value == request.principal_arn:
        return True
    session = _SESSION_RE.fullmatch(request.principal_arn or "")
    if session is None:
        return False
    partition, account_id, role = session.groups()
    return re.fullmatch(rf"arn:{partition}:iam::{account_id}:role/(.+/)?{re.escape(role)}",
                        value) is not None  # fmt: skip


def _conditions_hold(condition: Any, context: dict[str, str]) -> bool:
    if condition is None:
        return True
    if not isinstance(condition, dict):
        return False
    for operator, entries in condition.items():
        if not isinstance(entries, dict):
            return False
        for key, expected in entries.items():
            if not _holds(str(operator), context.get(str(key).lower()), _strings(expected)):
                return False
    return True


def _holds(operator: str, actual: str | None, expected: Sequence[str]) -> bool:
    base = operator.removesuffix("IfExists")
    if actual is None:
        return operator.endswith("IfExists") or base in _NEGATED
    if base in ("StringEquals", "ArnEquals"):
        return actual in expected
    if base == "StringEqualsIgnoreCase":
        return actual.lower() in (e.lower() for e in expected)
    if base in ("StringLike", "ArnLike"):
        return _any(expected, actual, fold=False)
    if base in ("StringNotEquals", "ArnNotEquals"):
        return actual not in expected
    if base in ("StringNotLike", "ArnNotLike"):
        return not _any(expected, actual, fold=False)
    return False


_NEGATED = frozenset({"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"})


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def _any(patterns: Sequence[str], value: str, *, fold: bool) -> bool:
    if fold:
        value = value.lower()
    return any(glob_match(p.lower() if fold else p, value) for p in patterns)
