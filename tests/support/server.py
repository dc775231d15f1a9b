"""Start the real ``sendoff server`` process on a free loopback port with a temp data dir."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate, *, timeout: float = 15.0, interval: float = 0.02, message: str = ""):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message or predicate}: {last!r}")


@dataclass
class ServerProcess:
    url: str
    port: int
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_server(
    data_dir: Path, *extra: str, env: dict[str, str | None] | None = None
) -> ServerProcess:
    """``env`` adds to this process's environment; a None value removes the variable."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"server-{port}.log"
    merged = {**os.environ, **(env or {})}
    full_env = {k: v for k, v in merged.items() if v is not None}
    full_env.pop("AWS_ENDPOINT_URL", None)
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sendoff.cli.main",
                "server",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
                *extra,
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=full_env,
        )
    server = ServerProcess(
        url=f"http://127.0.0.1:{port}",
        port=port,
        data_dir=data_dir,
        process=process,
        log_path=log_path,
    )

    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"server exited early:\n{server.log()}")
        try:
            return httpx.get(f"{server.url}/_sendoff/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(healthy, timeout=30, message="server health")
    return server
