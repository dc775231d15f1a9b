"""Unpacked code no function runs is swept from every host's cache, lazily (issue #19)."""

from __future__ import annotations

import base64
import hashlib
import os
import time
from pathlib import Path

from sendoff.executor import remove_unused
from sendoff.functions.code_sweep import CodeSweep
from sendoff.functions.registry import FunctionRegistry
from sendoff.store.memory import MemoryStore


def _sha(data: bytes) -> tuple[str, str]:
    digest = hashlib.sha256(data).digest()
    return base64.b64encode(digest).decode(), digest.hex()


def _unpacked(cache: Path, hex_name: str, *, age_s: float) -> Path:
    path = cache / "code" / hex_name
    path.mkdir(parents=True)
    (path / "app.py").write_text("x")
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


def test_remove_unused_keeps_code_in_use_and_fresh_copies(tmp_path: Path) -> None:
    used, used_hex = _sha(b"used")
    _, old_hex = _sha(b"old")
    _, fresh_hex = _sha(b"fresh")
    kept = _unpacked(tmp_path, used_hex, age_s=3600)
    gone = _unpacked(tmp_path, old_hex, age_s=3600)
    fresh = _unpacked(tmp_path, fresh_hex, age_s=5)
    assert remove_unused(tmp_path, {used}) == 1
    assert kept.is_dir() and fresh.is_dir() and not gone.exists()
    assert remove_unused(tmp_path / "nowhere", set()) == 0


async def test_the_sweep_asks_the_store_what_is_in_use(tmp_path: Path) -> None:
    store = MemoryStore()
    await store.open()
    latest, latest_hex = _sha(b"latest")
    published, published_hex = _sha(b"published")
    _, deleted_hex = _sha(b"deleted elsewhere")
    await store.put("function", "acct/us-east-1/f", {"latest": {"code_sha256": latest}})
    await store.put("version", "acct/us-east-1/f/1", {"code_sha256": published})
    paths = [_unpacked(tmp_path, h, age_s=3600) for h in (latest_hex, published_hex, deleted_hex)]
    sweep = CodeSweep(FunctionRegistry(store), tmp_path)
    assert await sweep.run_once() == 1
    assert [p.exists() for p in paths] == [True, True, False]
