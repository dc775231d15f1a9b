"""Pure parts of the executor: handler validation, bounded logs, report lines, code cache."""

from __future__ import annotations

import asyncio
import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from sendoff.errors import ExecutorError
from sendoff.executor import SUPPORTED_RUNTIMES, validate_handler
from sendoff.executor.codecache import CodeCache
from sendoff.executor.output import BoundedLog
from sendoff.executor.reports import billed_duration, error_type_of, report_line, with_request_id
from tests.executor.executor_harness import build_zip, sha256_b64


@pytest.mark.parametrize(
    ("runtime", "handler", "valid"),
    [
        ("python3.12", "app.handler", True),
        ("python3.9", "pkg/module.handler", True),
        ("python3.14", "a.b.handler", True),
        ("python3.12", "handler", False),
        ("python3.12", ".handler", False),
        ("python3.12", "app.", False),
        ("nodejs20.x", "index.handler", True),
        ("nodejs22.x", "src/index.nested.fn", True),
        ("nodejs18.x", "index", False),
        ("provided.al2023", "anything", True),
        ("provided", "x", True),
        ("provided.al2", "has space", False),
        ("python3.12", "a" * 127 + ".h", False),
        ("python2.7", "app.handler", False),
        ("java21", "example.Handler::handleRequest", False),
        ("nodejs16.x", "index.handler", False),
    ],
)
def test_validate_handler(runtime: str, handler: str, valid: bool) -> None:
    message = validate_handler(runtime, handler)
    assert (message is None) is valid, message


def test_supported_runtimes() -> None:
    assert {"python3.9", "python3.14", "nodejs18.x", "nodejs22.x", "provided.al2023"} <= (
        SUPPORTED_RUNTIMES
    )
    assert isinstance(SUPPORTED_RUNTIMES, frozenset)


def test_bounded_log_keeps_head_and_tail() -> None:
    log = BoundedLog(limit=100)
    log.write(b"HEAD" + b"a" * 46)
    for _ in range(100):
        log.write(b"b" * 7)
    log.write(b"c" * 46 + b"TAIL")
    text = log.text()
    assert len(log) == 100
    assert text.startswith("HEAD") and text.endswith("TAIL")
    assert log.dropped == 50 + 700 + 50 - 100
    assert f"[sendoff: {log.dropped} bytes of output truncated]" in text


def test_bounded_log_under_limit_is_verbatim() -> None:
    log = BoundedLog(limit=1000)
    log.write(b"one\n")
    log.write("two \u00e9\n".encode())
    assert log.text() == "one\ntwo \u00e9\n" and log.dropped == 0


def test_report_line_and_billing() -> None:
    line = report_line(
        request_id="r",
        duration_ms=1.234,
        billed_duration_ms=billed_duration(1.234),
        memory_mb=128,
        max_memory_used_mb=40,
        init_duration_ms=30.123,
    )
    assert line == (
        "REPORT RequestId: r\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 40 MB\tInit Duration: 30.12 ms\t\n"
    )
    assert billed_duration(0.01) == 1 and billed_duration(5.0) == 5


def test_error_type_prefers_body_then_header() -> None:
    assert error_type_of(b'{"errorType": "ValueError"}', "Other") == "ValueError"
    assert error_type_of(b"not json", "Custom.Header") == "Custom.Header"
    assert error_type_of(b"{}", None) == "Runtime.Unknown"
    # a body nested past the recursion limit is the function's, read as no JSON (issue 17)
    assert error_type_of(b"[" * 100_000, "Custom.Header") == "Custom.Header"
    assert with_request_id(b"[" * 100_000, "r-1") == b"[" * 100_000


class _Source:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.calls = 0

    async def get_code_zip(self, code_sha256: str) -> bytes:
        self.calls += 1
        await asyncio.sleep(0)
        return self.data


def test_code_cache_unpacks_once_with_modes(tmp_path: Path) -> None:
    data = build_zip({"bootstrap": ("#!/bin/sh\n", 0o755), "lib/x.txt": "x"})
    sha = sha256_b64(data)
    source = _Source(data)

    async def scenario() -> list[Path]:
        cache = CodeCache(tmp_path, source)
        return list(await asyncio.gather(*(cache.directory(sha) for _ in range(5))))

    paths = asyncio.run(scenario())
    assert len(set(paths)) == 1 and source.calls == 1
    root = paths[0]
    assert stat.S_IMODE(os.stat(root / "bootstrap").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(root / "lib/x.txt").st_mode) == 0o644
    assert sorted(p.name for p in root.parent.iterdir()) == [root.name]  # no staging left


def test_code_cache_shared_between_processes(tmp_path: Path) -> None:
    """Two caches (as two sendoff processes would) racing on one directory."""
    data = build_zip({f"f{i}.py": "x = 1\n" * 1000 for i in range(50)})
    sha = sha256_b64(data)

    async def scenario() -> list[Path]:
        caches = [CodeCache(tmp_path, _Source(data)) for _ in range(4)]
        return list(await asyncio.gather(*(cache.directory(sha) for cache in caches)))

    paths = asyncio.run(scenario())
    assert len(set(paths)) == 1
    assert len(list(paths[0].iterdir())) == 50
    assert [p.name for p in paths[0].parent.iterdir()] == [paths[0].name]


def test_code_cache_rejects_digest_mismatch_and_skips_escaping_names(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../escape.txt", "no")
        archive.writestr("/abs.txt", "no")
        archive.writestr("ok.txt", "yes")
    data = buffer.getvalue()

    async def scenario() -> tuple[Path, Exception]:
        good = await CodeCache(tmp_path / "a", _Source(data)).directory(sha256_b64(data))
        try:
            await CodeCache(tmp_path / "b", _Source(data)).directory(sha256_b64(b"other"))
        except ExecutorError as error:
            return good, error
        raise AssertionError("digest mismatch not detected")

    good, error = asyncio.run(scenario())
    assert sorted(p.name for p in good.iterdir()) == ["abs.txt", "ok.txt"]
    assert (good / "ok.txt").read_text() == "yes"
    assert not (tmp_path / "a" / "code" / "escape.txt").exists()
    assert "digest mismatch" in str(error)
