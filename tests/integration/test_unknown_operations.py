"""Issue 12.5: an operation sendoff does not implement is answered in the protocol the
client speaks, so every SDK raises a clean ClientError with AWS's code instead of failing
to parse the answer. The query services (SNS, STS, IAM, CloudFormation, and RDS,
which sendoff does not have) answer XML ``InvalidAction`` "Could not find operation X for
version V", as STS, IAM and SNS do; the JSON protocols answer JSON."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.conftest import client_for
from tests.support.server import ServerProcess

QUERY_CALLS = [
    ("sns", "get_data_protection_policy", {"ResourceArn": "arn:aws:sns:us-east-1:0:t"},
     "GetDataProtectionPolicy", "2010-03-31"),
    ("sns", "list_origination_numbers", {}, "ListOriginationNumbers", "2010-03-31"),
    ("sts", "get_federation_token", {"Name": "someone"}, "GetFederationToken", "2011-06-15"),
    ("iam", "list_account_aliases", {}, "ListAccountAliases", "2010-05-08"),
    ("cloudformation", "list_stack_sets", {}, "ListStackSets", "2010-05-15"),
]  # fmt: skip


@pytest.mark.parametrize(("service", "method", "params", "action", "version"), QUERY_CALLS)
def test_query_clients_get_invalid_action_in_xml(
    server: ServerProcess, service: str, method: str, params: dict[str, Any], action: str,
    version: str,
) -> None:  # fmt: skip
    with pytest.raises(ClientError) as caught:
        getattr(client_for(server.url, service), method)(**params)
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"]["Code"] == "InvalidAction"
    assert response["Error"]["Message"] == (
        f"Could not find operation {action} for version {version}"
    )
    assert response["Error"]["Type"] == "Sender"


JSON_CALLS = [
    ("events", "list_archives", {}, 400, "UnknownOperationException"),
    ("logs", "describe_destinations", {}, 400, "UnknownOperationException"),
    ("lambda", "list_layers", {}, 404, "UnknownOperationException"),
]


@pytest.mark.parametrize(("service", "method", "params", "status", "code"), JSON_CALLS)
def test_json_clients_get_their_error_in_json(
    server: ServerProcess, service: str, method: str, params: dict[str, Any], status: int,
    code: str,
) -> None:  # fmt: skip
    with pytest.raises(ClientError) as caught:
        getattr(client_for(server.url, service), method)(**params)
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert response["Error"]["Code"] == code


def test_a_query_request_without_version_says_so(server: ServerProcess) -> None:
    response = httpx.post(f"{server.url}/", data={"Action": "DescribeDBInstances"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/xml")
    assert "<Code>InvalidAction</Code>" in response.text
    assert (
        "<Message>Could not find operation DescribeDBInstances for version NO_VERSION_SPECIFIED"
        "</Message>" in response.text
    )
