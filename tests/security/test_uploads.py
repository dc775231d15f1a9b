"""Code uploads are untrusted: zip-slip, escaping symlinks, zip bombs, cache lifetime.

Each attack goes through the real server with boto3, then the test checks the disk: no
file outside the code root, nothing near the bomb's size written, and the function that
carried the attack still runs from the files that were safe to unpack.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import struct
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.exceptions
import httpx
import pytest

from sendoff.errors import ExecutorError
from sendoff.executor.codecache import UNZIPPED_LIMIT, unpack
from tests.conftest import client_for
from tests.support.functions import ROLE, unique, wait_active, wait_updated
from tests.support.server import ServerProcess, start_server, wait_until
from tests.support.zips import make_zip

HANDLER = """
import os
def handler(event, context):
    return {"cwd": os.getcwd(), "ok": open("app.py").read().startswith("\\nimport os"),
            "via_link": open("good_link").read()[:11] if os.path.exists("good_link") else None}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # Unpacking happens in the server whatever the sandbox; --sandbox none keeps the
    # function's working directory the cache directory the tests inspect.
    proc = start_server(tmp_path_factory.mktemp("uploads"), "--sandbox", "none")
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    return client_for(server.url, "lambda")


def code_root(server: ServerProcess) -> Path:
    return server.data_dir / "code-cache" / "code"


def cache_dir_of(server: ServerProcess, zip_bytes: bytes) -> Path:
    return code_root(server) / hashlib.sha256(zip_bytes).hexdigest()


def tree_size(path: Path) -> int:
    total = 0
    for directory, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(directory, name)
            if not os.path.islink(full):
                total += os.lstat(full).st_size
    return total


def add_link(archive: zipfile.ZipFile, name: str, target: str) -> None:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive.writestr(info, target)


def add_file(archive: zipfile.ZipFile, name: str, content: str) -> None:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    archive.writestr(info, content)


def hostile_zip(outside: Path, depth: int) -> bytes:
    """Links that each look inside the code root by their text but resolve outside.

    `p/q/r/X -> ../../../p` is inside by any check, but a path through it is lexically
    three levels deeper than it really is, so `esc`, made of `X` hops and then as many
    `..`, stays inside by its text while it really climbs to `/` and down to `outside`.
    `hop1 -> hop2 -> ... -> hop6 -> esc` is the six-link chain, each link harmless by its
    text; `hop1/...` and `dl/...` are files written through a link to a directory. `depth`
    is the number of components of the code root's real path (or more).
    """
    ups = depth + 2  # from root/p to `/` at least (more `..` at `/` stay at `/`)
    hops = -(-ups // 3) + 1
    climb = "p/q/r/X" + "/q/r/X" * (hops - 1) + "/.." * ups + "/" + str(outside).lstrip("/")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        add_file(archive, "app.py", HANDLER)
        add_link(archive, "good_link", "app.py")  # a harmless link must survive
        add_file(archive, "p/q/r/keep.txt", "inside")
        add_link(archive, "p/q/r/X", "../../../p")  # harmless alone: it stays
        add_link(archive, "esc", climb)
        add_link(archive, "hop6", "esc")
        for i in range(5, 0, -1):  # each hop resolves as soon as it exists
            add_link(archive, f"hop{i}", f"hop{i + 1}")
        add_file(archive, "hop1/through-chain.txt", "pwned")
        add_link(archive, "dl", climb)
        add_file(archive, "dl/through-dir-link.txt", "pwned")
        add_link(archive, "abs", str(outside))
        add_link(archive, "rel", "../" * depth)
        add_file(archive, "../../../zip-slip.txt", "pwned")
        add_file(archive, str(outside / "absolute-entry.txt"), "pwned")
        add_file(archive, "sub/../../escape.txt", "pwned")
    return buf.getvalue()


def create(lam: Any, zip_bytes: bytes, name: str | None = None) -> str:
    name = name or unique("up")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_bytes},
        Timeout=10,
    )
    wait_active(lam, name)
    return name


def invoke(lam: Any, name: str) -> tuple[dict[str, Any], Any]:
    import json

    resp = lam.invoke(FunctionName=name, Payload=b"{}")
    return resp, json.loads(resp["Payload"].read())


