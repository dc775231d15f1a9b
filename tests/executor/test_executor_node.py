"""The nodejs*.x runtime, driven through Executor.invoke with real node processes."""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest

from tests.executor.executor_harness import Harness

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None and os.environ.get("CI") != "true",
    reason="node is not installed (under CI=true these tests run and fail instead)",
)

# From the AWS Lambda Destinations announcement; it must run unchanged.
DESTINATIONS_HANDLER = """\
exports.handler = function(event, context, callback) {
var event_received_at = new Date().toISOString();
console.log('Event received at: ' + event_received_at);
console.log('Received event:', JSON.stringify(event, null, 2));
if (event.Success) { console.log("Success"); context.callbackWaitsForEmptyEventLoop = false; callback(null); }
else { console.log("Failure"); context.callbackWaitsForEmptyEventLoop = false;
  callback(new Error("Failure from event, Success = false, I am failing!"), 'Destination Function Error Thrown'); }
};
"""  # noqa: E501

HANDLERS = """\
exports.asyncOk = async (event, context) => ({ echo: event, pid: process.pid });
exports.asyncThrows = async () => { throw new TypeError("bad type"); };
exports.succeeds = (event, context) => { context.succeed({ via: "succeed" }); };
exports.fails = (event, context) => { context.fail(new Error("via fail")); };
exports.done = (event, context) => { context.done(null, "via done"); };
exports.noCallback = (event, context) => { console.log("returned without callback"); };
exports.waits = (event, context, callback) => {
  setTimeout(() => console.log("timer fired"), 30);
  callback(null, "waited");
};
exports.noWait = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = false;
  setTimeout(() => console.log("late timer"), 200);
  callback(null, "early");
};
exports.context = (event, context, callback) => callback(null, {
  awsRequestId: context.awsRequestId,
  functionName: context.functionName,
  functionVersion: context.functionVersion,
  invokedFunctionArn: context.invokedFunctionArn,
  memoryLimitInMB: context.memoryLimitInMB,
  logGroupName: context.logGroupName,
  logStreamName: context.logStreamName,
  remaining: context.getRemainingTimeInMillis(),
  clientContext: context.clientContext,
  trace: process.env._X_AMZN_TRACE_ID,
  waits: context.callbackWaitsForEmptyEventLoop,
});
exports.levels = async () => {
  console.info("info line"); console.warn("warn line"); console.error("error line");
  console.debug("debug line");
  process.stdout.write("raw stdout line\\n");
  return "ok";
};
exports.exits = async () => { process.exit(3); };
exports.hangs = () => new Promise(() => { setInterval(() => {}, 1000); });
exports.rejects = async () => {
  Promise.reject(new Error("nobody caught me"));
  return new Promise(() => { setInterval(() => {}, 1000); });
};
exports.nested = { deeper: async () => "nested" };
"""


def _node(harness: Harness, handler: str, files: dict[str, str] | None = None, **kw: object):
    return harness.function(
        files or {"index.js": HANDLERS}, runtime="nodejs20.x", handler=handler, **kw
    )


def test_destinations_handler_succeeds_and_fails(harness: Harness) -> None:
    spec = harness.function(
        {"index.js": DESTINATIONS_HANDLER}, runtime="nodejs20.x", handler="index.handler"
    )

    async def scenario(executor):
        ok = await executor.invoke(
            spec, harness.request(spec, b'{"Success": true}', request_id="d-1")
        )
        bad = await executor.invoke(spec, harness.request(spec, b'{"Success": false}'))
        return ok, bad

    ok, bad = harness.run(scenario)
    assert ok.function_error is None and ok.payload == b"null"
    assert re.search(
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\td-1\tINFO\t"
        r"Received event: \{\r  \"Success\": true\r\}$",
        ok.log,
        re.MULTILINE,
    )
    assert "\tINFO\tSuccess\n" in ok.log
    assert bad.function_error == "Unhandled" and bad.error_type == "Error"
    body = json.loads(bad.payload)
    assert body["errorType"] == "Error"
    assert body["errorMessage"] == "Failure from event, Success = false, I am failing!"
    assert body["trace"][0] == "Error: Failure from event, Success = false, I am failing!"
    assert "\tERROR\tInvoke Error \t" in bad.log
    assert not bad.cold_start  # a function error keeps the environment


