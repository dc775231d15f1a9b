"""Which capabilities a template needs, as CloudFormation decides it (pure).

* ``CAPABILITY_IAM``: the template creates IAM resources;
* ``CAPABILITY_NAMED_IAM``: one of them has a custom name (``RoleName``, ...);
* ``CAPABILITY_AUTO_EXPAND``: CreateStack / UpdateStack of a template with a transform
  (a change set expands transforms without it, as AWS allows).

A missing one is AWS's ``InsufficientCapabilitiesException``:
``Requires capabilities : [CAPABILITY_IAM]``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sendoff.model.json_types import JSON

IAM = "CAPABILITY_IAM"
NAMED_IAM = "CAPABILITY_NAMED_IAM"
AUTO_EXPAND = "CAPABILITY_AUTO_EXPAND"
KNOWN = frozenset({IAM, NAMED_IAM, AUTO_EXPAND})

# IAM resource types and the property that gives each a custom name
IAM_TYPES: Mapping[str, str | None] = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::Policy": None,
    "AWS::IAM::AccessKey": None,
    "AWS::IAM::UserToGroupAddition": None,
}


def required(processed: JSON, *, transformed: bool, change_set: bool) -> list[str]:
    """The capabilities a (processed) template needs, in AWS's order."""
    need: list[str] = []
    named = False
    iam = False
    for resource in (processed.get("Resources") or {}).values():
        if not isinstance(resource, dict) or resource.get("Type") not in IAM_TYPES:
            continue
        iam = True
        prop = IAM_TYPES[str(resource["Type"])]
        if prop and (resource.get("Properties") or {}).get(prop) is not None:
            named = True
    if named:
        need.append(NAMED_IAM)
    elif iam:
        need.append(IAM)
    if transformed and not change_set:
        need.append(AUTO_EXPAND)
    return need


def missing(need: Iterable[str], given: Iterable[str]) -> list[str]:
    """What ``need`` asks for that ``given`` lacks (NAMED_IAM also grants IAM)."""
    have = set(given)
    if NAMED_IAM in have:
        have.add(IAM)
    return [c for c in need if c not in have]


def message(missing_capabilities: Iterable[str]) -> str:
    return f"Requires capabilities : [{', '.join(missing_capabilities)}]"
