"""The pure parts of function resource policies: the statement AddPermission builds
(functions.policy_statement) and the evaluation of a policy (functions.policy_eval)."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest

from sendoff.functions.errors import InvalidParameterValue
from sendoff.functions.policy_eval import AccessRequest, allows, glob_match
from sendoff.functions.policy_statement import (
    BAD_PRINCIPAL,
    PermissionInput,
    build_statement,
    principal_element,
)

FN = "arn:aws:lambda:us-east-1:111111111111:function:f"
TOPIC = "arn:aws:sns:us-east-1:111111111111:t"


@pytest.mark.parametrize(
    ("principal", "element"),
    [
        ("*", "*"),
        ("s3.amazonaws.com", {"Service": "s3.amazonaws.com"}),
        ("alexa-appkit.amazon.com", {"Service": "alexa-appkit.amazon.com"}),
        ("222222222222", {"AWS": "arn:aws:iam::222222222222:root"}),
        ("arn:aws:iam::222222222222:user/bob", {"AWS": "arn:aws:iam::222222222222:user/bob"}),
        ("arn:aws:iam::222222222222:role/r", {"AWS": "arn:aws:iam::222222222222:role/r"}),
    ],
)
def test_principal_forms(principal: str, element: Any) -> None:
    assert principal_element(principal) == element


@pytest.mark.parametrize(
    "principal",
    ["invalid.nonaws.com", "bob", "12345", "arn:aws:s3:::bucket", "*.amazonaws.com"],
)
def test_invalid_principals(principal: str) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        principal_element(principal)
    assert info.value.message == BAD_PRINCIPAL


def test_statement_key_order_as_recorded() -> None:
    given = PermissionInput(
        statement_id="urlPermission",
        action="lambda:InvokeFunctionUrl",
        principal="*",
        source_arn="arn:aws:s3:::b",
        source_account="111111111111",
        principal_org_id="o-1234567890",
        function_url_auth_type="NONE",
    )
    text = json.dumps(build_statement(given, FN), separators=(",", ":"))
    assert text == (
        '{"Sid":"urlPermission","Effect":"Allow","Principal":"*",'
        '"Action":"lambda:InvokeFunctionUrl","Resource":"' + FN + '",'
        '"Condition":{"StringEquals":{"AWS:SourceAccount":"111111111111",'
        '"lambda:FunctionUrlAuthType":"NONE","aws:PrincipalOrgID":"o-1234567890"},'
        '"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::b"}}}'
    )


def statement(
    principal: Any,
    *,
    condition: Any = None,
    effect: str = "Allow",
    action: Any = "lambda:InvokeFunction",
    resource: Any = FN,
) -> dict[str, Any]:
    s = {"Sid": "s", "Effect": effect, "Principal": principal, "Action": action}
    s["Resource"] = resource
    if condition is not None:
        s["Condition"] = condition
    return s


SNS = AccessRequest(
    action="lambda:InvokeFunction",
    resource=FN,
    service="sns.amazonaws.com",
    source_arn=TOPIC,
    source_account="111111111111",
)
BOB = AccessRequest(
    action="lambda:InvokeFunction",
    resource=FN,
    principal_arn="arn:aws:iam::222222222222:user/bob",
    principal_account="222222222222",
)
SESSION = AccessRequest(
    action="lambda:InvokeFunction",
    resource=FN,
    principal_arn="arn:aws:sts::222222222222:assumed-role/worker/session-1",
    principal_account="222222222222",
)
SNS_SVC = {"Service": "sns.amazonaws.com"}
ARN_LIKE = {"ArnLike": {"AWS:SourceArn": TOPIC}}

CASES: list[tuple[str, list[dict[str, Any]], AccessRequest, bool]] = [
    ("no statements", [], SNS, False),
    ("service principal", [statement(SNS_SVC)], SNS, True),
    ("another service", [statement({"Service": "events.amazonaws.com"})], SNS, False),
    ("service in a list", [statement({"Service": ["s3.amazonaws.com", "sns.amazonaws.com"]})],
     SNS, True),
    ("wildcard principal", [statement("*")], SNS, True),
    ("source arn matches", [statement(SNS_SVC, condition=ARN_LIKE)], SNS, True),
    ("source arn pattern", [statement(SNS_SVC, condition={"ArnLike": {"aws:sourcearn":
     "arn:aws:sns:us-east-1:111111111111:*"}})], SNS, True),
    ("source arn differs", [statement(SNS_SVC, condition={"ArnLike": {"AWS:SourceArn":
     TOPIC + "-x"}})], SNS, False),
    ("source account", [statement("*", condition={"StringEquals": {"AWS:SourceAccount":
     "111111111111"}})], SNS, True),
    ("source account differs", [statement("*", condition={"StringEquals":
     {"AWS:SourceAccount": "333333333333"}})], SNS, False),
    ("org id never matches", [statement("*", condition={"StringEquals":
     {"aws:PrincipalOrgID": "o-1234567890"}})], SNS, False),
    ("IfExists on an absent key", [statement("*", condition={"StringEqualsIfExists":
     {"lambda:EventSourceToken": "x"}})], SNS, True),
    ("not-equals on an absent key", [statement("*", condition={"StringNotEquals":
     {"lambda:EventSourceToken": "x"}})], SNS, True),
    ("unknown operator", [statement(SNS_SVC, condition={"NumericLessThan": {"x": "1"}})],
     SNS, False),
    ("other action", [statement(SNS_SVC, action="lambda:GetFunction")], SNS, False),
    ("action wildcard, any case", [statement(SNS_SVC, action="LAMBDA:*")], SNS, True),
    ("other resource", [statement(SNS_SVC, resource=FN + ":live")], SNS, False),
    ("resource wildcard", [statement(SNS_SVC, resource=FN + "*")], SNS, True),
    ("explicit deny wins", [statement(SNS_SVC), statement("*", effect="Deny")], SNS, False),
    ("account root", [statement({"AWS": "arn:aws:iam::222222222222:root"})], BOB, True),
    ("bare account id", [statement({"AWS": "222222222222"})], BOB, True),
    ("other account", [statement({"AWS": "arn:aws:iam::333333333333:root"})], BOB, False),
    ("the user", [statement({"AWS": "arn:aws:iam::222222222222:user/bob"})], BOB, True),
    ("another user", [statement({"AWS": "arn:aws:iam::222222222222:user/carol"})], BOB, False),
    ("a service grants no user", [statement(SNS_SVC)], BOB, False),
    ("a user grants no service", [statement({"AWS": "*"})], SNS, False),
    ("role covers its sessions", [statement({"AWS": "arn:aws:iam::222222222222:role/worker"})],
     SESSION, True),
    ("role with a path", [statement({"AWS": "arn:aws:iam::222222222222:role/app/worker"})],
     SESSION, True),
    ("another role", [statement({"AWS": "arn:aws:iam::222222222222:role/other"})],
     SESSION, False),
    ("source account condition on a user", [statement({"AWS": "222222222222"},
     condition={"StringEquals": {"AWS:SourceAccount": "222222222222"}})], BOB, False),
]  # fmt: skip


@pytest.mark.parametrize(("statements", "request_", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])  # fmt: skip
def test_evaluation(
    statements: list[dict[str, Any]], request_: AccessRequest, expected: bool
) -> None:
    assert allows(statements, request_) is expected


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("", "", True),
        ("*", "", True),
        ("*", "anything:at/all", True),
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("arn:aws:sns:*:111111111111:*", TOPIC, True),
        ("arn:aws:sns:*:222222222222:*", TOPIC, False),
        ("*t", TOPIC, True),
        ("*x*", TOPIC, False),
        ("a*b*c", "aXbYc", True),
        ("a*b*c", "aXbY", False),
        ("ab", "abc", False),
        ("abc*", "ab", False),
    ],
)
def test_glob_match(pattern: str, value: str, expected: bool) -> None:
    assert glob_match(pattern, value) is expected


def test_a_pathological_pattern_does_not_backtrack_for_ever() -> None:
    # as a regular expression (a.*a.*...b) this takes longer than the universe has left
    assert glob_match("*a" * 40 + "b", "a" * 2000) is False
    statement_ = statement("*", condition={"ArnLike": {"AWS:SourceArn": "*a" * 40 + "b"}})
    request = AccessRequest(
        action="lambda:InvokeFunction", resource=FN, service="sns.amazonaws.com",
        source_arn="arn:aws:sns:us-east-1:111111111111:" + "a" * 200,
    )  # fmt: skip
    assert allows([statement_], request) is False


def test_glob_match_agrees_with_a_regular_expression_on_small_cases() -> None:
    rng = random.Random(7)
    for _ in range(5000):
        pattern = "".join(rng.choice("ab*?") for _ in range(rng.randint(0, 7)))
        value = "".join(rng.choice("ab") for _ in range(rng.randint(0, 8)))
        regex = "".join(".*" if c == "*" else "." if c == "?" else c for c in pattern)
        assert glob_match(pattern, value) is (re.fullmatch(regex, value) is not None), (
            pattern,
            value,
        )
