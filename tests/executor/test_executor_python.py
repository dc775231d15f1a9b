"""The python3.x runtime, driven through Executor.invoke with real processes."""

from __future__ import annotations

import asyncio
import json
import re

from tests.executor.executor_harness import ENDPOINT, Harness, eventually, pid_alive

APP = """\
import os, sys


def handler(event, context):
    print("got", event)
    return {"echo": event, "pid": os.getpid()}


def inner():
    raise ValueError("boom")


def fails(event, context):
    inner()


def exits(event, context):
    print("about to exit")
    os._exit(event.get("code", 1))


def sys_exit(event, context):
    sys.exit(2)


def crashes(event, context):
    os.abort()


def hangs(event, context):
    print("hanging")
    while True:
        pass


def chatty(event, context):
    print("FIRST-LINE")
    line = "x" * 1023
    for _ in range(20_000):
        print(line)
    print("LAST-LINE")
    return "done"


def big(event, context):
    return "y" * (7 * 1024 * 1024)


def raw_bytes(event, context):
    return b"not json"


def not_serializable(event, context):
    return object()


def env(event, context):
    return dict(os.environ)


def context_fields(event, context):
    cc = context.client_context
    return {
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "identity": [context.identity.cognito_identity_id,
                     context.identity.cognito_identity_pool_id],
        "client_custom": cc.custom if cc else None,
        "client_app_title": cc.client.app_title if cc and cc.client else None,
        "trace_env": os.environ.get("_X_AMZN_TRACE_ID"),
        "cwd": os.getcwd(),
        "sys_path0": sys.path[0],
    }


def uses_boto3(event, context):
    import boto3
    return {"version": boto3.__version__,
            "endpoint": boto3.client("sqs").meta.endpoint_url}


def logs(event, context):
    import logging
    logger = logging.getLogger()
    logger.setLevel(logging.INFO)
    logger.info("via logging")
    return None


def hog(event, context):
    chunks = [bytearray(10 * 1024 * 1024) for _ in range(40)]
    while True:
        len(chunks)
"""


def _fn(harness: Harness, handler: str, **overrides: object):
    return harness.function({"app.py": APP}, handler=f"app.{handler}", **overrides)


def test_success_cold_then_warm_same_process(harness: Harness) -> None:
    spec = _fn(harness, "handler", memory_mb=128)

    async def scenario(executor):
        first = await executor.invoke(spec, harness.request(spec, b'{"n": 1}'))
        second = await executor.invoke(spec, harness.request(spec, b'{"n": 2}'))
        return first, second, executor.stats()

    first, second, stats = harness.run(scenario)
    body1, body2 = json.loads(first.payload), json.loads(second.payload)
    assert body1["echo"] == {"n": 1} and body2["echo"] == {"n": 2}
    assert body1["pid"] == body2["pid"]
    assert first.cold_start and not second.cold_start
    assert first.init_duration_ms is not None and first.init_duration_ms > 0
    assert second.init_duration_ms is None
    assert first.function_error is None and first.error_type is None
    assert stats["cold_starts"] == 1 and stats["warm_starts"] == 1
    assert stats["environments"] == 1 and stats["busy"] == 0
    assert 1 <= first.max_memory_used_mb <= 128
    assert first.billed_duration_ms >= 1


def test_log_lines_follow_aws_format(harness: Harness) -> None:
    spec = _fn(harness, "handler", memory_mb=128)

    async def scenario(executor):
        cold = await executor.invoke(spec, harness.request(spec, b'{"n": 1}', request_id="req-1"))
        warm = await executor.invoke(spec, harness.request(spec, b'{"n": 2}', request_id="req-2"))
        return cold.log, warm.log

    cold, warm = harness.run(scenario)
    lines = cold.splitlines()
    assert lines[0] == "START RequestId: req-1 Version: $LATEST"
    assert lines[1] == "got {'n': 1}"
    assert lines[2] == "END RequestId: req-1"
    assert re.fullmatch(
        r"REPORT RequestId: req-1\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
        r"Memory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms\t",
        lines[3],
    )
    assert "Init Duration" not in warm
    assert "got {'n': 2}" in warm and "got {'n': 1}" not in warm


