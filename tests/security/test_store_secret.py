"""A --store URL with a password never shows in the server's command line (issue #11).

/proc/<pid>/cmdline is readable by every local user, function processes included (under
``--sandbox uid`` too); the CLI moves such a URL into SENDOFF_STORE and re-runs itself.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.support.backend_postgres import fresh_schema, schema_url
from tests.support.server import start_server


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL unavailable under CI: {reason}")
    pytest.skip(reason)


def test_a_store_password_is_not_in_the_command_line(tmp_path: Path) -> None:
    async def run() -> None:
        async with fresh_schema(_unavailable) as schema:
            parts = urlsplit(schema_url(schema))
            user = parts.username or "postgres"
            netloc = f"{user}:s3cret-pw@{parts.hostname}:{parts.port or 5432}"
            url = urlunsplit(parts._replace(netloc=netloc))  # trust auth ignores it
            await asyncio.to_thread(_check, tmp_path, url)

    asyncio.run(run())


def _check(tmp_path: Path, url: str) -> None:
    server = start_server(tmp_path, "--store", url)
    try:
        pid = server.process.pid
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        assert b"s3cret-pw" not in cmdline
        assert b"sendoff.cli.main" in cmdline and b"server" in cmdline
        assert b"s3cret-pw" in Path(f"/proc/{pid}/environ").read_bytes()
        assert "s3cret-pw" not in server.log()
    finally:
        server.stop()
