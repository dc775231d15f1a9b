"""The pure IAM policy evaluator: table-driven (services/iam/policy.py)."""

from __future__ import annotations

from typing import Any

import pytest

from sendoff.services.iam.documents import check_identity_policy, check_trust_policy
from sendoff.services.iam.errors import MalformedPolicyDocument
from sendoff.services.iam.managed import MANAGED, aws_managed
from sendoff.services.iam.policy import Verdict, evaluate, parse_policy

Q = "arn:aws:sqs:us-east-1:000000000000:orders"
T = "arn:aws:sns:us-east-1:000000000000:alerts"
ALLOWED, DENY, IMPLICIT = Verdict.ALLOWED, Verdict.EXPLICIT_DENY, Verdict.IMPLICIT_DENY


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


CASES = [
    # (why, documents, action, resource, verdict)
    ("no policy: default deny", [], "sqs:SendMessage", Q, IMPLICIT),
    ("exact allow", [doc(allow("sqs:SendMessage", Q))], "sqs:SendMessage", Q, ALLOWED),
    ("other action", [doc(allow("sqs:ReceiveMessage", Q))], "sqs:SendMessage", Q, IMPLICIT),
    ("other resource", [doc(allow("sqs:SendMessage", T))], "sqs:SendMessage", Q, IMPLICIT),
    ("service wildcard", [doc(allow("sqs:*"))], "sqs:SendMessage", Q, ALLOWED),
    ("everything", [doc(allow("*"))], "sns:Publish", T, ALLOWED),
    ("prefix wildcard", [doc(allow("sqs:Send*"))], "sqs:SendMessage", Q, ALLOWED),
    ("? matches one", [doc(allow("sqs:?endMessage"))], "sqs:SendMessage", Q, ALLOWED),
    ("? is exactly one", [doc(allow("sqs:??endMessage"))], "sqs:SendMessage", Q, IMPLICIT),
    ("action case-insensitive", [doc(allow("SQS:sendmessage"))], "sqs:SendMessage", Q, ALLOWED),
    ("resource case-sensitive",
     [doc(allow("sqs:SendMessage", Q.upper()))], "sqs:SendMessage", Q, IMPLICIT),
    ("resource wildcard",
     [doc(allow("sqs:SendMessage", "arn:aws:sqs:*:*:ord*"))], "sqs:SendMessage", Q, ALLOWED),
    ("resource ? wildcard",
     [doc(allow("sqs:SendMessage", Q[:-1] + "?"))], "sqs:SendMessage", Q, ALLOWED),
    ("* spans colons", [doc(allow("sqs:SendMessage", "arn:aws:sqs:*"))], "sqs:SendMessage", Q,
     ALLOWED),
    ("list of actions",
     [doc(allow(["sns:Publish", "sqs:SendMessage"], [T, Q]))], "sqs:SendMessage", Q, ALLOWED),
    ("statement as an object",
     [{"Version": "2012-10-17", "Statement": allow("sqs:SendMessage", Q)}],
     "sqs:SendMessage", Q, ALLOWED),
    ("explicit deny beats allow",
     [doc(allow("sqs:*")), doc(deny("sqs:SendMessage", Q))], "sqs:SendMessage", Q, DENY),
    ("deny elsewhere does not matter",
     [doc(allow("sqs:*"), deny("sqs:SendMessage", T))], "sqs:SendMessage", Q, ALLOWED),
    ("deny order does not matter",
     [doc(deny("sqs:*", Q)), doc(allow("sqs:SendMessage", Q))], "sqs:SendMessage", Q, DENY),
    ("NotAction allows the rest",
     [doc({"Effect": "Allow", "NotAction": "sqs:DeleteQueue", "Resource": "*"})],
     "sqs:SendMessage", Q, ALLOWED),
    ("NotAction excludes its own",
     [doc({"Effect": "Allow", "NotAction": ["sqs:Send*"], "Resource": "*"})],
     "sqs:SendMessage", Q, IMPLICIT),
    ("NotResource allows other resources",
     [doc({"Effect": "Allow", "Action": "sqs:*", "NotResource": T})],
     "sqs:SendMessage", Q, ALLOWED),
    ("NotResource excludes its own",
     [doc({"Effect": "Allow", "Action": "sqs:*", "NotResource": [Q]})],
     "sqs:SendMessage", Q, IMPLICIT),
    ("Deny with NotAction",
     [doc(allow("*"), {"Effect": "Deny", "NotAction": "sns:*", "Resource": "*"})],
     "sqs:SendMessage", Q, DENY),
    ("Allow with a condition grants nothing",
     [doc(allow("sqs:SendMessage", Q, Condition={"Bool": {"aws:SecureTransport": "true"}}))],
     "sqs:SendMessage", Q, IMPLICIT),
    ("Deny with a condition applies",
     [doc(allow("sqs:*"), deny("sqs:*", Q, Condition={"IpAddress": {"aws:SourceIp": "1.2.3.4"}}))],
     "sqs:SendMessage", Q, DENY),
]  # fmt: skip