def test_output_before_return_is_always_in_its_own_log(harness: Harness) -> None:
    spec = _fn(harness, "handler")

    async def scenario(executor):
        logs = []
        for n in range(40):
            result = await executor.invoke(spec, harness.request(spec, json.dumps(n).encode()))
            logs.append(result.log)
        return logs

    for n, log in enumerate(harness.run(scenario)):
        printed = [line for line in log.splitlines() if line.startswith("got ")]
        assert printed == [f"got {n}"]


def test_function_error_has_aws_python_shape(harness: Harness) -> None:
    spec = _fn(harness, "fails")

    async def scenario(executor):
        request = harness.request(spec, request_id="err-1")
        return await executor.invoke(spec, request), executor.stats()

    result, stats = harness.run(scenario)
    assert result.function_error == "Unhandled"
    assert result.error_type == "ValueError"
    body = json.loads(result.payload)
    assert list(body) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert body["errorMessage"] == "boom" and body["requestId"] == "err-1"
    assert len(body["stackTrace"]) == 2
    assert re.fullmatch(
        r'  File "/.+/app\.py", line \d+, in fails\n    inner\(\)\n', body["stackTrace"][0]
    )
    assert body["stackTrace"][1].endswith('in inner\n    raise ValueError("boom")\n')
    assert "[ERROR] ValueError: boom\rTraceback (most recent call last):" in result.log
    assert stats["environments"] == 1  # a handled error keeps the environment


def test_import_error_reported_and_environment_discarded(harness: Harness) -> None:
    spec = harness.function({"app.py": APP}, handler="missing.handler")

    async def scenario(executor):
        first = await executor.invoke(spec, harness.request(spec, request_id="imp-1"))
        second = await executor.invoke(spec, harness.request(spec))
        return first, second, executor.stats()

    first, second, stats = harness.run(scenario)
    assert first.function_error == "Unhandled"
    assert first.error_type == "Runtime.ImportModuleError"
    assert json.loads(first.payload) == {
        "errorMessage": "Unable to import module 'missing': No module named 'missing'",
        "errorType": "Runtime.ImportModuleError",
        "requestId": "imp-1",
        "stackTrace": [],
    }
    assert first.cold_start and second.cold_start  # discarded after the init error
    assert stats["cold_starts"] == 2
    assert first.log.index("[ERROR] Runtime.ImportModuleError") < first.log.index("START")


def test_missing_handler_attribute(harness: Harness) -> None:
    spec = _fn(harness, "nope")
    result = harness.run(lambda ex: ex.invoke(spec, harness.request(spec)))
    assert result.error_type == "Runtime.HandlerNotFound"
    assert json.loads(result.payload)["errorMessage"] == "Handler 'nope' missing on module 'app'"


def test_timeout_kills_environment(harness: Harness) -> None:
    spec = _fn(harness, "hangs", timeout_s=1)

    pids: list[int] = []

    async def scenario(executor):
        task = asyncio.create_task(
            executor.invoke(spec, harness.request(spec, request_id="slow-1"))
        )
        await eventually(lambda: bool(executor.pids()))
        pids.extend(executor.pids())
        return await task, executor.stats()

    result, stats = harness.run(scenario)
    assert result.function_error == "Unhandled"
    assert result.error_type == "Sandbox.Timedout"
    assert json.loads(result.payload) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "RequestId: slow-1 Error: Task timed out after 1.00 seconds",
    }
    assert re.search(
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z slow-1 Task timed out after 1\.00 seconds$",
        result.log,
        re.MULTILINE,
    )
    assert "hanging" in result.log
    assert 1000 <= result.duration_ms < 2000
    assert stats["environments"] == 0
    assert pids and not any(pid_alive(pid) for pid in pids)


