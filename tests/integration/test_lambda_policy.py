"""AddPermission / RemovePermission / GetPolicy against a real server, with boto3 and the
AWS CLI, compared with AWS's recorded responses (LocalStack's AWS-validated
``test_lambda_api.snapshot.json``, ``TestLambdaPermissions`` and
``test_function_revisions_permissions``: shapes, key order, codes and messages)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.support.cli import aws
from tests.support.functions import create_python, unique

ACCOUNT = "000000000000"
BUCKET = "arn:aws:s3:::test-bucket"


def arn(name: str, qualifier: str | None = None) -> str:
    base = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


def failure(call: Any, **kwargs: Any) -> tuple[int, str, str, dict[str, Any]]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    r = info.value.response
    body = {k: v for k, v in r.items() if k not in ("Error", "ResponseMetadata")}
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"], body


def s3_permission(lam: Any, name: str, sid: str = "s3", **kwargs: Any) -> dict[str, Any]:
    params = {
        "FunctionName": name,
        "Action": "lambda:InvokeFunction",
        "StatementId": sid,
        "Principal": "s3.amazonaws.com",
        **kwargs,
    }
    return dict(lam.add_permission(**params))


def s3_statement(name: str, sid: str = "s3", qualifier: str | None = None) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": arn(name, qualifier),
        "Condition": {"ArnLike": {"AWS:SourceArn": BUCKET}},
    }


def test_add_permission_and_get_policy_have_aws_shapes(lambda_client: Any) -> None:
    name = create_python(lambda_client)["FunctionName"]
    added = s3_permission(lambda_client, name, SourceArn=BUCKET)
    assert added["ResponseMetadata"]["HTTPStatusCode"] == 201
    # the statement is a JSON string, its keys in AWS's order
    assert list(json.loads(added["Statement"])) == [
        "Sid", "Effect", "Principal", "Action", "Resource", "Condition",
    ]  # fmt: skip
    assert json.loads(added["Statement"]) == s3_statement(name)
    got = lambda_client.get_policy(FunctionName=name)
    policy = json.loads(got["Policy"])
    assert list(policy) == ["Version", "Id", "Statement"]
    assert policy == {"Version": "2012-10-17", "Id": "default", "Statement": [s3_statement(name)]}
    # the function's RevisionId becomes the policy's (recorded)
    config = lambda_client.get_function_configuration(FunctionName=name)
    assert got["RevisionId"] == config["RevisionId"]


def test_principal_forms_and_optional_fields(lambda_client: Any) -> None:
    name = create_python(lambda_client)["FunctionName"]

    def add(**kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("Action", "lambda:InvokeFunction")
        result: dict[str, Any] = json.loads(
            lambda_client.add_permission(FunctionName=name, **kwargs)["Statement"]
        )
        return result

    account_condition = {"StringEquals": {"AWS:SourceAccount": ACCOUNT}}
    wildcard = add(StatementId="wilcard", Principal="*", SourceAccount=ACCOUNT)
    assert wildcard["Principal"] == "*" and wildcard["Condition"] == account_condition
    service = add(StatementId="lambda", Principal="lambda.amazonaws.com", SourceAccount=ACCOUNT)
    assert service["Principal"] == {"Service": "lambda.amazonaws.com"}
    account = add(StatementId="account-id", Principal="111111111111")
    assert account["Principal"] == {"AWS": "arn:aws:iam::111111111111:root"}
    assert "Condition" not in account
    user = "arn:aws:iam::111111111111:user/alice"
    assert add(StatementId="user-arn", Principal=user)["Principal"] == {"AWS": user}
    optional = add(
        StatementId="urlPermission",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        SourceArn=BUCKET,
        SourceAccount=ACCOUNT,
        PrincipalOrgID="o-1234567890",
        FunctionUrlAuthType="NONE",
    )
    assert optional == {
        "Sid": "urlPermission",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "lambda:InvokeFunctionUrl",
        "Resource": arn(name),
        "Condition": {
            "StringEquals": {
                "AWS:SourceAccount": ACCOUNT,
                "lambda:FunctionUrlAuthType": "NONE",
                "aws:PrincipalOrgID": "o-1234567890",
            },
            "ArnLike": {"AWS:SourceArn": BUCKET},
        },
    }
    # recorded key order inside Condition and StringEquals
    assert list(optional["Condition"]) == ["StringEquals", "ArnLike"]
    assert list(optional["Condition"]["StringEquals"]) == [
        "AWS:SourceAccount", "lambda:FunctionUrlAuthType", "aws:PrincipalOrgID",
    ]  # fmt: skip
    token = "amzn1.ask.skill.xxxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
    alexa = add(StatementId="alexaSkill", Principal="*", EventSourceToken=token)
    assert alexa["Condition"] == {"StringEquals": {"lambda:EventSourceToken": token}}


def test_recorded_errors(lambda_client: Any) -> None:
    lam = lambda_client
    name = create_python(lam)["FunctionName"]
    assert failure(
        lam.add_permission, FunctionName=name, Action="lambda:InvokeFunction",
        StatementId="example.com", Principal="s3.amazonaws.com",
    )[:3] == (
        400, "ValidationException",
        "1 validation error detected: Value 'example.com' at 'statementId' failed to satisfy"
        " constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)",
    )  # fmt: skip
    status, code, message, body = failure(
        s3_permission, lam=lam, name=f"{name}:alias-not-42", Qualifier="42"
    )
    assert (status, code, message) == (
        400, "InvalidParameterValueException",
        "The derived qualifier from the function name does not match the specified qualifier.",
    )  # fmt: skip
    assert body == {"Type": "User", "message": message}
    assert failure(s3_permission, lam=lam, name=f"{name}:$LATEST", Qualifier="$LATEST")[:3] == (
        400, "InvalidParameterValueException",
        "We currently do not support adding policies for $LATEST.",
    )  # fmt: skip
    assert failure(
        lam.add_permission, FunctionName=name, Action="lambda:InvokeFunction",
        StatementId="lambda", Principal="invalid.nonaws.com", SourceAccount=ACCOUNT,
    )[:3] == (
        400, "InvalidParameterValueException",
        "The provided principal was invalid. Please check the principal and try again.",
    )  # fmt: skip
    no_resource = (404, "ResourceNotFoundException", "The resource you requested does not exist.")
    assert failure(lam.get_policy, FunctionName="doesnotexist")[:3] == no_resource
    assert failure(lam.get_policy, FunctionName=name, Qualifier="77")[:3] == no_resource
    status, code, message, body = failure(s3_permission, lam=lam, name="doesnotexist")
    assert (status, code, message) == (
        404,
        "ResourceNotFoundException",
        f"Function not found: {arn('doesnotexist')}",
    )
    assert body == {"Type": "User", "Message": message}
    assert failure(lam.remove_permission, FunctionName=name, StatementId="s3")[:3] == (
        404,
        "ResourceNotFoundException",
        "No policy is associated with the given resource.",
    )
    assert failure(s3_permission, lam=lam, name=f"{name}:alias-doesnotexist")[:3] == (
        404, "ResourceNotFoundException",
        f"Cannot find alias arn: {arn(name, 'alias-doesnotexist')}",
    )  # fmt: skip
    assert failure(s3_permission, lam=lam, name=name, Qualifier="42")[:3] == (
        404,
        "ResourceNotFoundException",
        f"Function not found: {arn(name, '42')}",
    )
    assert failure(
        s3_permission, lam=lam, name=name, Qualifier="invalid-qualifier-with-?-char"
    )[:3] == (
        400, "ValidationException",
        "1 validation error detected: Value 'invalid-qualifier-with-?-char' at 'qualifier'"
        " failed to satisfy constraint: Member must satisfy regular expression pattern:"
        " \\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+",
    )  # fmt: skip
    assert failure(
        s3_permission, lam=lam, name=name, Qualifier="valid-with-$-but-doesnotexist"
    )[:3] == (
        404, "ResourceNotFoundException",
        f"Function not found: {arn(name, 'valid-with-$-but-doesnotexist')}",
    )  # fmt: skip
    s3_permission(lam, name, SourceArn=BUCKET)
    status, code, message, body = failure(s3_permission, lam=lam, name=name, SourceArn=BUCKET)
    assert (status, code, message) == (
        409, "ResourceConflictException",
        "The statement id (s3) provided already exists. Please provide a new statement id,"
        " or remove the existing statement.",
    )  # fmt: skip
    assert body == {"Type": "User", "message": message}
    assert failure(lam.remove_permission, FunctionName="doesnotexist", StatementId="s3")[:3] == (
        404,
        "ResourceNotFoundException",
        f"No policy found for: {arn('doesnotexist')}",
    )
    assert failure(
        lam.remove_permission, FunctionName=name, StatementId="s3", Qualifier="alias-doesnotexist"
    )[:3] == (
        404, "ResourceNotFoundException",
        f"Cannot find alias arn: {arn(name, 'alias-doesnotexist')}",
    )  # fmt: skip


def test_remove_permissions_until_the_policy_is_gone(lambda_client: Any) -> None:
    lam = lambda_client
    name = create_python(lam)["FunctionName"]
    s3_permission(lam, name)
    s3_permission(lam, name, sid="sqs", Principal="sqs.amazonaws.com", SourceArn=BUCKET)
    both = lam.get_policy(FunctionName=name)
    assert [s["Sid"] for s in json.loads(both["Policy"])["Statement"]] == ["s3", "sqs"]
    assert failure(lam.remove_permission, FunctionName=name, StatementId="non-existent")[:3] == (
        404,
        "ResourceNotFoundException",
        "Statement non-existent is not found in resource policy.",
    )
    removed = lam.remove_permission(FunctionName=name, StatementId="sqs")
    assert removed["ResponseMetadata"]["HTTPStatusCode"] == 204
    after = lam.get_policy(FunctionName=name)
    assert [s["Sid"] for s in json.loads(after["Policy"])["Statement"]] == ["s3"]
    assert after["RevisionId"] != both["RevisionId"]
    assert lam.get_policy(FunctionName=name)["RevisionId"] == after["RevisionId"]
    lam.remove_permission(FunctionName=name, StatementId="s3", RevisionId=after["RevisionId"])
    assert failure(lam.get_policy, FunctionName=name)[:3] == (
        404,
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
    )


def test_revision_ids_follow_aws(lambda_client: Any) -> None:
    lam = lambda_client
    name = create_python(lam)["FunctionName"]
    rev2 = lam.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    wrong = (
        412, "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy"
        " API to retrieve the latest Revision Id",
    )  # fmt: skip
    status, code, message, body = failure(s3_permission, lam=lam, name=name, RevisionId="wrong")
    assert (status, code, message) == wrong
    assert body == {"Type": "User", "message": message}
    s3_permission(lam, name, RevisionId=rev2)
    rev3 = lam.get_policy(FunctionName=name)["RevisionId"]
    assert rev3 != rev2
    assert lam.get_function(FunctionName=name)["Configuration"]["RevisionId"] == rev3
    assert (
        failure(lam.remove_permission, FunctionName=name, StatementId="s3", RevisionId="wrong")[:3]
        == wrong
    )
    lam.remove_permission(FunctionName=name, StatementId="s3", RevisionId=rev3)
    assert lam.get_function(FunctionName=name)["Configuration"]["RevisionId"] != rev3


def test_versions_and_aliases_have_their_own_policies(lambda_client: Any) -> None:
    lam = lambda_client
    name = create_python(lam)["FunctionName"]
    s3_permission(lam, name, SourceArn=BUCKET)
    base = lam.get_policy(FunctionName=name)
    version = lam.publish_version(FunctionName=name)["Version"]
    assert lam.get_policy(FunctionName=name)["Policy"] == base["Policy"]
    assert failure(lam.get_policy, FunctionName=name, Qualifier=version)[:2] == (
        404, "ResourceNotFoundException",
    )  # fmt: skip
    # the same sid again, for the version: its own policy, its own Resource
    s3_permission(lam, f"{name}:{version}", SourceArn=BUCKET, Qualifier=version)
    on_version = json.loads(lam.get_policy(FunctionName=name, Qualifier=version)["Policy"])
    assert on_version["Statement"] == [s3_statement(name, qualifier=version)]
    alias = lam.create_alias(FunctionName=name, Name="permission-alias", FunctionVersion=version)
    assert failure(
        s3_permission, lam=lam, name=name, SourceArn=BUCKET, Qualifier="permission-alias",
        RevisionId="wrong",
    )[:2] == (412, "PreconditionFailedException")  # fmt: skip
    s3_permission(lam, f"{name}:permission-alias", SourceArn=BUCKET,
                  Qualifier="permission-alias", RevisionId=alias["RevisionId"])  # fmt: skip
    on_alias = json.loads(lam.get_policy(FunctionName=name, Qualifier="permission-alias")["Policy"])
    assert on_alias["Statement"] == [s3_statement(name, qualifier="permission-alias")]
    unqualified = lam.get_policy(FunctionName=name)
    assert unqualified["Policy"] == base["Policy"]
    s3_permission(lam, name, sid="s3_2", SourceArn=BUCKET, RevisionId=unqualified["RevisionId"])
    sids = [s["Sid"] for s in json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]]
    assert sids == ["s3", "s3_2"]
    # deleting the alias deletes its policy; a new alias of that name starts without one
    lam.delete_alias(FunctionName=name, Name="permission-alias")
    lam.create_alias(FunctionName=name, Name="permission-alias", FunctionVersion=version)
    assert failure(lam.get_policy, FunctionName=name, Qualifier="permission-alias")[0] == 404


def test_policy_size_limit(lambda_client: Any) -> None:
    name = create_python(lambda_client)["FunctionName"]
    long_arn = "arn:aws:s3:::" + "b" * 180
    count = 0
    with pytest.raises(ClientError) as info:
        while count < 200:
            s3_permission(lambda_client, name, sid=f"sid-{count:03d}", SourceArn=long_arn)
            count += 1
    r = info.value.response
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert r["Error"]["Code"] == "PolicyLengthExceededException"
    size = len(lambda_client.get_policy(FunctionName=name)["Policy"])
    assert size <= 20480 and 40 < count < 200
    message = r["Error"]["Message"]
    assert message.startswith("The final policy size (")
    assert message.endswith(") is bigger than the limit (20480).")
    assert int(message.split("(")[1].split(")")[0]) > 20480


def test_deleting_a_function_deletes_its_policy(lambda_client: Any) -> None:
    name = unique("pol")
    create_python(lambda_client, name)
    s3_permission(lambda_client, name)
    lambda_client.delete_function(FunctionName=name)
    create_python(lambda_client, name)
    assert failure(lambda_client.get_policy, FunctionName=name)[0] == 404
    s3_permission(lambda_client, name)  # the sid is free again


def test_aws_cli_add_permission_get_policy_remove_permission(server: Any) -> None:
    url = server.url
    name = create_python(client_for(url, "lambda"))["FunctionName"]
    added = aws(
        url, "lambda", "add-permission", "--function-name", name,
        "--statement-id", "sns", "--action", "lambda:InvokeFunction",
        "--principal", "sns.amazonaws.com",
        "--source-arn", f"arn:aws:sns:us-east-1:{ACCOUNT}:topic",
    )  # fmt: skip
    assert json.loads(added["Statement"]) == {
        "Sid": "sns",
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": arn(name),
        "Condition": {"ArnLike": {"AWS:SourceArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:topic"}},
    }
    got = aws(url, "lambda", "get-policy", "--function-name", name)
    assert json.loads(got["Policy"])["Statement"] == [json.loads(added["Statement"])]
    assert got["RevisionId"]
    duplicate = aws(
        url, "lambda", "add-permission", "--function-name", name, "--statement-id", "sns",
        "--action", "lambda:InvokeFunction", "--principal", "sns.amazonaws.com", check=False,
    )  # fmt: skip
    assert duplicate.returncode in (254, 255)  # CLI v2, v1
    assert "An error occurred (ResourceConflictException) when calling the AddPermission" in (
        duplicate.stderr
    )
    assert "The statement id (sns) provided already exists." in duplicate.stderr
    assert aws(url, "lambda", "remove-permission", "--function-name", name,
               "--statement-id", "sns") == {}  # fmt: skip
    gone = aws(url, "lambda", "get-policy", "--function-name", name, check=False)
    assert gone.returncode in (254, 255)  # CLI v2, v1
    assert (
        "(ResourceNotFoundException) when calling the GetPolicy operation: The resource you"
        " requested does not exist." in gone.stderr
    )
