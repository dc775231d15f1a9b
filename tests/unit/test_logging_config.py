"""A function's LoggingConfig: validation, the shape GetFunction returns, and the JSON
log format made from the text lines (pure functions)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from sendoff.functions.errors import InvalidParameterValue
from sendoff.functions.logging_config import (
    invoke_status,
    json_lines,
    logging_changes,
    logging_environment,
    logging_wire,
)
from sendoff.model.function import FunctionConfig

RID = "6f0c1c9e-0000-4000-8000-000000000001"
TEXT = [
    f"START RequestId: {RID} Version: $LATEST",
    f"[INFO]\t2026-01-01T00:00:00.001Z\t{RID}\tinfo line",
    f"[WARNING]\t2026-01-01T00:00:00.002Z\t{RID}\twarn line",
    f"2026-01-01T00:00:00.003Z\t{RID}\tERROR\tnode error\rsecond line",
    "plain print",
    f"END RequestId: {RID}",
    f"REPORT RequestId: {RID}\tDuration: 1.50 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
    "Max Memory Used: 40 MB\tInit Duration: 100.25 ms\t",
]
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def config(**changes: str) -> FunctionConfig:
    base = FunctionConfig(name="fn", version="$LATEST", runtime="python3.12", handler="a.b",
                          role="r", code_sha256="x", code_size=1)  # fmt: skip
    return FunctionConfig(**{**base.to_json(), "architectures": ("x86_64",), **changes})


def test_platform_lines_become_records() -> None:
    records = [json.loads(line) for line in json_lines(TEXT, now=NOW) if line.startswith("{")]
    start, *_, done, report = records
    assert start == {"time": "2026-01-01T00:00:00.000Z", "type": "platform.start",
                     "record": {"requestId": RID, "version": "$LATEST"}}  # fmt: skip
    assert done["type"] == "platform.runtimeDone" and done["record"]["status"] == "success"
    assert report["record"] == {
        "requestId": RID,
        "metrics": {"durationMs": 1.5, "billedDurationMs": 2, "memorySizeMB": 128,
                    "maxMemoryUsedMB": 40, "initDurationMs": 100.25},
        "status": "success",
    }  # fmt: skip


def test_runtime_lines_become_json_with_levels_and_prints_stay_text() -> None:
    lines = json_lines(TEXT, now=NOW, application_level="WARN", system_level="WARN")
    assert lines == [
        json.dumps({"timestamp": "2026-01-01T00:00:00.002Z", "level": "WARN",
                    "message": "warn line", "requestId": RID}, separators=(",", ":")),
        json.dumps({"timestamp": "2026-01-01T00:00:00.003Z", "level": "ERROR",
                    "requestId": RID, "message": "node error\rsecond line"},
                   separators=(",", ":")),
        "plain print",
    ]  # fmt: skip


def test_statuses() -> None:
    assert [invoke_status(e) for e in (None, "Sandbox.Timedout", "ValueError")] == [
        "success", "timeout", "error"]  # fmt: skip


def test_logging_config_validated_merged_and_shown() -> None:
    created = config(**logging_changes({"LogFormat": "JSON", "LogGroup": "/shared/a"}))
    assert logging_wire(created) == {"LogFormat": "JSON", "ApplicationLogLevel": "INFO",
                                     "SystemLogLevel": "INFO", "LogGroup": "/shared/a"}  # fmt: skip
    assert logging_environment(created) == {"AWS_LAMBDA_LOG_FORMAT": "JSON",
                                            "AWS_LAMBDA_LOG_LEVEL": "INFO"}  # fmt: skip
    updated = config(**{**created.to_json(), **logging_changes({"LogFormat": "Text"}, created)})
    assert logging_wire(updated) == {"LogFormat": "Text", "LogGroup": "/shared/a"}
    assert logging_wire(config()) == {"LogFormat": "Text", "LogGroup": "/aws/lambda/fn"}
    for bad in ({"LogFormat": "XML"}, {"ApplicationLogLevel": "LOUD"},
                {"SystemLogLevel": "ERROR"}, {"LogGroup": "bad group"}, "Text"):  # fmt: skip
        with pytest.raises(InvalidParameterValue):
            logging_changes(bad)
