"""A web page in the user's browser cannot drive sendoff (DNS rebinding, cross-site requests).

The attacks are sent as a browser would send them (raw HTTP with the headers a browser
adds), against a real server; tests/browser/test_cross_site.py repeats the main one from a
real Chromium. AWS clients (boto3, the AWS CLI) must keep working unchanged.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from tests.support.cli import aws
from tests.support.functions import ROLE, unique, wait_active
from tests.support.server import ServerProcess, start_server
from tests.support.zips import make_zip

EVIL = "http://evil.example"


def _marker_handler(marker: Path) -> str:
    return (
        "def handler(event, context):\n"
        f"    open({str(marker)!r}, 'w').write('pwned')\n"
        "    return 'ok'\n"
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("guard"),
        "--allowed-host", "sendoff.test",
        "--allowed-host", "*.corp.test",
        "--cors-origin", "http://app.localhost:3000",
        "--sandbox", "none",  # the handlers' side effects must land where the test looks
    )  # fmt: skip
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    return boto3.client(
        "lambda", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )  # fmt: skip


def _create_body(name: str, marker: Path) -> str:
    return json.dumps(
        {
            "FunctionName": name,
            "Runtime": "python3.12",
            "Role": ROLE,
            "Handler": "app.handler",
            "Code": {"ZipFile": base64.b64encode(make_zip({"app.py": _marker_handler(marker)}))
                     .decode()},
        }
    )  # fmt: skip


def _function_names(lam: Any) -> set[str]:
    return {f["FunctionName"] for f in lam.list_functions()["Functions"]}


def test_cross_site_simple_request_cannot_create_or_invoke(
    server: ServerProcess, lam: Any, tmp_path: Path
) -> None:
    name, marker = unique("xsite"), tmp_path / "marker"
    # What fetch(url, {method: "POST", mode: "no-cors", body}) from evil.example sends.
    browser_headers = {
        "Content-Type": "text/plain;charset=UTF-8",
        "Origin": EVIL,
        "Sec-Fetch-Site": "cross-site",
        "Sec-Fetch-Mode": "no-cors",
    }
    created = httpx.post(
        f"{server.url}/2015-03-31/functions", content=_create_body(name, marker),
        headers=browser_headers,
    )  # fmt: skip
    assert created.status_code == 403
    assert created.headers["x-amzn-errortype"] == "AccessDeniedException"
    assert "Cross-site" in created.json()["message"]
    assert "access-control-allow-origin" not in created.headers
    # Older browsers send Origin but no Sec-Fetch-Site: refused too.
    older = httpx.post(
        f"{server.url}/2015-03-31/functions", content=_create_body(name, marker),
        headers={"Content-Type": "text/plain", "Origin": EVIL},
    )  # fmt: skip
    assert older.status_code == 403
    assert name not in _function_names(lam)

    # Even for a function that exists, a cross-site invoke does not run it.
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": _marker_handler(marker)})},
    )  # fmt: skip
    wait_active(lam, name)
    for invocation_type in ("Event", "RequestResponse"):
        invoked = httpx.post(
            f"{server.url}/2015-03-31/functions/{name}/invocations", content=b"{}",
            headers={**browser_headers, "X-Amz-Invocation-Type": invocation_type},
        )  # fmt: skip
        assert invoked.status_code == 403, invoked.text
    # Another port of localhost is "same-site" for a browser, and refused as well.
    same_site = httpx.post(
        f"{server.url}/2015-03-31/functions/{name}/invocations", content=b"{}",
        headers={"Origin": "http://localhost:8000", "Sec-Fetch-Site": "same-site"},
    )  # fmt: skip
    assert same_site.status_code == 403
    # boto3 (no browser headers) runs it: proof that the refusals above were the guard.
    assert lam.invoke(FunctionName=name)["StatusCode"] == 200
    assert marker.read_text() == "pwned"


def test_cross_site_requests_to_the_other_protocols_are_refused(
    server: ServerProcess,
) -> None:
    sns_form = httpx.post(
        f"{server.url}/", content=b"Action=CreateTopic&Name=xsite-topic&Version=2010-03-31",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": EVIL,
                 "Sec-Fetch-Site": "cross-site"},
    )  # fmt: skip
    assert sns_form.status_code == 403
    assert "<Code>AccessDenied</Code>" in sns_form.text
    sqs_json = httpx.post(
        f"{server.url}/", content=b'{"QueueName": "xsite-queue"}',
        headers={"Content-Type": "text/plain", "X-Amz-Target": "AmazonSQS.CreateQueue",
                 "Origin": EVIL},
    )  # fmt: skip
    assert sqs_json.status_code == 403
    assert sqs_json.json()["__type"] == "AccessDeniedException"
    internal = httpx.post(f"{server.url}/_sendoff/events/x/redrive", headers={"Origin": EVIL})
    assert internal.status_code == 403
    sns = boto3.client(
        "sns", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )  # fmt: skip
    assert not [t for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith("xsite-topic")]


def test_dns_rebinding_host_is_refused_everywhere(server: ServerProcess, lam: Any) -> None:
    name = unique("rebind")
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": "def handler(e, c):\n    return 1\n"})},
    )  # fmt: skip
    wait_active(lam, name)
    # After rebinding, the attacker's page is same-origin: no Origin on GET, and
    # Sec-Fetch-Site: same-origin. Only the Host header gives it away.
    rebound = {"Host": f"evil.example:{server.port}", "Sec-Fetch-Site": "same-origin"}
    get = httpx.get(f"{server.url}/2015-03-31/functions/{name}", headers=rebound)
    assert get.status_code == 403
    assert "DNS rebinding" in get.json()["message"]
    assert "evil.example" not in get.text.replace("'evil.example:", "")  # no Code.Location
    created = httpx.post(
        f"{server.url}/2015-03-31/functions", content=_create_body(unique(), Path("/x")),
        headers=rebound,
    )  # fmt: skip
    assert created.status_code == 403
    console_post = httpx.post(
        f"{server.url}/console/functions/{name}/code", data={"source": "x"},
        headers={**rebound, "Origin": f"http://evil.example:{server.port}"},
    )  # fmt: skip
    assert console_post.status_code == 403
    assert console_post.headers["content-type"].startswith("text/plain")
    console_get = httpx.get(f"{server.url}/console", headers=rebound)
    assert console_get.status_code == 403
    query = httpx.post(
        f"{server.url}/", content=b"Action=CreateTopic&Name=rebound",
        headers={"Host": "evil.example", "Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert query.status_code == 403
    assert "<Code>AccessDenied</Code>" in query.text
    # Refused hosts are logged once each, naming the flag that allows them.
    assert server.log().count("refused Host 'evil.example") == 1
    assert "--allowed-host evil.example" in server.log()


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("localhost", True),
        ("api.localhost", True),
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("[::1]", True),
        ("10.1.2.3", True),  # an address cannot be rebound
        ("sendoff.test", True),  # --allowed-host
        ("a.corp.test", True),  # --allowed-host *.corp.test
        ("corp.test.evil.example", False),
        ("localhost.evil.example", False),
        ("evil.example", False),
        ("", False),
    ],
)
def test_host_allowlist(server: ServerProcess, host: str, allowed: bool) -> None:
    value = f"{host}:{server.port}" if host else ""
    response = httpx.get(f"{server.url}/2015-03-31/functions/", headers={"Host": value})
    assert (response.status_code == 200) is allowed, response.text


def test_health_and_console_links_stay_open(server: ServerProcess) -> None:
    linked = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    console = httpx.get(f"{server.url}/console", headers=linked, follow_redirects=True)
    assert console.status_code == 200
    assert "<html" in console.text.lower()
    assert httpx.get(f"{server.url}/_sendoff/health", headers=linked).status_code == 200
    form = httpx.post(
        f"{server.url}/console/queues", data={"name": "q"},
        headers={**linked, "Origin": EVIL},
    )  # fmt: skip
    assert form.status_code == 403


def test_cors_only_for_an_origin_the_user_allowed(server: ServerProcess) -> None:
    url = f"{server.url}/2015-03-31/functions/"
    app = "http://app.localhost:3000"
    preflight = httpx.options(
        url,
        headers={"Origin": app, "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "authorization,x-amz-date"},
    )  # fmt: skip
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == app
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    listed = httpx.get(url, headers={"Origin": app, "Sec-Fetch-Site": "same-site"})
    assert listed.status_code == 200
    assert listed.headers["access-control-allow-origin"] == app
    assert "x-amzn-requestid" in listed.headers["access-control-expose-headers"]
    other = httpx.get(url, headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"})
    assert other.status_code == 403
    assert "access-control-allow-origin" not in other.headers
    evil_preflight = httpx.options(
        url, headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in evil_preflight.headers


def test_aws_cli_works_unchanged(server: ServerProcess) -> None:
    assert "Functions" in aws(server.url, "lambda", "list-functions")
    assert "QueueUrl" in aws(server.url, "sqs", "create-queue", "--queue-name", "cli-guard")
