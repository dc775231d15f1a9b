"""Local function code: directories and zip files named by a template, made into zips.

``Code: ./src`` (CloudFormation, as ``aws cloudformation package`` reads it), ``CodeUri``
(SAM) and CDK asset metadata (``aws:asset:path``) name local code relative to the
template. ``CodePackager.package`` rewrites each to ``{SendoffLocalCode: {Path, Sha256}}``
so a change of the code, and only that, shows as a change of the function. Zips are built
deterministically (sorted entries, fixed timestamps, no ``__pycache__``), so the same files
always give the same CodeSha256.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import zipfile
from pathlib import Path
from typing import Any

from sendoff.iac.errors import Problem
from sendoff.iac.sam import default_digest
from sendoff.model.json_types import JSON

MARKER = "SendoffLocalCode"
SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".aws-sam"})
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def code_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def zip_directory(root: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
            for filename in sorted(filenames):
                if filename.endswith(".pyc"):
                    continue
                path = Path(dirpath) / filename
                _add(archive, path, path.relative_to(root).as_posix())
    return buffer.getvalue()


def zip_file(path: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        _add(archive, path, path.name)
    return buffer.getvalue()


def zip_source(filename: str, source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(filename, date_time=FIXED_TIME)
        info.external_attr = 0o644 << 16
        archive.writestr(info, source.encode())
    return buffer.getvalue()


def _add(archive: zipfile.ZipFile, path: Path, name: str) -> None:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    mode = path.stat().st_mode
    info.external_attr = (0o755 if mode & 0o111 else 0o644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, path.read_bytes())


def inline_filename(runtime: str | None) -> str:
    return "index.js" if runtime and runtime.startswith("nodejs") else "index.py"


class CodePackager:
    """Builds (and remembers) the zips of the local code a template names."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self.zips: dict[str, bytes] = {}
        self._by_path: dict[Path, str] = {}

    def build(self, spec: str) -> tuple[Path, str]:
        """(absolute path, CodeSha256); OSError if the path does not exist."""
        path = (self.base_dir / os.path.expanduser(spec)).resolve()
        if path in self._by_path:
            return path, self._by_path[path]
        if path.is_dir():
            data = zip_directory(path)
        elif path.is_file():
            data = path.read_bytes() if zipfile.is_zipfile(path) else zip_file(path)
        else:
            raise FileNotFoundError(f"{spec}: no such file or directory")
        sha = code_sha256(data)
        self.zips[sha] = data
        self._by_path[path] = sha
        return path, sha

    def digest(self, code: Any) -> str:
        """A digest of a function's code for SAM's version ids (content, for local paths)."""
        if isinstance(code, str):
            try:
                return self.build(code)[1]
            except OSError:
                return default_digest(code)
        return default_digest(code)

    def package(self, body: JSON) -> tuple[JSON, list[Problem]]:
        """The template with each function's local code replaced by its zip's marker."""
        problems: list[Problem] = []
        resources = dict(body.get("Resources") or {})
        for logical_id, resource in resources.items():
            if not isinstance(resource, dict) or resource.get("Type") != "AWS::Lambda::Function":
                continue
            props = resource.get("Properties") or {}
            code = props.get("Code")
            spec: str | None = None
            if isinstance(code, str):
                spec = code
            elif isinstance(code, dict) and "S3Bucket" in code:
                metadata = resource.get("Metadata") or {}
                if metadata.get("aws:asset:property") == "Code" and metadata.get("aws:asset:path"):
                    spec = str(metadata["aws:asset:path"])
            if spec is None:
                continue
            try:
                path, sha = self.build(spec)
            except OSError as exc:
                where = ("Resources", logical_id, "Properties", "Code")
                message = f"{exc} (local paths are relative to the template's directory)"
                problems.append(Problem(path=where, message=message))
                continue
            marker = {MARKER: {"Path": str(path), "Sha256": sha}}
            resources[logical_id] = {**resource, "Properties": {**props, "Code": marker}}
        return {**body, "Resources": resources}, problems
