"""Issue 17: a trailing slash is not redirected (Starlette's ``redirect_slashes`` is off).
AWS routes a path or answers that no operation is there; where it takes both forms
(ListFunctions, InvokeAsync) both are routed. No answer redirects to a Host the request
named."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import client_for
from tests.support.functions import create_python, unique
from tests.support.server import ServerProcess

UNROUTED = [
    ("GET", "/2015-03-31/functions/{fn}/", "rest-json"),
    ("GET", "/2015-03-31/functions/{fn}/versions/", "rest-json"),
    ("GET", "/2015-03-31/functions/{fn}/aliases/", "rest-json"),
    ("GET", "/2019-09-25/functions/{fn}/event-invoke-config/", "rest-json"),
    ("POST", "/2015-03-31/functions/{fn}/invocations/", "rest-json"),
    ("GET", "/_sendoff/health/", "internal"),
    ("GET", "/_sendoff/events/", "internal"),
    ("GET", "/console/functions/", "console"),
]


@pytest.fixture(scope="module")
def fn(server: ServerProcess) -> str:
    name = unique("slash")
    create_python(client_for(server.url, "lambda"), name)
    return name


@pytest.mark.parametrize(("method", "path", "protocol"), UNROUTED)
def test_a_trailing_slash_is_not_an_operation_and_not_a_redirect(
    server: ServerProcess, fn: str, method: str, path: str, protocol: str
) -> None:
    response = httpx.request(method, server.url + path.format(fn=fn), content=b"{}")
    assert response.status_code == 404, response.headers
    assert "location" not in response.headers
    if protocol == "rest-json":
        assert response.headers["x-amzn-errortype"] == "UnknownOperationException"
        assert response.json()["message"].startswith("No operation at")
    elif protocol == "internal":
        assert response.json()["code"] == "UnknownOperationException"


@pytest.mark.parametrize("path", ["/2015-03-31/functions", "/2015-03-31/functions/"])
def test_list_functions_answers_both_forms_as_aws_does(
    server: ServerProcess, fn: str, path: str
) -> None:
    names: list[str] = []
    marker = None
    while True:  # a shared server holds more than one page of functions
        response = httpx.get(server.url + path, params={"Marker": marker} if marker else None)
        assert response.status_code == 200
        names += [f["FunctionName"] for f in response.json()["Functions"]]
        marker = response.json().get("NextMarker")
        if not marker:
            break
    assert fn in names


@pytest.mark.parametrize("suffix", ["invoke-async", "invoke-async/"])
def test_invoke_async_answers_both_forms(server: ServerProcess, fn: str, suffix: str) -> None:
    response = httpx.post(f"{server.url}/2014-11-13/functions/{fn}/{suffix}", content=b"{}")
    assert response.status_code == 202


@pytest.mark.parametrize(
    "path",
    [
        "/2015-03-31/functions/x/",
        "/console/",
        "/console/functions/",
        "/console//evil.example/",
        "/_sendoff/health/",
        "//evil.example/",
    ],
)
def test_no_answer_points_at_the_host_the_request_named(server: ServerProcess, path: str) -> None:
    # "localhost" passes the Host guard; a Location built from it would carry it
    response = httpx.get(
        server.url + path, headers={"Host": f"localhost:{server.port}"}, follow_redirects=False
    )
    location = response.headers.get("location")
    if location is not None:
        assert location.startswith("/") and not location.startswith(("//", "/\\")), location
        assert "localhost" not in location and "evil" not in location
