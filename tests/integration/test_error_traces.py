"""Error traces name AWS's paths, not sendoff's: the code at /var/task, the Node.js runtime
at /var/runtime/index.mjs, in sync payloads, OnFailure records and logs, under the `none`
sandbox (frames rewritten by the runtimes) and `bwrap` (the code really is at /var/task)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import client_for
from tests.security.isolation_support import require_bwrap, sandboxed_server
from tests.support.functions import ROLE, unique
from tests.support.server import ServerProcess, wait_until
from tests.support.zips import make_zip

PY_FAIL = 'import json\n\ndef handler(event, context):\n    raise ValueError("no good")\n'
NODE_CJS_FAIL = """exports.handler = async (event) => {
  throw new Error("no good");
};
"""
NODE_ESM_FAIL = """export const handler = async (event) => {
  throw new Error("no good");
};
"""
NODE_SYNC_FAIL = """exports.handler = function (event, context, callback) {
  callback(new Error("no good"));
};
"""

FUNCTIONS = {
    "python": ("python3.12", {"handler.py": PY_FAIL}, "handler.handler"),
    "node-cjs": ("nodejs20.x", {"index.js": NODE_CJS_FAIL}, "index.handler"),
    "node-esm": ("nodejs20.x", {"index.mjs": NODE_ESM_FAIL}, "index.handler"),
    "node-callback": ("nodejs20.x", {"index.js": NODE_SYNC_FAIL}, "index.handler"),
}

# What each runtime's trace says, as on AWS (python3.12 recordings; nodejs20.x traces seen
# in the wild). The handler's frame name is V8's: AWS's runtime, like sendoff's, calls it as
# `this.handler(...)` from Runtime.handleOnceNonStreaming.
EXPECTED = {
    "python": [
        '  File "/var/task/handler.py", line 4, in handler\n    raise ValueError("no good")\n'
    ],
    "node-cjs": [
        "Error: no good",
        "    at exports.handler (/var/task/index.js:2:9)",
        "    at Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1173:29)",
    ],
    "node-esm": [
        "Error: no good",
        "    at Runtime.handler (file:///var/task/index.mjs:2:9)",
        "    at Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1173:29)",
    ],
    "node-callback": [
        "Error: no good",
        "    at exports.handler (/var/task/index.js:2:12)",
        "    at Runtime.handleOnceNonStreaming (file:///var/runtime/index.mjs:1173:29)",
    ],
}


@pytest.fixture(scope="module", params=["none", "bwrap"])
def sandboxed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    if request.param == "bwrap":
        require_bwrap()
    with sandboxed_server(tmp_path_factory.mktemp("traces"), request.param) as server:
        yield server


def _wait_active(client: Any, name: str) -> None:
    """CreateFunction answers Pending; invoking before Active is a ResourceConflict."""

    def active() -> bool:
        config = client.get_function_configuration(FunctionName=name)
        return bool(config.get("State", "Active") != "Pending")

    wait_until(active, timeout=30, message=f"{name} to become Active")


def _trace(error: dict[str, Any]) -> list[str]:
    return list(error.get("stackTrace") or error.get("trace") or [])


def _create(client: Any, kind: str) -> str:
    runtime, files, handler = FUNCTIONS[kind]
    name = unique(kind)
    client.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": make_zip(files)},
        Timeout=10,
    )
    _wait_active(client, name)
    return name


@pytest.mark.parametrize("kind", sorted(FUNCTIONS))
def test_sync_error_names_var_task(sandboxed: ServerProcess, kind: str) -> None:
    client = client_for(sandboxed.url, "lambda")
    name = _create(client, kind)
    response = client.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
    raw = response["Payload"].read().decode()
    error = json.loads(raw)
    assert response["FunctionError"] == "Unhandled"
    assert _trace(error) == EXPECTED[kind]
    assert str(sandboxed.data_dir) not in raw and "sendoff" not in raw
    log = base64.b64decode(response["LogResult"]).decode()
    assert "/var/task/" in log and str(sandboxed.data_dir) not in log and "sendoff" not in log


@pytest.mark.parametrize("kind", ["python", "node-cjs"])
def test_on_failure_record_names_var_task(sandboxed: ServerProcess, kind: str) -> None:
    client = client_for(sandboxed.url, "lambda")
    sqs = client_for(sandboxed.url, "sqs")
    queue_url = sqs.create_queue(QueueName=unique("fail"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    name = _create(client, kind)
    client.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")

    def received() -> list[dict[str, Any]]:
        got = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)
        return list(got.get("Messages", []))

    body = wait_until(received, timeout=60, message="the OnFailure record")[0]["Body"]
    record = json.loads(body)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert _trace(record["responsePayload"]) == EXPECTED[kind]
    assert str(sandboxed.data_dir) not in body and "sendoff" not in body


def test_python_init_error_names_aws_paths(sandboxed: ServerProcess) -> None:
    """The recorded python3.13 init error: importlib's frames under /var/lang/lib, then the
    module's under /var/task."""
    client = client_for(sandboxed.url, "lambda")
    name = unique("pyinit")
    client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="handler.handler",
        Code={"ZipFile": make_zip({"handler.py": 'raise Exception("Runtime startup fails")\n'})},
        Timeout=10,
    )
    _wait_active(client, name)
    raw = client.invoke(FunctionName=name, Payload=b"{}")["Payload"].read().decode()
    error = json.loads(raw)
    assert error["errorType"] == "Exception"
    trace = error["stackTrace"]
    assert re.match(  # (python3.11 adds a line of carets that 3.13 leaves out)
        r'  File "/var/lang/lib/python3\.\d+/importlib/__init__\.py", line \d+, in import_module\n'
        r"    return _bootstrap\._gcd_import\(name\[level:\], package, level\)\n",
        trace[0],
    )
    assert trace[-1] == (
        '  File "/var/task/handler.py", line 1, in <module>\n'
        '    raise Exception("Runtime startup fails")\n'
    )
    assert str(sandboxed.data_dir) not in raw and "sendoff" not in raw


def test_node_import_error_names_aws_paths(sandboxed: ServerProcess) -> None:
    """A missing require: the require stack names /var/task and /var/runtime, as on AWS."""
    client = client_for(sandboxed.url, "lambda")
    name = unique("nodeinit")
    client.create_function(
        FunctionName=name,
        Runtime="nodejs20.x",
        Role=ROLE,
        Handler="index.handler",
        Code={"ZipFile": make_zip({"index.js": "require('./nope');\n"})},
        Timeout=10,
    )
    _wait_active(client, name)
    raw = client.invoke(FunctionName=name, Payload=b"{}")["Payload"].read().decode()
    error = json.loads(raw)
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == (
        "Error: Cannot find module './nope'\n"
        "Require stack:\n- /var/task/index.js\n- /var/runtime/index.mjs"
    )
    assert all("file:///var/runtime/index.mjs:" in line for line in error["trace"][4:])
    assert str(sandboxed.data_dir) not in raw and "sendoff" not in raw