def test_async_handler_and_warm_reuse(harness: Harness) -> None:
    spec = _node(harness, "index.asyncOk")

    async def scenario(executor):
        first = await executor.invoke(spec, harness.request(spec, b'{"n": 1}'))
        second = await executor.invoke(spec, harness.request(spec, b'{"n": 2}'))
        return first, second

    first, second = harness.run(scenario)
    one, two = json.loads(first.payload), json.loads(second.payload)
    assert one["echo"] == {"n": 1} and two["echo"] == {"n": 2}
    assert one["pid"] == two["pid"]
    assert first.cold_start and not second.cold_start


def test_async_throw_and_nested_handler(harness: Harness) -> None:
    throws = _node(harness, "index.asyncThrows")
    nested = _node(harness, "index.nested.deeper")

    async def scenario(executor):
        return (
            await executor.invoke(throws, harness.request(throws)),
            await executor.invoke(nested, harness.request(nested)),
        )

    thrown, nested_result = harness.run(scenario)
    assert thrown.error_type == "TypeError"
    assert json.loads(thrown.payload)["errorMessage"] == "bad type"
    assert nested_result.payload == b'"nested"'


def test_context_succeed_fail_done_and_no_callback(harness: Harness) -> None:
    specs = {name: _node(harness, f"index.{name}") for name in ("succeeds", "fails", "done")}
    silent = _node(harness, "index.noCallback")

    async def scenario(executor):
        results = {n: await executor.invoke(s, harness.request(s)) for n, s in specs.items()}
        results["noCallback"] = await executor.invoke(silent, harness.request(silent))
        return results

    results = harness.run(scenario)
    assert json.loads(results["succeeds"].payload) == {"via": "succeed"}
    assert results["fails"].error_type == "Error"
    assert json.loads(results["fails"].payload)["errorMessage"] == "via fail"
    assert results["done"].payload == b'"via done"'
    assert results["noCallback"].payload == b"null"
    assert "returned without callback" in results["noCallback"].log


def test_callback_waits_for_empty_event_loop(harness: Harness) -> None:
    waits = _node(harness, "index.waits")
    early = _node(harness, "index.noWait")

    async def scenario(executor):
        return (
            await executor.invoke(waits, harness.request(waits)),
            await executor.invoke(early, harness.request(early)),
        )

    waited, early_result = harness.run(scenario)
    assert waited.payload == b'"waited"' and "timer fired" in waited.log
    assert early_result.payload == b'"early"' and "late timer" not in early_result.log


def test_es_modules(harness: Harness) -> None:
    mjs = harness.function(
        {"app.mjs": "export const handler = async (event) => ({ esm: 'mjs', event });\n"},
        runtime="nodejs22.x",
        handler="app.handler",
    )
    typed = harness.function(
        {
            "package.json": '{"type": "module"}',
            "src/index.js": (
                "import { helper } from './helper.js';\n"
                "const prefix = await Promise.resolve('tla');\n"
                "export async function handler(event) { return helper(prefix); }\n"
            ),
            "src/helper.js": "export const helper = (p) => `${p}-ok`;\n",
        },
        runtime="nodejs18.x",
        handler="src/index.handler",
    )

    async def scenario(executor):
        return (
            await executor.invoke(mjs, harness.request(mjs, b'{"x": 1}')),
            await executor.invoke(typed, harness.request(typed)),
        )

    mjs_result, typed_result = harness.run(scenario)
    assert json.loads(mjs_result.payload) == {"esm": "mjs", "event": {"x": 1}}
    assert typed_result.payload == b'"tla-ok"'


