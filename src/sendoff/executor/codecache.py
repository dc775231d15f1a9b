"""Deployment packages unpacked once per content hash.

Layout: `<cache_dir>/code/<sha256 hex>/`. A package is unpacked into a private temporary
directory next to it and renamed into place; `rename` is atomic, so several sendoff
processes sharing one cache never see a half-unpacked directory, and the loser of a race
just deletes its copy. Unix file modes stored in the zip are kept (a `bootstrap` must stay
executable); entries without one get 0644, as AWS does.

A package is untrusted input, so unpacking never writes outside the staging directory:

* names containing `..` are skipped and absolute names lose their leading `/` (zip-slip);
* regular files are written first, while the staging tree holds no symlink at all, and
  opened with `O_NOFOLLOW|O_EXCL`, so no file is ever written through a link;
* symlinks are created last, only in real directories, and each one is checked with
  `os.path.realpath` against the real staging root (which follows whole chains of links
  that each look harmless by their text); the check repeats until nothing changes, and
  offenders are removed;
* the bytes actually written are counted (a zip's declared sizes can lie) and unpacking
  stops at `UNZIPPED_LIMIT`, leaving nothing behind.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import io
import os
import shutil
import stat
import uuid
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path, PurePosixPath

from sendoff.errors import ExecutorError
from sendoff.executor.values import CodeSource

_UNIX = 3
_CHUNK = 1024 * 1024
UNZIPPED_LIMIT = 262_144_000
"""AWS's quota for a function's unzipped code: "Unzipped size must be smaller than
262144000 bytes" (InvalidParameterValueException at CreateFunction/UpdateFunctionCode)."""
UNZIPPED_MESSAGE = f"Unzipped size must be smaller than {UNZIPPED_LIMIT} bytes"


class PackageError(ExecutorError):
    """The deployment package cannot be unpacked (corrupt, too large once unzipped)."""


class CodeCache:
    """Finds or unpacks the code directory for a `code_sha256`."""

    def __init__(self, cache_dir: Path, source: CodeSource) -> None:
        self._root = cache_dir / "code"
        self._source = source
        self._unpacking: dict[str, asyncio.Future[Path]] = {}

    def path_for(self, code_sha256: str) -> Path:
        return self._root / _hex_digest(code_sha256)

    async def directory(self, code_sha256: str) -> Path:
        """The unpacked code for `code_sha256`, fetching and unpacking it if needed."""
        final = self.path_for(code_sha256)
        if final.is_dir():
            return final
        running = self._unpacking.get(code_sha256)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[Path] = asyncio.get_running_loop().create_future()
        self._unpacking[code_sha256] = future
        try:
            try:
                data = await self._source.get_code_zip(code_sha256)
            except ExecutorError:
                raise
            except Exception as error:
                raise ExecutorError(f"could not fetch code {code_sha256}: {error}") from error
            await asyncio.to_thread(_check_and_unpack, data, code_sha256, final)
            future.set_result(final)
            return final
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # mark retrieved: nobody else may be waiting
            raise
        finally:
            del self._unpacking[code_sha256]


def remove_code(cache_dir: Path, code_sha256: str) -> bool:
    """Delete the unpacked copy of `code_sha256` under `cache_dir`, if there is one.

    The directory is first renamed aside (atomic), so a concurrent `directory()` in another
    process either sees the whole copy or none and unpacks afresh. Returns whether a copy
    was removed. The caller decides that no function version still uses the code.
    """
    final = cache_dir / "code" / _hex_digest(code_sha256)
    doomed = final.parent / f".deleting-{final.name}-{uuid.uuid4().hex}"
    try:
        final.rename(doomed)
    except FileNotFoundError:
        return False
    shutil.rmtree(doomed, ignore_errors=True)
    return True


def remove_unused(cache_dir: Path, in_use: set[str], *, min_age_s: float = 600.0) -> int:
    """Delete every unpacked copy under `cache_dir` whose code is not in `in_use` (base64
    CodeSha256 values) and that is older than `min_age_s`; returns how many. This is how
    a host that did not serve the DeleteFunction call (another API server on a shared
    store) lets go of code nothing runs any more."""
    import time

    keep = {_hex_digest(code_sha256) for code_sha256 in in_use}
    root = cache_dir / "code"
    removed = 0
    try:
        entries = list(root.iterdir())
    except FileNotFoundError:
        return 0
    for entry in entries:
        if entry.name.startswith(".") or entry.name in keep or not entry.is_dir():
            continue
        try:
            if time.time() - entry.stat().st_mtime < min_age_s:
                continue
            doomed = root / f".deleting-{entry.name}-{uuid.uuid4().hex}"
            entry.rename(doomed)
        except OSError:
            continue
        shutil.rmtree(doomed, ignore_errors=True)
        removed += 1
    return removed


def code_remover(cache_dir: Path) -> Callable[[str], Awaitable[bool]]:
    """`remove_code` for one cache directory, run off the event loop."""

    async def remove(code_sha256: str) -> bool:
        return await asyncio.to_thread(remove_code, cache_dir, code_sha256)

    return remove


