"""Policy documents as IAM accepts them: JSON text in, a checked dict out.

Messages are IAM's. "This policy contains invalid Json" is recorded from AWS (localstack's
IAM snapshots); the others are the texts IAM's validator returns as moto reproduces them
(getmoto/moto ``moto/iam/policy_validation.py``), not recorded here.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sendoff.services.iam.errors import MalformedPolicyDocument

_VERSIONS = ("2008-10-17", "2012-10-17")
_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
     "NotResource", "Condition"}
)  # fmt: skip
_ACTION_RE = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$")


def load_document(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except (ValueError, TypeError) as exc:
        raise MalformedPolicyDocument("This policy contains invalid Json") from exc
    if not isinstance(document, dict):
        raise MalformedPolicyDocument("This policy contains invalid Json")
    return document


def check_identity_policy(text: str) -> dict[str, Any]:
    """A permissions policy (inline or managed): no Principal, actions and resources."""
    document = load_document(text)
    statements = _statements(document)
    for statement in statements:
        if "Principal" in statement or "NotPrincipal" in statement:
            raise MalformedPolicyDocument("Policy document should not specify a principal.")
        if "Action" not in statement and "NotAction" not in statement:
            raise MalformedPolicyDocument("Policy statement must contain actions.")
        if "Resource" not in statement and "NotResource" not in statement:
            raise MalformedPolicyDocument("Policy statement must contain resources.")
        for key in ("Action", "NotAction"):
            for action in _as_list(statement.get(key)):
                _check_action(action)
        for key in ("Resource", "NotResource"):
            for resource in _as_list(statement.get(key)):
                if resource != "*" and not str(resource).startswith("arn:"):
                    raise MalformedPolicyDocument(
                        f'Resource {resource} must be in ARN format or "*".'
                    )
    return document


def check_trust_policy(text: str) -> dict[str, Any]:
    """An AssumeRolePolicyDocument: sts actions only, no Resource."""
    document = load_document(text)
    for statement in _statements(document):
        if "Resource" in statement or "NotResource" in statement:
            raise MalformedPolicyDocument("Has prohibited field Resource")
        for action in _as_list(statement.get("Action")):
            if not str(action).lower().startswith("sts:") and action != "*":
                raise MalformedPolicyDocument(
                    "AssumeRole policy may only specify STS AssumeRole actions."
                )
    return document


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    version = document.get("Version")
    if version is not None and version not in _VERSIONS:
        raise MalformedPolicyDocument("Policy document must be version 2012-10-17 or greater.")
    if set(document) - {"Version", "Id", "Statement"} or "Statement" not in document:
        raise MalformedPolicyDocument("Syntax errors in policy.")
    raw = document["Statement"]
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise MalformedPolicyDocument("Syntax errors in policy.")
    for item in items:
        if not isinstance(item, dict) or set(item) - _STATEMENT_KEYS:
            raise MalformedPolicyDocument("Syntax errors in policy.")
        if item.get("Effect") not in ("Allow", "Deny"):
            raise MalformedPolicyDocument("Syntax errors in policy.")
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            value = item.get(key)
            if value is not None and not _is_strings(value):
                raise MalformedPolicyDocument("Syntax errors in policy.")
    return items


def _check_action(action: str) -> None:
    if action == "*":
        return
    if ":" not in action:
        raise MalformedPolicyDocument(
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
        )
    if not _ACTION_RE.match(action):
        vendor = action.split(":", 1)[0]
        raise MalformedPolicyDocument(f"Vendor {vendor} is not valid")


def _is_strings(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