def test_escaping_links_and_zip_slip_write_nothing_outside(
    server: ServerProcess, lam: Any, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = code_root(server)
    root.mkdir(parents=True, exist_ok=True)
    depth = len(Path(os.path.realpath(root / "x")).parts) - 1
    zip_bytes = hostile_zip(outside, depth)
    name = create(lam, zip_bytes)
    resp, body = invoke(lam, name)
    assert "FunctionError" not in resp, body
    assert body["ok"] is True and body["via_link"] == "\nimport os\n"
    assert list(outside.iterdir()) == []
    unpacked = cache_dir_of(server, zip_bytes)
    assert Path(body["cwd"]).resolve() == unpacked.resolve()
    real_root = os.path.realpath(unpacked)
    for directory, dirs, files in os.walk(unpacked):
        for entry in [*dirs, *files]:
            path = os.path.join(directory, entry)
            real = os.path.realpath(path)
            assert real == real_root or real.startswith(real_root + os.sep), (path, real)
    assert (unpacked / "p/q/r/X").is_symlink()
    for name_ in ("esc", "dl", "abs", "rel"):  # hop2..hop6 may stay, dangling at root/esc
        assert not (unpacked / name_).is_symlink(), name_
    assert (unpacked / "good_link").is_symlink()
    # the file entries meant to go through links landed in real directories inside
    assert (unpacked / "dl").is_dir() and not (unpacked / "dl").is_symlink()
    assert (unpacked / "dl" / "through-dir-link.txt").read_text() == "pwned"
    for escaped in ("zip-slip.txt", "escape.txt"):
        assert not any(Path(d).joinpath(escaped).exists() for d in (root, root.parent))


def test_unpack_keeps_no_chain_that_resolves_outside(tmp_path: Path) -> None:
    """The same attack without the server, for every depth the chain might need."""
    outside = tmp_path / "outside"
    outside.mkdir()
    final = tmp_path / "cache" / "code" / "abc"
    depth = len(Path(os.path.realpath(final)).parts) - 1
    unpack(hostile_zip(outside, depth), final)
    assert list(outside.iterdir()) == []
    real_root = os.path.realpath(final)
    links = [os.path.join(d, n) for d, dirs, files in os.walk(final) for n in [*dirs, *files]]
    links = [p for p in links if os.path.islink(p)]
    names = [os.path.basename(p) for p in links]
    assert "esc" not in names and "good_link" in names and "X" in names
    for link in links:
        real = os.path.realpath(link)
        assert real == real_root or real.startswith(real_root + os.sep), (link, real)


def bomb_zip(unzipped: int, *, lie_to: int | None = None) -> bytes:
    """`unzipped` bytes of zeros, deflated (about 1000:1); optionally with its sizes
    in both headers rewritten to `lie_to`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        add_file(archive, "app.py", HANDLER)
        chunk = bytes(1 << 20)
        with archive.open("zeros.bin", "w", force_zip64=False) as sink:
            for _ in range(unzipped // len(chunk)):
                sink.write(chunk)
    data = bytearray(buf.getvalue())
    if lie_to is not None:
        real = struct.pack("<I", unzipped // (1 << 20) * (1 << 20))
        fake = struct.pack("<I", lie_to)
        # local header (uncompressed size at +22) and central directory entry (+24)
        for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
            start = data.index(signature, data.index(b"zeros.bin") - 60)
            while data[start + offset : start + offset + 4] != real:
                start = data.index(signature, start + 1)
            data[start + offset : start + offset + 4] = fake
    return bytes(data)


class HealthProbe:
    """Polls /_sendoff/health from a thread and keeps the slowest answer's latency."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.worst = 0.0
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                assert client.get(f"{self.url}/_sendoff/health").status_code == 200
                self.worst = max(self.worst, time.monotonic() - started)
                self.count += 1

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        wait_until(lambda: self.count >= 1, message="first health answer")
        return self

    def __exit__(self, *exc: object) -> None:
        seen = self.count
        wait_until(lambda: self.count > seen, message="a health answer after the upload")
        self._stop.set()
        self._thread.join(15)


def test_zip_bomb_is_refused_at_upload_without_writing_it(server: ServerProcess, lam: Any) -> None:
    bomb = bomb_zip(300 * (1 << 20))
    assert len(bomb) < 2_000_000
    before = tree_size(server.data_dir)
    name = unique("bomb")
    with HealthProbe(server.url) as probe:
        started = time.monotonic()
        with pytest.raises(botocore.exceptions.ClientError) as info:
            create(lam, bomb, name)
        refused_after = time.monotonic() - started
        fn = create(lam, make_zip({"app.py": HANDLER}))
        with pytest.raises(botocore.exceptions.ClientError) as update_info:
            lam.update_function_code(FunctionName=fn, ZipFile=bomb)
    for error in (info.value, update_info.value):
        assert error.response["Error"]["Code"] == "InvalidParameterValueException"
        assert error.response["Error"]["Message"] == (
            "Unzipped size must be smaller than 262144000 bytes"
        )
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert probe.worst < 0.5, (probe.count, probe.worst)
    assert refused_after < 2.0  # declared sizes only: nothing is decompressed at upload
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=name)
    assert tree_size(server.data_dir) - before < 20_000_000
    assert invoke(lam, fn)[1]["ok"] is True  # the old code is still in place


