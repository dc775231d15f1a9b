"""How Lambda names functions and reads Invoke payloads, compared with AWS's recordings
(issue 20 items 5, 6, 9; issue 12 item 7). Each expectation comes from
/work/shared/aws-recordings/lambda/; the entry is named in each test's docstring.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import botocore.exceptions
import pytest

from tests.support.functions import create_python, unique

ARN = "arn:aws:lambda:us-east-1:000000000000:function:"
OTHER = "arn:aws:lambda:eu-central-1:000000000000:function:"
NAME_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
QUALIFIER_PATTERN = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"


def error_of(exc: pytest.ExceptionInfo[botocore.exceptions.ClientError]) -> tuple[str, str, int]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def fails(call: Callable[[], Any]) -> tuple[str, str, int]:
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        call()
    return error_of(exc)


# ---- item 5 / issue 12 item 7: a function ARN of another region -------------------------------

OPERATIONS: dict[str, Callable[[Any, str], Any]] = {
    "get_function": lambda c, f: c.get_function(FunctionName=f),
    "get_function_configuration": lambda c, f: c.get_function_configuration(FunctionName=f),
    "get_function_event_invoke_config": lambda c, f: c.get_function_event_invoke_config(
        FunctionName=f
    ),
    "put_function_event_invoke_config": lambda c, f: c.put_function_event_invoke_config(
        FunctionName=f, MaximumRetryAttempts=1
    ),
    "delete_function_event_invoke_config": lambda c, f: c.delete_function_event_invoke_config(
        FunctionName=f
    ),
    "get_function_concurrency": lambda c, f: c.get_function_concurrency(FunctionName=f),
    "delete_function": lambda c, f: c.delete_function(FunctionName=f),
    "invoke": lambda c, f: c.invoke(FunctionName=f, Payload=b"{}"),
    "invoke_event": lambda c, f: c.invoke(FunctionName=f, InvocationType="Event", Payload=b"{}"),
    "update_function_configuration": lambda c, f: c.update_function_configuration(
        FunctionName=f, Timeout=5
    ),
    "publish_version": lambda c, f: c.publish_version(FunctionName=f),
    "list_versions_by_function": lambda c, f: c.list_versions_by_function(FunctionName=f),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_a_function_of_another_region_is_not_reachable(lambda_client: Any, operation: str) -> None:
    """test_lambda_api TestLambdaFunction::test_get_function_wrong_region[get_function,
    get_function_configuration, get_function_event_invoke_config, get_function_concurrency,
    delete_function, invoke] (and test_create_lambda_exceptions function_arn_other_region_exc):
    404 ResourceNotFoundException, whether or not a function of that name exists here."""
    name = unique()
    create_python(lambda_client, name)
    assert fails(lambda: OPERATIONS[operation](lambda_client, OTHER + name)) == (
        "ResourceNotFoundException",
        "Functions from 'eu-central-1' are not reachable in this region ('us-east-1')",
        404,
    )
    lambda_client.get_function(FunctionName=ARN + name)  # untouched


# ---- item 6: Invoke's checks of FunctionName and Qualifier ------------------------------------


@pytest.mark.parametrize("qualifier", ["invalid!", "invalid-qualifier-with-?-char"])
def test_invoke_qualifier_outside_the_pattern(lambda_client: Any, qualifier: str) -> None:
    """add_permission_fn_qualifier_invalid (the same NumericLatestPublishedOrAliasQualifier
    member Invoke has): ValidationException quoting its pattern."""
    name = unique()
    create_python(lambda_client, name)
    assert fails(lambda: lambda_client.invoke(FunctionName=name, Qualifier=qualifier)) == (
        "ValidationException",
        f"1 validation error detected: Value '{qualifier}' at 'qualifier' failed to satisfy"
        f" constraint: Member must satisfy regular expression pattern: {QUALIFIER_PATTERN}",
        400,
    )


def test_invoke_qualifier_too_long(lambda_client: Any) -> None:
    long = "q" * 129
    assert fails(lambda: lambda_client.invoke(FunctionName=unique(), Qualifier=long)) == (
        "ValidationException",
        f"1 validation error detected: Value '{long}' at 'qualifier' failed to satisfy"
        " constraint: Member must have length less than or equal to 128",
        400,
    )


def test_invoke_name_outside_the_pattern(lambda_client: Any) -> None:
    """test_lambda_api TestLambdaFunction::test_invalid_invoke invoke_function_name_pattern_exc:
    the newer pattern, with (eusc-)?, -iso([a-z]?) and $LATEST(.PUBLISHED)?."""
    bad = "arn:aws:lambda:us-east-1:123400000000@function:myfn"
    assert fails(lambda: lambda_client.invoke(FunctionName=bad)) == (
        "ValidationException",
        f"1 validation error detected: Value '{bad}' at 'functionName' failed to satisfy"
        f" constraint: Member must satisfy regular expression pattern: {NAME_PATTERN}",
        400,
    )


def test_invoke_reports_every_violation(lambda_client: Any) -> None:
    """A bad ARN and a too long qualifier: both, in one Coral message."""
    bad = "arn:aws:lambda:us-east-1:123400000000@function:myfn"
    long = "q" * 129
    assert fails(lambda: lambda_client.invoke(FunctionName=bad, Qualifier=long)) == (
        "ValidationException",
        f"2 validation errors detected: Value '{bad}' at 'functionName' failed to satisfy"
        f" constraint: Member must satisfy regular expression pattern: {NAME_PATTERN};"
        f" Value '{long}' at 'qualifier' failed to satisfy constraint: Member must have"
        " length less than or equal to 128",
        400,
    )


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("a" * 65, f"{ARN}{'a' * 65}:$LATEST"),
        ("arn:aws:lambda:us-east-1:000000000000:function", f"{ARN}function:$LATEST"),
        ("with.dot", f"{ARN}with.dot:$LATEST"),
    ],
)
def test_invoke_names_the_pattern_allows_are_not_found(
    lambda_client: Any, given: str, shown: str
) -> None:
    """The pattern allows them (the 64-character limit is the name's, checked on lookup):
    ResourceNotFoundException with Invoke's `:$LATEST`, not a ValidationException."""
    assert fails(lambda: lambda_client.invoke(FunctionName=given)) == (
        "ResourceNotFoundException",
        f"Function not found: {shown}",
        404,
    )


# ---- item 9: payloads that are not UTF-8 ------------------------------------------------------

SOURCE = "REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)"
PREFIX = "Could not parse request body into json: Could not parse payload into json: "


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        (  # test_lambda_invoke_payload_encoding_error[body-...]
            b"n\x87r\x9e\xe9\xb5\xd7I\xee\x9bmt",
            f"Invalid UTF-8 start byte 0x87\n at [Source: {SOURCE}; line: 1, column: 3]",
        ),
        (  # test_lambda_invoke_payload_encoding_error[message-...]
            b"\x99\xeb,j\x07\xa1zYh",
            "Unexpected character ((CTRL-CHAR, code 153)): expected a valid value (JSON String,"
            " Number, Array, Object or token 'null', 'true' or 'false')\n"
            f" at [Source: {SOURCE}; line: 1, column: 1]",
        ),
    ],
)
@pytest.mark.parametrize("invocation_type", ["RequestResponse", "Event"])
def test_payload_that_is_not_utf8(
    lambda_client: Any, payload: bytes, detail: str, invocation_type: str
) -> None:
    """What the AWS CLI v2 sends for an inline --payload it base64-decoded: 400
    InvalidRequestContentException with the JSON parser's message."""
    name = unique()
    create_python(lambda_client, name)
    assert fails(
        lambda: lambda_client.invoke(
            FunctionName=name, Payload=payload, InvocationType=invocation_type
        )
    ) == ("InvalidRequestContentException", PREFIX + detail, 400)
