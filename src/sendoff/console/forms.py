"""Form rules shared by the pages: which field an AWS error message is about, numbers from
text inputs, and inline function code (the files of small zips, edited in the browser)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass

from sendoff.console.web import Form

INLINE_MAX_FILES = 20
INLINE_MAX_BYTES = 512 * 1024
_TEXT_SUFFIXES = (".js", ".mjs", ".cjs", ".py", ".json", ".txt", ".md", ".ts", ".sh", ".yaml",
                  ".yml", ".toml", ".cfg", ".ini", ".html", ".css", ".env")  # fmt: skip


def place_error(form: Form, message: str, fields: Mapping[str, str], *, default: str) -> None:
    """Put an AWS error message next to the field it names (the first pattern found in the
    message, e.g. ``'maximumRetryAttempts'``), or next to ``default``."""
    lowered = message.lower()
    for needle, name in fields.items():
        if needle.lower() in lowered:
            form.error(name, message)
            return
    form.error(default, message)


def int_field(form: Form, name: str, label: str) -> int | None:
    """An integer from a text input; None when empty. A non-number is a field error."""
    raw = form.get(name).strip()
    if raw == "":
        return None
    if not re.fullmatch(r"[+-]?\d{1,12}", raw):
        form.error(name, f"{label} must be a whole number, not '{raw[:40]}'.")
        return None
    return int(raw)


@dataclass(frozen=True, kw_only=True)
class CodeFile:
    name: str
    size: int
    text: str | None  # None when binary or too large to show
    executable: bool = False


def read_zip(data: bytes) -> list[CodeFile]:
    files: list[CodeFile] = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            text: str | None = None
            if info.file_size <= INLINE_MAX_BYTES:
                raw = archive.read(info)
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    text = None
                if text is not None and "\x00" in text:
                    text = None
            executable = bool((info.external_attr >> 16) & 0o111)
            files.append(CodeFile(name=info.filename, size=info.file_size, text=text,
                                  executable=executable))  # fmt: skip
    return files


def editable(files: list[CodeFile]) -> bool:
    """Small inline functions only: a few text files, small in total."""
    return (
        0 < len(files) <= INLINE_MAX_FILES
        and all(f.text is not None for f in files)
        and sum(f.size for f in files) <= INLINE_MAX_BYTES
    )


def build_zip(files: Mapping[str, str], *, executable: frozenset[str] = frozenset()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if name in executable else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))
    return buf.getvalue()


def looks_textual(name: str) -> bool:
    return name.endswith(_TEXT_SUFFIXES) or "." not in name.rsplit("/", 1)[-1]