def test_lying_sizes_are_stopped_while_unpacking(server: ServerProcess, lam: Any) -> None:
    liar = bomb_zip(300 * (1 << 20), lie_to=1000)
    name = create(lam, liar)  # the central directory claims ~1 KB: accepted
    # unpacking it in the background (Pending -> ...) stopped at the limit: Failed
    config = lam.get_function_configuration(FunctionName=name)
    assert (config["State"], config["StateReasonCode"]) == ("Failed", "InvalidZipFileException")
    assert config["StateReason"].startswith("could not unpack the deployment package: ")
    with pytest.raises(botocore.exceptions.ClientError) as info:
        invoke(lam, name)
    error = info.value.response
    assert error["Error"]["Code"] == "InvalidZipFileException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 502
    assert "could not unzip the deployment package" in error["Error"]["Message"]
    assert not cache_dir_of(server, liar).exists()
    assert tree_size(code_root(server)) < 20_000_000


def test_unpack_counts_real_bytes_and_leaves_nothing(tmp_path: Path) -> None:
    final = tmp_path / "code" / "x"
    data = bomb_zip(4 * (1 << 20))
    with pytest.raises(ExecutorError, match="Unzipped size must be smaller than 3145728 bytes"):
        unpack(data, final, limit=3 * (1 << 20))
    assert not final.exists()
    assert list((tmp_path / "code").iterdir()) == []  # no staging directory left
    assert UNZIPPED_LIMIT == 262_144_000


def test_upload_keeps_event_loop_responsive(server: ServerProcess, lam: Any) -> None:
    """A 40 MB package (base64-decoded, hashed, read) must not stall other requests."""
    big = make_zip({"app.py": HANDLER, "blob.bin": os.urandom(40 * (1 << 20))})
    with HealthProbe(server.url) as probe:
        name = create(lam, big)
        lam.update_function_code(FunctionName=name, ZipFile=big + b"")
    assert probe.count > 0 and probe.worst < 0.5, (probe.count, probe.worst)


def wait_gone(path: Path) -> bool:
    return not path.exists()


def test_code_cache_is_deleted_with_the_last_function_using_it(
    server: ServerProcess, lam: Any
) -> None:
    shared = make_zip({"app.py": HANDLER, "marker.txt": unique()})
    a, b = create(lam, shared), create(lam, shared)
    invoke(lam, a)
    invoke(lam, b)
    cached = cache_dir_of(server, shared)
    assert cached.is_dir()
    lam.delete_function(FunctionName=a)
    assert cached.is_dir()  # b still runs this code
    assert invoke(lam, b)[1]["ok"] is True
    lam.delete_function(FunctionName=b)
    assert not cached.exists()

    # versions: a published version keeps its code; UpdateFunctionCode drops unused code
    v1 = make_zip({"app.py": HANDLER, "marker.txt": unique()})
    v2 = make_zip({"app.py": HANDLER, "marker.txt": unique()})
    v3 = make_zip({"app.py": HANDLER, "marker.txt": unique()})
    fn = create(lam, v1)
    invoke(lam, fn)
    lam.publish_version(FunctionName=fn)
    lam.update_function_code(FunctionName=fn, ZipFile=v2)
    assert cache_dir_of(server, v1).is_dir()  # version 1 still uses it
    invoke(lam, fn)
    assert cache_dir_of(server, v2).is_dir()
    wait_updated(lam, fn)
    lam.update_function_code(FunctionName=fn, ZipFile=v3)
    assert not cache_dir_of(server, v2).exists()  # nothing else used v2
    lam.delete_function(FunctionName=fn, Qualifier="1")
    assert not cache_dir_of(server, v1).exists()
    invoke(lam, fn)
    assert cache_dir_of(server, v3).is_dir()
    lam.delete_function(FunctionName=fn)
    assert not cache_dir_of(server, v3).exists()
