"""Trust-policy evaluation for AssumeRole (sendoff.services.iam.trust), table-tested."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sendoff.services.iam.trust import trust_allows

A = "111111111111"
USER = f"arn:aws:iam::{A}:user/alice"
SESSION = f"arn:aws:sts::{A}:assumed-role/deployer/ci"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(principal: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}


@pytest.mark.parametrize(
    ("document", "caller", "expected"),
    [
        (policy(allow("*")), USER, True),
        (policy(allow({"AWS": "*"})), USER, True),
        (policy(allow({"AWS": A})), USER, True),
        (policy(allow({"AWS": f"arn:aws:iam::{A}:root"})), USER, True),
        (policy(allow({"AWS": "222222222222"})), USER, False),
        (policy(allow({"AWS": [USER]})), USER, True),
        (policy(allow({"AWS": f"arn:aws:iam::{A}:user/bob"})), USER, False),
        (policy(allow({"AWS": f"arn:aws:iam::{A}:role/deployer"})), SESSION, True),
        (policy(allow({"AWS": f"arn:aws:iam::{A}:role/team/deployer"})), SESSION, True),
        (policy(allow({"AWS": f"arn:aws:iam::{A}:role/other"})), SESSION, False),
        (policy(allow({"Service": "lambda.amazonaws.com"})), USER, False),
        (policy({**allow("*"), "Action": "sts:TagSession"}), USER, False),
        (policy({**allow("*"), "Action": "sts:*"}), USER, True),
        (policy(allow("*"), {**allow({"AWS": USER}), "Effect": "Deny"}), USER, False),
        (policy(allow("*", Condition={"StringEquals": {"sts:ExternalId": "x"}})), USER, False),
        (
            policy(
                allow("*"),
                {
                    **allow({"AWS": USER}),
                    "Effect": "Deny",
                    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
                },
            ),
            USER,
            False,
        ),
        (
            policy({"Effect": "Allow", "NotPrincipal": {"AWS": USER}, "Action": "sts:AssumeRole"}),
            USER,
            False,
        ),
        ("not json", USER, False),
    ],
)
def test_trust_allows(document: str, caller: str, expected: bool) -> None:
    assert trust_allows(document, caller_arn=caller, caller_account=A) is expected
