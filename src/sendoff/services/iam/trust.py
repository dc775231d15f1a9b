"""Trust-policy evaluation for STS ``AssumeRole``: may this principal assume this role?

Pure, no I/O. The role's trust policy (``AssumeRolePolicyDocument``) is a resource policy
whose statements name principals. A statement applies to a caller when its action matches
``sts:AssumeRole`` and its ``Principal`` names the caller:

* ``"*"`` or ``{"AWS": "*"}``: anyone;
* ``{"AWS": "<account>"}`` or ``{"AWS": "arn:aws:iam::<account>:root"}``: any principal of
  that account (on AWS the account's own policies must then allow it too; sendoff does not
  authorize callers by identity policy, so the account's principals are let through);
* ``{"AWS": "arn:aws:iam::<account>:user/<name>"}``: that user;
* ``{"AWS": "arn:aws:iam::<account>:role/<name>"}``: sessions of that role
  (``arn:aws:sts::<account>:assumed-role/<name>/<session>``);
* ``Service`` and ``Federated`` principals never name an API caller.

``NotPrincipal`` names everyone but the listed principals. An explicit ``Deny`` that applies
wins; otherwise an ``Allow`` allows; otherwise the caller is denied. As for identity
policies (:mod:`.policy`), conditions are not evaluated and fail closed: an ``Allow`` with a
``Condition`` grants nothing, a ``Deny`` with one applies.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sendoff.services.iam.policy import _any_match, _strings

ASSUME_ROLE = "sts:AssumeRole"


def caller_principals(caller_arn: str, account_id: str) -> tuple[str, ...]:
    """The principal ARNs a caller matches: itself, and for an assumed-role session the
    role it is a session of."""
    names = [caller_arn]
    prefix = f"arn:aws:sts::{account_id}:assumed-role/"
    if caller_arn.startswith(prefix):
        role_name = caller_arn[len(prefix) :].split("/", 1)[0]
        names.append(f"arn:aws:iam::{account_id}:role/{role_name}")
    return tuple(names)


def _names_caller(principal: Any, caller_arn: str, account_id: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    listed = _strings(principal.get("AWS"))
    mine = caller_principals(caller_arn, account_id)
    for entry in listed:
        if entry == "*" or entry == account_id or entry == f"arn:aws:iam::{account_id}:root":
            return True
        if entry in mine:
            return True
        if entry.startswith("arn:aws:iam::") and ":role/" in entry:
            # a role ARN with a path names the same role as its sessions' ARN (no path)
            role_account = entry.split(":")[4]
            role_name = entry.rsplit("/", 1)[-1]
            if f"arn:aws:iam::{role_account}:role/{role_name}" in mine:
                return True
    return False


def trust_allows(trust_policy: str, *, caller_arn: str, caller_account: str) -> bool:
    """Whether the trust policy lets the caller ``sts:AssumeRole`` the role."""
    try:
        document = json.loads(trust_policy)
    except ValueError:
        return False
    if not isinstance(document, dict):
        return False
    raw = document.get("Statement")
    items: Sequence[Any] = raw if isinstance(raw, list) else [raw]
    allowed = False
    for item in items:
        if not isinstance(item, dict):
            continue
        if "NotAction" in item:
            action_ok = not _any_match(_strings(item["NotAction"]), ASSUME_ROLE, fold=True)
        else:
            action_ok = _any_match(_strings(item.get("Action")), ASSUME_ROLE, fold=True)
        if not action_ok:
            continue
        if "NotPrincipal" in item:
            applies = not _names_caller(item["NotPrincipal"], caller_arn, caller_account)
        else:
            applies = _names_caller(item.get("Principal"), caller_arn, caller_account)
        if not applies:
            continue
        if item.get("Effect") == "Deny":
            return False  # an explicit deny wins, conditional or not
        if not item.get("Condition"):
            allowed = True
    return allowed
