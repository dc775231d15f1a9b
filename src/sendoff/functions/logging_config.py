"""A function's ``LoggingConfig``: where its lines go and in which format. Pure functions.

* ``LogGroup``: the group its lines land in (default ``/aws/lambda/<name>``); made on
  first use like the default one.
* ``LogFormat``: ``Text`` (default) or ``JSON``. In JSON format the platform's lines are
  AWS's JSON records (``platform.start``, ``platform.runtimeDone``, ``platform.report``)
  and the runtime's log lines (Python's ``logging``, Node's ``console``) become
  ``{"timestamp", "level", "requestId", "message"}`` objects; what a function prints
  itself stays as it is, as on AWS. The function sees ``AWS_LAMBDA_LOG_FORMAT`` and
  ``AWS_LAMBDA_LOG_LEVEL``.
* ``ApplicationLogLevel`` / ``SystemLogLevel`` (JSON format only, default ``INFO``):
  records below the level are dropped (platform records are all ``INFO``; a runtime log
  line's level is its own). Lines sendoff cannot read a level from are kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from sendoff.functions.errors import InvalidParameterValue
from sendoff.model.function import FunctionConfig

FORMATS: Final = ("JSON", "Text")
APPLICATION_LEVELS: Final = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
SYSTEM_LEVELS: Final = ("DEBUG", "INFO", "WARN")
_RANK: Final = {name: i for i, name in enumerate(APPLICATION_LEVELS)}
_GROUP: Final = re.compile(r"[\.\-_/#A-Za-z0-9]+")


def logging_changes(value: Any, current: FunctionConfig | None = None) -> dict[str, Any]:
    """The FunctionConfig fields a request's ``LoggingConfig`` sets (merged over
    ``current`` on an update, as AWS does)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidParameterValue("LoggingConfig must be a structure.")
    log_format = value.get("LogFormat", current.log_format if current else "Text")
    if log_format not in FORMATS:
        raise InvalidParameterValue(
            f"1 validation error detected: Value '{log_format}' at 'loggingConfig.logFormat'"
            " failed to satisfy constraint: Member must satisfy enum value set: [JSON, Text]"
        )
    changes = {"log_format": str(log_format)}
    for member, field, allowed in (
        ("ApplicationLogLevel", "application_log_level", APPLICATION_LEVELS),
        ("SystemLogLevel", "system_log_level", SYSTEM_LEVELS),
    ):
        level = value.get(member, getattr(current, field, "") if current else "")
        if level and level not in allowed:
            member_path = member[0].lower() + member[1:]
            raise InvalidParameterValue(
                f"1 validation error detected: Value '{level}' at 'loggingConfig.{member_path}'"
                " failed to satisfy constraint: Member must satisfy enum value set:"
                f" [{', '.join(allowed)}]"
            )
        changes[field] = str(level or "")
    group = value.get("LogGroup", current.log_group if current else "")
    if group and (not isinstance(group, str) or len(group) > 512 or not _GROUP.fullmatch(group)):
        raise InvalidParameterValue(
            f"1 validation error detected: Value '{group}' at 'loggingConfig.logGroup'"
            " failed to satisfy constraint: Member must satisfy regular expression"
            " pattern: [\\.\\-_/#A-Za-z0-9]+"
        )
    changes["log_group"] = str(group or "")
    return changes


def log_group_of(config: FunctionConfig) -> str:
    return config.log_group or f"/aws/lambda/{config.name}"


def logging_wire(config: FunctionConfig) -> dict[str, str]:
    if config.log_format != "JSON":
        return {"LogFormat": "Text", "LogGroup": log_group_of(config)}
    return {
        "LogFormat": "JSON",
        "ApplicationLogLevel": config.application_log_level or "INFO",
        "SystemLogLevel": config.system_log_level or "INFO",
        "LogGroup": log_group_of(config),
    }


def logging_environment(config: FunctionConfig) -> dict[str, str]:
    """The variables AWS sets for a function logging in JSON format."""
    if config.log_format != "JSON":
        return {}
    return {
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": config.application_log_level or "INFO",
    }


# ---- the JSON format ----

_START = re.compile(r"^START RequestId: (\S+) Version: (\S+)$")
_END = re.compile(r"^END RequestId: (\S+)$")
_REPORT = re.compile(r"^REPORT RequestId: (\S+)\t(.*)$")
_REPORT_FIELDS: Final = {
    "Duration": "durationMs",
    "Billed Duration": "billedDurationMs",
    "Memory Size": "memorySizeMB",
    "Max Memory Used": "maxMemoryUsedMB",
    "Init Duration": "initDurationMs",
}
_PYTHON_LINE = re.compile(
    r"^\[(TRACE|DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)\]\t(\S+)\t(\S*)\t(.*)$"
)
_NODE_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\dT\S+Z)\t(\S+)\t(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\t(.*)$"
)
_PYTHON_LEVELS: Final = {"WARNING": "WARN", "CRITICAL": "FATAL"}


def _time(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _number(text: str) -> int | float:
    value = float(text.split()[0])
    return int(value) if value.is_integer() and "." not in text.split()[0] else value


def invoke_status(error_type: str | None) -> str:
    """The platform records' ``status``: success, timeout, or error."""
    if error_type is None:
        return "success"
    return "timeout" if error_type == "Sandbox.Timedout" else "error"


def json_lines(
    lines: list[str], *, status: str = "success", system_level: str = "",
    application_level: str = "", now: datetime | None = None,
) -> list[str]:  # fmt: skip
    """Text-format log lines in AWS's JSON format (see the module docstring)."""
    stamp = _time(now or datetime.now(UTC))
    platform = _RANK["INFO"] >= _RANK.get(system_level or "INFO", 2)
    floor = _RANK.get(application_level or "INFO", 2)
    out: list[str] = []
    for line in lines:
        record = _platform_record(line, stamp, status=status)
        if record is not None:
            if platform:
                out.append(json.dumps(record, separators=(",", ":")))
            continue
        converted = _application_record(line)
        if converted is None:
            out.append(line)
        elif _RANK[converted["level"]] >= floor:
            out.append(json.dumps(converted, separators=(",", ":")))
    return out


def _platform_record(line: str, stamp: str, *, status: str) -> dict[str, Any] | None:
    if m := _START.match(line):
        record: dict[str, Any] = {"requestId": m.group(1), "version": m.group(2)}
        return {"time": stamp, "type": "platform.start", "record": record}
    if m := _END.match(line):
        record = {"requestId": m.group(1), "status": status}
        return {"time": stamp, "type": "platform.runtimeDone", "record": record}
    if m := _REPORT.match(line.rstrip("\t")):
        metrics: dict[str, Any] = {}
        for part in m.group(2).split("\t"):
            name, _, value = part.partition(": ")
            if name in _REPORT_FIELDS and value:
                metrics[_REPORT_FIELDS[name]] = _number(value)
        record = {"requestId": m.group(1), "metrics": metrics, "status": status}
        return {"time": stamp, "type": "platform.report", "record": record}
    return None


def _application_record(line: str) -> dict[str, str] | None:
    if m := _PYTHON_LINE.match(line):
        level = _PYTHON_LEVELS.get(m.group(1), m.group(1))
        return {"timestamp": m.group(2), "level": level, "message": m.group(4),
                "requestId": m.group(3)}  # fmt: skip
    if m := _NODE_LINE.match(line):
        return {"timestamp": m.group(1), "level": m.group(3), "requestId": m.group(2),
                "message": m.group(4)}  # fmt: skip
    return None