def test_context_fields(harness: Harness) -> None:
    spec = _node(harness, "index.context", name="node-ctx", timeout_s=4, memory_mb=512)
    request = harness.request(
        spec,
        request_id="nctx-1",
        invoked_function_arn=spec.function_arn + ":7",
        trace_id="Root=1-abc;Sampled=1",
        client_context='{"custom": {"a": 1}}',
    )
    body = json.loads(harness.run(lambda ex: ex.invoke(spec, request)).payload)
    assert body["awsRequestId"] == "nctx-1"
    assert body["functionName"] == "node-ctx"
    assert body["functionVersion"] == "$LATEST"
    assert body["invokedFunctionArn"] == spec.function_arn + ":7"
    assert body["memoryLimitInMB"] == "512"
    assert body["logGroupName"] == "/aws/lambda/node-ctx"
    assert "[$LATEST]" in body["logStreamName"]
    assert 2000 < body["remaining"] <= 4000
    assert body["clientContext"] == {"custom": {"a": 1}}
    assert body["trace"] == "Root=1-abc;Sampled=1"
    assert body["waits"] is True


def test_console_levels_and_raw_stdout(harness: Harness) -> None:
    spec = _node(harness, "index.levels")
    result = harness.run(lambda ex: ex.invoke(spec, harness.request(spec, request_id="lv-1")))
    for level, text in (("INFO", "info"), ("WARN", "warn"), ("ERROR", "error"), ("DEBUG", "debug")):
        assert f"\tlv-1\t{level}\t{text} line\n" in result.log
    assert "raw stdout line\n" in result.log


def test_load_errors(harness: Harness) -> None:
    missing_module = _node(harness, "nothere.handler")
    missing_export = _node(harness, "index.nope")
    syntax = harness.function(
        {"index.js": "exports.handler = ;\n"}, runtime="nodejs20.x", handler="index.handler"
    )

    async def scenario(executor):
        return [
            await executor.invoke(s, harness.request(s))
            for s in (missing_module, missing_export, syntax)
        ]

    module_result, export_result, syntax_result = harness.run(scenario)
    assert module_result.error_type == "Runtime.ImportModuleError"
    assert json.loads(module_result.payload)["errorMessage"].startswith(
        "Error: Cannot find module 'nothere'"
    )
    assert export_result.error_type == "Runtime.HandlerNotFound"
    assert json.loads(export_result.payload)["errorMessage"] == (
        "index.nope is undefined or not exported"
    )
    assert syntax_result.error_type == "Runtime.UserCodeSyntaxError"


def test_exit_timeout_and_unhandled_rejection(harness: Harness) -> None:
    exits = _node(harness, "index.exits")
    hangs = _node(harness, "index.hangs", timeout_s=1)
    rejects = _node(harness, "index.rejects")

    async def scenario(executor):
        return [
            await executor.invoke(s, harness.request(s, request_id=f"n-{i}"))
            for i, s in enumerate((exits, hangs, rejects))
        ]

    exited, hung, rejected = harness.run(scenario)
    assert exited.error_type == "Runtime.ExitError"
    assert json.loads(exited.payload)["errorMessage"] == (
        "RequestId: n-0 Error: Runtime exited with error: exit status 3"
    )
    assert hung.error_type == "Sandbox.Timedout"
    assert rejected.error_type == "Runtime.UnhandledPromiseRejection"
    assert json.loads(rejected.payload)["errorMessage"] == "Error: nobody caught me"


def test_streaming_handler_runs_buffered(harness: Harness) -> None:
    source = """\
exports.handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  responseStream.setContentType("text/plain");
  responseStream.write("chunk-1 ");
  responseStream.write(context.awsRequestId);
  responseStream.end();
});
"""
    spec = harness.function({"index.js": source}, runtime="nodejs20.x", handler="index.handler")
    result = harness.run(lambda ex: ex.invoke(spec, harness.request(spec, request_id="st-1")))
    assert result.function_error is None
    assert result.payload == b"chunk-1 st-1"
