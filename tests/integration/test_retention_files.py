"""Files on start: the Prometheus multiprocess directory of an earlier run is cleaned, with
or without worker processes, and the retention gauges add up across processes."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.support.server import start_server, wait_until


def plant_stale_metrics(data_dir: Path) -> Path:
    directory = data_dir / "metrics"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "counter_424242.db").write_bytes(b"\x00garbage from a dead run" * 100)
    return directory / "counter_424242.db"


def test_an_earlier_runs_metrics_files_are_removed_on_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    stale = plant_stale_metrics(data)
    server = start_server(data, "--worker-processes", "0")  # one process: no files at all
    try:
        assert not (data / "metrics").exists()
        assert httpx.get(f"{server.url}/metrics", timeout=5).status_code == 200
    finally:
        assert server.stop() == 0
    stale = plant_stale_metrics(data)
    server = start_server(data, "--workers", "0", "--worker-processes", "1")
    try:
        assert not stale.exists()

        def gauges() -> str | None:
            text = httpx.get(f"{server.url}/metrics", timeout=5).text
            return text if re.search(r"^StoredEvents \d", text, re.M) else None

        text = wait_until(gauges, timeout=30, message="the retention gauges")
        assert re.search(r"^StoredLogBytes \d", text, re.M)
    finally:
        assert server.stop() == 0
