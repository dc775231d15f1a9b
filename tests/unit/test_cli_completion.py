"""The generated bash completion completes commands, actions and options in a real bash."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from sendoff.cli.completion import bash_script
from sendoff.cli.main import build_parser


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["sendoff", "fun"], {"functions"}),
        (
            ["sendoff", "events", ""],
            {"list", "show", "redrive", "--help", "--endpoint-url", "--output", "--region"},
        ),
        (["sendoff", "deploy", "t.yaml", "--end"], {"--endpoint-url"}),
        (["sendoff", "events", "list", "--st"], {"--state"}),
        (["sendoff", "queues", "list", "--o"], {"--output"}),
    ],
)
def test_bash_completion(words: list[str], expected: set[str]) -> None:
    bash = shutil.which("bash")
    assert bash is not None
    script = bash_script(build_parser())
    quoted = " ".join(f"'{w}'" for w in words)
    program = (
        f"{script}\nCOMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; _sendoff;"
        ' printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run([bash, "-c", program], capture_output=True, text=True, check=True)
    assert set(done.stdout.split()) == expected
