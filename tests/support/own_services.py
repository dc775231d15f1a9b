"""Private PostgreSQL and Redis servers that a fault test may kill and restart.

The machine's shared services are never stopped by tests; these run on free loopback ports
in temporary directories and are stopped by the fixture that started them.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.server import free_port, wait_until


@dataclass
class OwnRedis:
    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0?prefix=fault"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._ping, timeout=20, message="redis to accept connections")

    def _ping(self) -> bool:
        done = subprocess.run(
            ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
        )
        return done.stdout.strip() == "PONG"

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


@contextmanager
def own_redis() -> Iterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        raise RuntimeError("redis-server is not installed")
    server = OwnRedis(port=free_port(), directory=Path(tempfile.mkdtemp(prefix="redis-")))
    server.start()
    try:
        yield server
    finally:
        if server.process is not None and server.process.poll() is None:
            server.process.terminate()
            server.process.wait(10)
        shutil.rmtree(server.directory, ignore_errors=True)


@dataclass
class OwnPostgres:
    port: int
    directory: Path
    bin_dir: Path

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres(
                [
                    str(self.bin_dir / "pg_ctl"),
                    "-D",
                    str(self.directory),
                    "-w",
                    "-l",
                    str(self.directory / "log"),
                    *args,
                ]
            ),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        self._ctl(
            "-o", f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1", "start"
        )

    def restart_immediately(self) -> None:
        """A crash-like stop (no shutdown checkpoint), then a start: recovery from WAL."""
        self._ctl("-m", "immediate", "stop")
        self.start()


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries are not installed")
    bin_dir = Path(found[-1]).parent
    directory = Path(tempfile.mkdtemp(prefix="pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    subprocess.run(
        _as_postgres(
            [str(bin_dir / "initdb"), "-D", str(directory), "-U", "postgres", "-A", "trust"]
        ),
        check=True,
        capture_output=True,
    )
    server = OwnPostgres(port=free_port(), directory=directory, bin_dir=bin_dir)
    server.start()
    try:
        yield server
    finally:
        subprocess.run(
            _as_postgres(
                [str(bin_dir / "pg_ctl"), "-D", str(directory), "-m", "immediate", "stop"]
            ),
            capture_output=True,
        )
        shutil.rmtree(directory, ignore_errors=True)
