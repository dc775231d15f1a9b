"""Limits on what one invocation can make the executor keep: log lines and log size."""

from __future__ import annotations

import re

from tests.executor.executor_harness import Harness

LONG_LINE = """
import sys

def handler(event, context):
    sys.stdout.write("x" * 1_000_000 + "\\nafter the long line\\n")
    return "ok"
"""


def test_a_log_line_is_truncated_at_256_kb(harness: Harness) -> None:
    spec = harness.function({"app.py": LONG_LINE})
    result = harness.run(lambda ex: ex.invoke(spec, harness.request(spec)))
    assert result.payload == b'"ok"'
    longest = max(len(run) for run in re.findall(r"x+", result.log))
    assert longest == 256 * 1024
    assert "after the long line" in result.log


FLOOD = """
import sys

def handler(event, context):
    for n in range(60000):
        print(f"line {n:06d} " + "z" * 100)
    return "ok"
"""


def test_an_invocations_log_keeps_its_head_and_tail(harness: Harness) -> None:
    spec = harness.function({"app.py": FLOOD})
    result = harness.run(lambda ex: ex.invoke(spec, harness.request(spec)))
    assert "line 000000 " in result.log and "line 059999 " in result.log
    assert re.search(r"\[sendoff: \d+ bytes of output truncated\]", result.log)
    assert len(result.log.encode()) < 512 * 1024 + 4096
