"""What the CloudFormation API accepts as a template, pure: TemplateURL forms, code the
server may take, YAML aliases, and the capabilities a template needs."""

from __future__ import annotations

import pytest

from sendoff.iac import capabilities
from sendoff.iac.errors import TemplateError
from sendoff.iac.server_templates import load_body, parse_s3_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:4566/artifacts/a/b.template", ("artifacts", "a/b.template")),
        ("https://artifacts.s3.amazonaws.com/key.yaml", ("artifacts", "key.yaml")),
        ("https://artifacts.s3.eu-west-1.amazonaws.com/k", ("artifacts", "k")),
        ("https://artifacts.s3-eu-west-1.amazonaws.com/k", ("artifacts", "k")),
        ("https://s3.amazonaws.com/artifacts/dir/k%20x", ("artifacts", "dir/k x")),
        ("s3://artifacts/k", ("artifacts", "k")),
        ("https://s3.amazonaws.com/artifacts", None),
        ("ftp://host/bucket/key", None),
        ("file:///etc/passwd", None),
        ("/bucket/key", None),
    ],
)
def test_template_urls(url: str, expected: tuple[str, str] | None) -> None:
    assert parse_s3_url(url) == expected


FUNCTION = """
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/r
      Code: CODE
"""


def code_of(code: str) -> object:
    _, body = load_body(FUNCTION.replace("CODE", code))
    return body["Resources"]["Fn"]["Properties"]["Code"]


def test_code_inline_or_in_s3_is_taken() -> None:
    assert code_of("{ZipFile: x}") == {"ZipFile": "x"}
    assert code_of("{S3Bucket: b, S3Key: k}") == {"S3Bucket": "b", "S3Key": "k"}
    assert code_of("s3://bucket/dir/code.zip") == {"S3Bucket": "bucket", "S3Key": "dir/code.zip"}


@pytest.mark.parametrize(
    "code", ["./src", "/etc", "../../seed", "{SendoffLocalCode: {Path: /etc, Sha256: x}}"]
)
def test_local_code_is_refused(code: str) -> None:
    with pytest.raises(TemplateError) as caught:
        code_of(code)
    assert "Resources.Fn.Properties.Code" in str(caught.value)


def test_sam_code_uri_in_s3_is_taken() -> None:
    _, body = load_body(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: python3.12\n"
        "      Handler: app.handler\n      CodeUri: s3://artifacts/abc\n"
    )
    assert body["Resources"]["Fn"]["Properties"]["Code"] == {
        "S3Bucket": "artifacts",
        "S3Key": "abc",
    }


def test_yaml_aliases_are_refused() -> None:
    laughs = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nResources: {Q: {Type: *c}}\n"
    with pytest.raises(TemplateError, match="YAML aliases are not allowed"):
        load_body(laughs)


def role(**props: str) -> dict[str, object]:
    return {"Type": "AWS::IAM::Role", "Properties": props}


@pytest.mark.parametrize(
    ("resources", "transformed", "change_set", "need"),
    [
        ({"Q": {"Type": "AWS::SQS::Queue"}}, False, False, []),
        ({"R": role()}, False, False, ["CAPABILITY_IAM"]),
        ({"R": role(RoleName="fixed")}, False, False, ["CAPABILITY_NAMED_IAM"]),
        ({"R": role()}, True, False, ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]),
        ({"R": role()}, True, True, ["CAPABILITY_IAM"]),
        ({"P": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "p"}}}, False, False,
         ["CAPABILITY_IAM"]),
    ],
)  # fmt: skip
def test_required_capabilities(
    resources: dict[str, object], transformed: bool, change_set: bool, need: list[str]
) -> None:
    body = {"Resources": resources}
    assert capabilities.required(body, transformed=transformed, change_set=change_set) == need


def test_named_iam_grants_iam_and_the_message_is_aws_s() -> None:
    assert capabilities.missing(["CAPABILITY_IAM"], ["CAPABILITY_NAMED_IAM"]) == []
    lacking = capabilities.missing(["CAPABILITY_NAMED_IAM"], ["CAPABILITY_IAM"])
    assert capabilities.message(lacking) == "Requires capabilities : [CAPABILITY_NAMED_IAM]"
