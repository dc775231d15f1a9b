"""The cross-site attack of issue #11, from a real Chromium.

A page on another origin (served here by a throw-away HTTP server on ``localhost``, while
sendoff answers on ``127.0.0.1``: a different site to the browser) fires two
``fetch(..., {mode: "no-cors"})`` simple requests: create a function whose handler writes a
file, then invoke it. Before the guard both ran. Now neither may leave a trace.
"""

from __future__ import annotations

import base64
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.browser.conftest import CHROMIUM, LAUNCH_ARGS
from tests.support.functions import ROLE, unique, wait_active
from tests.support.server import ServerProcess, start_server, wait_until
from tests.support.zips import make_zip

ATTACK = """<!doctype html><html><body><script>
(async () => {
  const base = "%(base)s";
  const opts = (body) => ({method: "POST", mode: "no-cors", body,
                           headers: {"Content-Type": "text/plain"}});
  try {
    await fetch(base + "/2015-03-31/functions", opts(%(create)s));
    await fetch(base + "/2015-03-31/functions/%(name)s/invocations", opts("{}"));
  } catch (e) {}
  document.title = "done";
})();
</script></body></html>"""


@pytest.fixture
def server(browser: Any, tmp_path: Path) -> Iterator[ServerProcess]:
    # --sandbox none: the handler's side effect must land on the host's disk for the test
    # to see that it did (or did not) run.
    server = start_server(tmp_path / "data", "--sandbox", "none")
    yield server
    server.stop()


@pytest.fixture
def attacker_site(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    root = tmp_path / "site"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_a_page_elsewhere_cannot_create_or_run_a_function(
    browser: Any, server: ServerProcess, attacker_site: tuple[Path, int], tmp_path: Path
) -> None:
    root, port = attacker_site
    name, marker = unique("browser"), tmp_path / "pwned"
    handler = f"def handler(e, c):\n    open({str(marker)!r}, 'w').write('x')\n    return 1\n"
    create = json.dumps(
        {
            "FunctionName": name, "Runtime": "python3.12", "Role": ROLE,
            "Handler": "app.handler",
            "Code": {"ZipFile": base64.b64encode(make_zip({"app.py": handler})).decode()},
        }
    )  # fmt: skip
    (root / "attack.html").write_text(
        ATTACK % {"base": server.url, "create": json.dumps(create), "name": name}
    )
    page = browser.new_page()
    page.goto(f"http://localhost:{port}/attack.html")
    page.wait_for_function("document.title === 'done'", timeout=15_000)
    page.close()
    lam = boto3.client(
        "lambda", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )  # fmt: skip
    assert name not in {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    assert not marker.exists()
    assert "refused a cross-site browser request" in server.log()
    # The same page content, posted by boto3 (not a browser), is a valid request:
    # the refusal above came from the guard, not from a malformed body.
    lam.create_function(**{k: v for k, v in json.loads(create).items() if k != "Code"},
                        Code={"ZipFile": make_zip({"app.py": handler})})  # fmt: skip
    wait_active(lam, name)
    lam.invoke(FunctionName=name)
    wait_until(marker.exists, message="boto3 invoke ran the function")


def test_a_rebound_host_name_gets_nothing(browser: Any, server: ServerProcess) -> None:
    """Chromium resolving evil.example to 127.0.0.1 (what DNS rebinding achieves)."""
    instance = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        args=[*LAUNCH_ARGS, "--host-resolver-rules=MAP evil.example 127.0.0.1"],
    )
    try:
        page = instance.new_page()
        response = page.goto(f"http://evil.example:{server.port}/console/functions")
        assert response is not None and response.status == 403
        assert "DNS rebinding" in page.content()
    finally:
        instance.close()
