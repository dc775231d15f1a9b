"""Build function zips in memory."""

from __future__ import annotations

import io
import zipfile


def make_zip(files: dict[str, str | bytes], *, executable: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o755 if name in executable else 0o644) << 16
            data = content.encode() if isinstance(content, str) else content
            archive.writestr(info, data)
    return buf.getvalue()