def test_process_exit_mid_invoke(harness: Harness) -> None:
    spec = _fn(harness, "exits")

    async def scenario(executor):
        one = await executor.invoke(spec, harness.request(spec, b'{"code": 1}', request_id="x-1"))
        two = await executor.invoke(spec, harness.request(spec, b'{"code": 0}', request_id="x-2"))
        return one, two

    one, two = harness.run(scenario)
    assert one.error_type == "Runtime.ExitError"
    assert json.loads(one.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "RequestId: x-1 Error: Runtime exited with error: exit status 1",
    }
    assert "about to exit" in one.log
    assert "RequestId: x-1 Error: Runtime exited with error: exit status 1\nRuntime.ExitError" in (
        one.log
    )
    assert two.cold_start
    assert json.loads(two.payload)["errorMessage"] == (
        "RequestId: x-2 Error: Runtime exited without providing a reason"
    )


def test_sys_exit_and_signal_deaths(harness: Harness) -> None:
    exit_spec = _fn(harness, "sys_exit")
    crash_spec = _fn(harness, "crashes")

    async def scenario(executor):
        return (
            await executor.invoke(exit_spec, harness.request(exit_spec, request_id="s-1")),
            await executor.invoke(crash_spec, harness.request(crash_spec, request_id="s-2")),
        )

    exited, crashed = harness.run(scenario)
    assert json.loads(exited.payload)["errorMessage"].endswith("exit status 2")
    assert json.loads(crashed.payload)["errorMessage"] == (
        "RequestId: s-2 Error: Runtime exited with error: signal: aborted"
    )


def test_huge_output_is_capped_and_never_blocks(harness: Harness) -> None:
    spec = _fn(harness, "chatty")
    result = harness.run(lambda ex: ex.invoke(spec, harness.request(spec)))
    assert result.payload == b'"done"'
    assert len(result.log) < 512 * 1024 + 4096  # output.DEFAULT_LOG_LIMIT_BYTES + lines
    assert "FIRST-LINE" in result.log and "LAST-LINE" in result.log
    assert re.search(r"\[sendoff: \d+ bytes of output truncated\]", result.log)
    assert result.log.rstrip("\n").splitlines()[-1].startswith("REPORT RequestId:")


def test_response_too_large(harness: Harness) -> None:
    spec = _fn(harness, "big")

    async def scenario(executor):
        result = await executor.invoke(spec, harness.request(spec))
        return result, executor.stats()

    result, stats = harness.run(scenario)
    assert result.function_error == "Unhandled"
    assert result.error_type == "Function.ResponseSizeTooLarge"
    assert json.loads(result.payload) == {
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": (
            "Response payload size exceeded maximum allowed payload size (6291556 bytes)."
        ),
    }
    assert stats["environments"] == 1  # the runtime is still healthy


def test_bytes_and_unserializable_results(harness: Harness) -> None:
    raw = _fn(harness, "raw_bytes")
    bad = _fn(harness, "not_serializable")

    async def scenario(executor):
        return (
            await executor.invoke(raw, harness.request(raw)),
            await executor.invoke(bad, harness.request(bad)),
        )

    raw_result, bad_result = harness.run(scenario)
    assert raw_result.payload == b"not json" and raw_result.function_error is None
    assert bad_result.error_type == "Runtime.MarshalError"
    assert json.loads(bad_result.payload)["errorMessage"].startswith(
        "Unable to marshal response: Object of type object is not JSON serializable"
    )