@pytest.mark.parametrize(
    ("documents", "action", "resource", "verdict"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_evaluate(
    documents: list[dict[str, Any]], action: str, resource: str, verdict: Verdict
) -> None:
    policies = [parse_policy(f"p{i}", d) for i, d in enumerate(documents)]
    assert evaluate(policies, action, resource).verdict is verdict


def test_the_deciding_statement_is_named() -> None:
    policies = [
        parse_policy("base", doc(allow("sqs:*"))),
        parse_policy("guard", doc({**deny("sqs:SendMessage", Q), "Sid": "NoOrders"})),
    ]
    decision = evaluate(policies, "sqs:SendMessage", Q)
    assert decision.deciding == "guard statement 1 (Sid NoOrders)"
    assert evaluate(policies[:1], "sqs:SendMessage", Q).deciding == "base statement 1"


def test_conditions_are_reported_not_ignored() -> None:
    conditional = allow("sqs:SendMessage", Q, Condition={"Bool": {"aws:SecureTransport": "true"}})
    policies = [parse_policy("p", doc(allow("sns:Publish", T), conditional))]
    decision = evaluate(policies, "sqs:SendMessage", Q)
    assert not decision.allowed
    assert decision.unevaluated == ("p statement 2",)
    # a conditional statement that does not match the request is not reported
    assert evaluate(policies, "sns:Publish", T).unevaluated == ()


def test_managed_policies_are_known_by_arn_in_any_partition() -> None:
    sqs = aws_managed("arn:aws:iam::aws:policy/AmazonSQSFullAccess")
    assert sqs is not None and sqs.document["Statement"][0]["Action"] == ["sqs:*"]
    assert aws_managed("arn:aws-us-gov:iam::aws:policy/AmazonSQSFullAccess") is sqs
    assert aws_managed("arn:aws:iam::aws:policy/NoSuchPolicy") is None
    basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    assert basic in MANAGED
    for managed in MANAGED.values():  # every document is one IAM would accept
        check_identity_policy(__import__("json").dumps(managed.document))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "This policy contains invalid Json"),
        ('{"Version": "2012-10-17"}', "Syntax errors in policy."),
        (
            '{"Statement": {"Effect": "Allow", "Resource": "*"}}',
            "Policy statement must contain actions.",
        ),
        (
            '{"Statement": {"Effect": "Allow", "Action": "sqs:*"}}',
            "Policy statement must contain resources.",
        ),
        (
            '{"Statement": {"Effect": "Allow", "Action": "SendMessage", "Resource": "*"}}',
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ),
        (
            '{"Statement": {"Effect": "Maybe", "Action": "sqs:*", "Resource": "*"}}',
            "Syntax errors in policy.",
        ),
        (
            '{"Statement": {"Effect": "Allow", "Action": "sqs:*", "Resource": "*",'
            ' "Principal": "*"}}',
            "Policy document should not specify a principal.",
        ),
    ],
)
def test_malformed_identity_policies(text: str, message: str) -> None:
    with pytest.raises(MalformedPolicyDocument) as caught:
        check_identity_policy(text)
    assert caught.value.message == message


def test_trust_policy_rules() -> None:
    good = '{"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'  # noqa: E501
    assert check_trust_policy(good)["Statement"][0]["Action"] == "sts:AssumeRole"
    with pytest.raises(MalformedPolicyDocument, match="Has prohibited field Resource"):
        check_trust_policy(
            '{"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}}'
        )
    with pytest.raises(MalformedPolicyDocument, match="may only specify STS AssumeRole"):
        check_trust_policy('{"Statement": {"Effect": "Allow", "Action": "sqs:SendMessage"}}')


@pytest.mark.timeout(20)
def test_a_statement_written_to_backtrack_costs_no_more_than_any_other() -> None:
    """``*a*a*...*b`` against a long run of ``a``: a regular expression of ``.*`` pieces
    tries every split (this one would run for hours); the glob matcher answers at once."""
    hostile = "arn:aws:sqs:*" + "a*" * 14 + "b"
    resource = "arn:aws:sqs:us-east-1:000000000000:" + "a" * 60
    policies = [parse_policy("p", doc(allow("sqs:SendMessage", hostile)))]
    assert evaluate(policies, "sqs:SendMessage", resource).verdict is IMPLICIT
    assert evaluate(policies, "sqs:SendMessage", resource + "b").verdict is ALLOWED
    actions = [parse_policy("p", doc(allow("SQS:" + "s*" * 14 + "x", "*")))]
    assert evaluate(actions, "sqs:" + "S" * 60, Q).verdict is IMPLICIT
    assert evaluate(actions, "sqs:" + "S" * 60 + "X", Q).verdict is ALLOWED