def unpack(data: bytes, final: Path, *, limit: int = UNZIPPED_LIMIT) -> None:
    """Unpack zip `data` so that `final` appears complete or not at all."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.parent / f".staging-{final.name}-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                _Unpacker(archive, staging, limit).run()
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
            raise PackageError(f"could not unpack the deployment package: {error}") from error
        try:
            staging.rename(final)
        except OSError:
            if not final.is_dir():
                raise
            # another process won the race; its copy is identical
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


class _Unpacker:
    def __init__(self, archive: zipfile.ZipFile, root: Path, limit: int) -> None:
        self.archive = archive
        self.root = root
        self.real_root = os.path.realpath(root)
        self.limit = limit
        self.written = 0

    def run(self) -> None:
        links: list[tuple[list[str], str]] = []
        for info in self.archive.infolist():
            parts = _safe_parts(info.filename)
            if parts is None:
                continue  # empty or escaping names are skipped (zip-slip)
            mode = (info.external_attr >> 16) if info.create_system == _UNIX else 0
            if info.is_dir():
                self._mkdirs(parts)
            elif stat.S_ISLNK(mode):
                if info.file_size > 4096:
                    continue  # no link text is that long (PATH_MAX)
                text = self.archive.read(info).decode("utf-8", "replace")
                self._count(len(text))
                links.append((parts, text))
            else:
                self._write_file(info, parts, mode)
        for parts, text in links:
            self._link(parts, text)
        self._drop_escaping_links()

    def _count(self, n: int) -> None:
        self.written += n
        if self.written >= self.limit:
            raise PackageError(f"Unzipped size must be smaller than {self.limit} bytes")

    def _mkdirs(self, parts: list[str]) -> Path | None:
        """Create `parts` under the root as real directories; None if one is not one."""
        path = self.root
        for part in parts:
            path = path / part
            try:
                os.mkdir(path, 0o755)
            except FileExistsError:
                if not stat.S_ISDIR(os.lstat(path).st_mode):
                    return None  # a file or a link is in the way: never write through it
        return path

    def _write_file(self, info: zipfile.ZipInfo, parts: list[str], mode: int) -> None:
        parent = self._mkdirs(parts[:-1])
        if parent is None:
            return
        target = parent / parts[-1]
        if os.path.lexists(target):
            if not stat.S_ISREG(os.lstat(target).st_mode):
                return
            os.unlink(target)  # a later entry of the same name wins, as with unzip -o
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        permissions = stat.S_IMODE(mode) if stat.S_IMODE(mode) else 0o644
        fd = os.open(target, flags, 0o600)
        with os.fdopen(fd, "wb") as sink, self.archive.open(info) as source:
            while chunk := source.read(_CHUNK):
                self._count(len(chunk))
                sink.write(chunk)
            os.fchmod(sink.fileno(), permissions | stat.S_IRUSR | stat.S_IWUSR)

    def _link(self, parts: list[str], text: str) -> None:
        if not text or "\0" in text or os.path.isabs(text):
            return
        parent = self._mkdirs(parts[:-1])
        if parent is None:
            return
        target = parent / parts[-1]
        lexical = os.path.normpath(os.path.join(parent, text))
        if not _inside(lexical, str(self.root)):
            return
        try:
            os.symlink(text, target)
        except FileExistsError:
            return  # a file or directory of that name was in the package
        if not _inside(os.path.realpath(target), self.real_root):
            os.unlink(target)

    def _drop_escaping_links(self) -> None:
        """Remove every link whose real path is outside the root, until none is left.

        A link checked alone can look fine and escape once later links exist (a chain
        `a -> b/..`, `b -> c/d`, ...); removing one can change what others resolve to,
        hence the loop.
        """
        while True:
            removed = False
            for directory, dirs, files in os.walk(self.root):
                for name in [*dirs, *files]:
                    path = os.path.join(directory, name)
                    if os.path.islink(path) and not _inside(os.path.realpath(path), self.real_root):
                        os.unlink(path)
                        removed = True
            if not removed:
                return


def _safe_parts(filename: str) -> list[str] | None:
    """The path components to write, or None to skip the entry.

    A leading `/` is dropped (the entry lands inside the root, as Info-ZIP's unzip does);
    any `..` component skips the entry.
    """
    parts = [p for p in PurePosixPath(filename.replace("\\", "/")).parts if p not in ("/", ".")]
    if not parts or any(p in ("..", "") for p in parts):
        return None
    return parts


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def _hex_digest(code_sha256: str) -> str:
    try:
        raw = base64.b64decode(code_sha256, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) == 32:
        return raw.hex()
    return hashlib.sha256(code_sha256.encode()).hexdigest()


def _check_and_unpack(data: bytes, code_sha256: str, final: Path) -> None:
    """Both off the event loop: hashing and unpacking tens of MB takes a while."""
    _check_digest(data, code_sha256)
    unpack(data, final)


def _check_digest(data: bytes, code_sha256: str) -> None:
    actual = base64.b64encode(hashlib.sha256(data).digest()).decode()
    if actual != code_sha256:
        raise ExecutorError(
            f"deployment package digest mismatch: expected {code_sha256}, got {actual}"
        )
