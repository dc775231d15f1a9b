"""Deployment packages unpacked once per content hash.

Layout: `<cache_dir>/code/<sha256 hex>/`. A package is unpacked into a private temporary
directory next to it and renamed into place; `rename` is atomic, so several sendoff
processes sharing one cache never see a half-unpacked directory, and the loser of a race
just deletes its copy. Unix file modes stored in the zip are kept (a `bootstrap` must stay
executable); entries without one get 0644, as AWS does.
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
from pathlib import Path, PurePosixPath

from sendoff.errors import ExecutorError
from sendoff.executor.values import CodeSource

_UNIX = 3


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
            _check_digest(data, code_sha256)
            await asyncio.to_thread(unpack, data, final)
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


def unpack(data: bytes, final: Path) -> None:
    """Unpack zip `data` so that `final` appears complete or not at all."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.parent / f".staging-{final.name}-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist():
                    _extract(archive, info, staging)
        except (zipfile.BadZipFile, ValueError, OSError) as error:
            raise ExecutorError(f"could not unpack the deployment package: {error}") from error
        try:
            staging.rename(final)
        except OSError:
            if not final.is_dir():
                raise
            # another process won the race; its copy is identical
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, root: Path) -> None:
    parts = [p for p in PurePosixPath(info.filename.replace("\\", "/")).parts if p != "/"]
    if not parts or any(part in ("..", "") for part in parts):
        return  # absolute, empty or escaping names are skipped (zip-slip)
    target = root.joinpath(*parts)
    mode = (info.external_attr >> 16) if info.create_system == _UNIX else 0
    if info.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if stat.S_ISLNK(mode):
        link = archive.read(info).decode("utf-8", "replace")
        resolved = os.path.normpath(os.path.join(os.path.dirname(str(target)), link))
        if not os.path.isabs(link) and resolved.startswith(str(root) + os.sep):
            os.symlink(link, target)
        return
    with archive.open(info) as source, open(target, "wb") as sink:
        shutil.copyfileobj(source, sink, 1024 * 1024)
    permissions = stat.S_IMODE(mode) if stat.S_IMODE(mode) else 0o644
    os.chmod(target, permissions | stat.S_IRUSR | stat.S_IWUSR)


def _hex_digest(code_sha256: str) -> str:
    try:
        raw = base64.b64decode(code_sha256, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) == 32:
        return raw.hex()
    return hashlib.sha256(code_sha256.encode()).hexdigest()


def _check_digest(data: bytes, code_sha256: str) -> None:
    actual = base64.b64encode(hashlib.sha256(data).digest()).decode()
    if actual != code_sha256:
        raise ExecutorError(
            f"deployment package digest mismatch: expected {code_sha256}, got {actual}"
        )