def test_environment_variables(harness: Harness) -> None:
    spec = _fn(
        harness,
        "env",
        name="env-fn",
        memory_mb=192,
        environment={"MY_VAR": "mine", "AWS_REGION": "hacked", "LANG": "C.UTF-8"},
    )
    body = json.loads(harness.run(lambda ex: ex.invoke(spec, harness.request(spec))).payload)
    assert body["MY_VAR"] == "mine"
    assert body["LANG"] == "C.UTF-8"  # unreserved: the user may override it
    assert body["AWS_REGION"] == body["AWS_DEFAULT_REGION"] == "us-east-1"
    assert body["AWS_LAMBDA_FUNCTION_NAME"] == "env-fn"
    assert body["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert body["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "192"
    assert body["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/env-fn"
    assert re.fullmatch(
        r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", body["AWS_LAMBDA_LOG_STREAM_NAME"]
    )
    assert re.fullmatch(r"127\.0\.0\.1:\d+", body["AWS_LAMBDA_RUNTIME_API"])
    assert body["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert body["_HANDLER"] == "app.env"
    assert body["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert body["LAMBDA_TASK_ROOT"].endswith(spec_dir_suffix(spec.code_sha256))
    assert body["LAMBDA_RUNTIME_DIR"].endswith("executor/bootstrap")
    assert body["AWS_ENDPOINT_URL"] == ENDPOINT
    assert body["AWS_ACCESS_KEY_ID"] and body["AWS_SECRET_ACCESS_KEY"] and body["AWS_SESSION_TOKEN"]
    assert body["TZ"] == ":UTC"
    assert body["PATH"]


def spec_dir_suffix(code_sha256: str) -> str:
    import base64

    return base64.b64decode(code_sha256).hex()


def test_context_fields(harness: Harness) -> None:
    spec = _fn(harness, "context_fields", name="ctx-fn", timeout_s=7, memory_mb=128)
    client_context = json.dumps({"custom": {"k": "v"}, "client": {"app_title": "t"}})
    request = harness.request(
        spec,
        request_id="ctx-1",
        invoked_function_arn=spec.function_arn + ":live",
        trace_id="Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        client_context=client_context,
    )
    result = harness.run(lambda ex: ex.invoke(spec, request))
    body = json.loads(result.payload)
    assert body["aws_request_id"] == "ctx-1"
    assert result.log_stream == body["log_stream_name"]
    assert body["function_name"] == "ctx-fn"
    assert body["function_version"] == "$LATEST"
    assert body["invoked_function_arn"] == spec.function_arn + ":live"
    assert body["memory_limit_in_mb"] == "128"
    assert body["log_group_name"] == "/aws/lambda/ctx-fn"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", body["log_stream_name"])
    assert 5000 < body["remaining"] <= 7000
    assert body["identity"] == [None, None]
    assert body["client_custom"] == {"k": "v"} and body["client_app_title"] == "t"
    assert body["trace_env"] == request.trace_id
    assert body["cwd"] == body["sys_path0"]


def test_boto3_importable_and_pointed_at_sendoff(harness: Harness) -> None:
    spec = _fn(harness, "uses_boto3")
    result = harness.run(lambda ex: ex.invoke(spec, harness.request(spec)))
    body = json.loads(result.payload)
    assert body["version"]
    assert body["endpoint"] == ENDPOINT


def test_logging_module_uses_aws_format(harness: Harness) -> None:
    spec = _fn(harness, "logs")
    result = harness.run(lambda ex: ex.invoke(spec, harness.request(spec, request_id="log-1")))
    assert re.search(
        r"^\[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\tlog-1\tvia logging$",
        result.log,
        re.MULTILINE,
    )


def test_memory_limit_enforced(harness: Harness) -> None:
    spec = _fn(harness, "hog", memory_mb=128, timeout_s=20)
    result = harness.run(lambda ex: ex.invoke(spec, harness.request(spec, request_id="oom-1")))
    assert result.error_type == "Runtime.OutOfMemory"
    assert json.loads(result.payload)["errorMessage"] == (
        "RequestId: oom-1 Error: Runtime exited with error: signal: killed"
    )
    assert result.max_memory_used_mb == 128
    assert "Max Memory Used: 128 MB" in result.log
