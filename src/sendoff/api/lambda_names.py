"""How Lambda's front end checks the function a request names, before looking it up.

* A full ARN naming another region is refused by every operation taking a function name
  (``test_lambda_api TestLambdaFunction::test_get_function_wrong_region[...]``): 404
  ResourceNotFoundException "Functions from 'eu-central-1' are not reachable in this region
  ('us-east-1')".
* Invoke checks FunctionName and Qualifier against its model (botocore
  ``NamespacedFunctionName``, ``NumericLatestPublishedOrAliasQualifier``) and reports every
  violation at once (``N validation errors detected: ...; ...``), quoting the patterns AWS
  quotes (``test_invalid_invoke``, ``add_permission_fn_qualifier_invalid``). A name the
  pattern allows but no function can have (65 characters, a dot, ``arn:…:function``) is
  then simply not found, with the ``:$LATEST`` Invoke names in its errors.
"""

from __future__ import annotations

import re

from sendoff.api.json_shapes import Shape
from sendoff.functions.errors import ResourceNotFound, ValidationFailed
from sendoff.model.arn import parse_function_name
from sendoff.model.function import LATEST
from sendoff.model.scope import Scope

INVOKE_NAME_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
INVOKE_QUALIFIER_PATTERN = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"
_NAME_RE = re.compile(INVOKE_NAME_PATTERN)


class _InvokeShape(Shape):
    invalid = ValidationFailed


def other_region(name: str, region: str) -> ResourceNotFound | None:
    """The error for a function ARN of another region than the endpoint's, or None."""
    match = _NAME_RE.fullmatch(name) if name.startswith("arn:") else None
    if match is None or match.group(1) is None or match.group(3) is None:
        return None  # not an ARN the model accepts: the operation's own checks answer
    named = match.group(3).rstrip(":")
    if named == region:
        return None
    return ResourceNotFound(
        f"Functions from '{named}' are not reachable in this region ('{region}')"
    )


def check_invoke_target(scope: Scope, name: str, qualifier: str | None) -> None:
    """Invoke's model checks of FunctionName and Qualifier; then, for a name the pattern
    allows but sendoff cannot parse, the not-found error AWS gives for it."""
    shape = _InvokeShape({"FunctionName": name, "Qualifier": qualifier})
    shape.string("FunctionName", min_len=1, max_len=256, pattern=INVOKE_NAME_PATTERN)
    shape.string("Qualifier", min_len=1, max_len=128, pattern=INVOKE_QUALIFIER_PATTERN)
    shape.done()
    if parse_function_name(name) is not None:
        return
    match = _NAME_RE.fullmatch(name)
    assert match is not None  # the pattern check above passed
    region = (match.group(3) or "").rstrip(":") or scope.region
    account = (match.group(9) or "").rstrip(":") or scope.account_id
    own_qualifier = match.group(13)
    shown = Scope(account_id=account, region=region).function_arn(
        match.group(11), own_qualifier or qualifier or LATEST
    )
    raise ResourceNotFound(f"Function not found: {shown}")
