"""One statement of a function's resource-based policy, as AddPermission writes it. Pure.

The shape and key order are AWS's, as recorded (LocalStack's AWS-validated snapshots,
``tests/aws/services/lambda_/test_lambda_api.snapshot.json``, ``TestLambdaPermissions``;
the ``Statement`` and ``Policy`` strings keep AWS's own key order there)::

    {"Sid": ..., "Effect": "Allow", "Principal": ..., "Action": ..., "Resource": ...,
     "Condition": {"StringEquals": {"AWS:SourceAccount": ..., "lambda:FunctionUrlAuthType":
     ..., "aws:PrincipalOrgID": ...}, "ArnLike": {"AWS:SourceArn": ...}}}

Principal forms: ``*`` stays ``"*"``; a service (``s3.amazonaws.com``) becomes
``{"Service": ...}``; a 12-digit account id ``{"AWS": "arn:aws:iam::<id>:root"}``; an IAM
or STS ARN ``{"AWS": <arn>}``. Anything else is refused with AWS's recorded message.
Where ``lambda:EventSourceToken`` sits among the ``StringEquals`` keys when others are given
too, and the ``Bool`` condition ``InvokedViaFunctionUrl`` adds, are not recorded (AWS's
documentation shows ``{"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sendoff.functions.errors import InvalidParameterValue
from sendoff.model.json_types import JSON

BAD_PRINCIPAL = "The provided principal was invalid. Please check the principal and try again."
_ACCOUNT_RE = re.compile(r"\d{12}")
_IAM_ARN_RE = re.compile(r"arn:aws[a-zA-Z-]*:(iam|sts)::\d{12}:\S+")
_SERVICE_RE = re.compile(r"[a-z0-9][a-z0-9.-]*\.(amazonaws\.com|amazonaws\.com\.cn|amazon\.com)")


@dataclass(frozen=True, kw_only=True)
class PermissionInput:
    """A checked AddPermission request (``None``: not given)."""

    statement_id: str
    action: str
    principal: str
    source_arn: str | None = None
    source_account: str | None = None
    event_source_token: str | None = None
    principal_org_id: str | None = None
    function_url_auth_type: str | None = None
    invoked_via_function_url: bool | None = None


def principal_element(principal: str) -> str | JSON:
    if principal == "*":
        return "*"
    if _ACCOUNT_RE.fullmatch(principal):
        return {"AWS": f"arn:aws:iam::{principal}:root"}
    if _IAM_ARN_RE.fullmatch(principal):
        return {"AWS": principal}
    if _SERVICE_RE.fullmatch(principal):
        return {"Service": principal}
    raise InvalidParameterValue(BAD_PRINCIPAL)


def build_statement(given: PermissionInput, resource: str) -> JSON:
    """The statement AddPermission adds for ``resource`` (the possibly qualified ARN)."""
    statement: JSON = {
        "Sid": given.statement_id,
        "Effect": "Allow",
        "Principal": principal_element(given.principal),
        "Action": given.action,
        "Resource": resource,
    }
    equals: dict[str, str] = {}
    if given.source_account is not None:
        equals["AWS:SourceAccount"] = given.source_account
    if given.function_url_auth_type is not None:
        equals["lambda:FunctionUrlAuthType"] = given.function_url_auth_type
    if given.principal_org_id is not None:
        equals["aws:PrincipalOrgID"] = given.principal_org_id
    if given.event_source_token is not None:
        equals["lambda:EventSourceToken"] = given.event_source_token
    condition: JSON = {}
    if equals:
        condition["StringEquals"] = equals
    if given.source_arn is not None:
        condition["ArnLike"] = {"AWS:SourceArn": given.source_arn}
    if given.invoked_via_function_url:
        condition["Bool"] = {"lambda:InvokedViaFunctionUrl": "true"}
    if condition:
        statement["Condition"] = condition
    return statement
