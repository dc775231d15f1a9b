"""The start-up banner's text (sendoff.banner), from settings alone."""

from __future__ import annotations

from pathlib import Path

from sendoff.banner import SandboxFacts, banner_lines, banner_rows
from sendoff.config.settings import Settings, usable_cpus

BWRAP = SandboxFacts(mode="bwrap", cgroups=True)


def rows(**kwargs: object) -> dict[str, str]:
    return dict(banner_rows(Settings(data_dir=Path("/d"), **kwargs), BWRAP))  # type: ignore[arg-type]


def test_a_store_url_password_is_never_printed() -> None:
    text = "\n".join(banner_lines(Settings(store_url="postgresql://u:s3cret@db:5432/x"), BWRAP))
    assert "s3cret" not in text
    assert "postgresql://u:***@db:5432/x" in text


def test_no_auth_off_loopback_is_said_loudly() -> None:
    assert rows(host="0.0.0.0", auth="none")["auth"].startswith("NONE on 0.0.0.0")
    assert rows(host="0.0.0.0")["auth"].startswith("SigV4 required")  # auto off loopback
    assert "listening on 0.0.0.0" in rows(host="0.0.0.0")["endpoint"]


def test_worker_processes_are_counted() -> None:
    line = rows(worker_processes=2)["workers"]
    assert line == "1 in this process, 2 worker processes; 16 concurrent jobs each"
    assert rows(worker_processes=1, workers=0)["workers"].startswith("0 in this process, 1 ")
    line = rows(worker_processes=0, concurrency=4)["workers"]
    assert line == "1 in this process; 4 concurrent jobs each"


def test_the_automatic_worker_process_is_said_to_be_automatic() -> None:
    assert rows()["workers"] == rows(worker_processes=None)["workers"]  # auto, the default
    line = rows(store_url="sqlite:////d/x.db")["workers"]
    if usable_cpus() >= 2:
        assert line == (
            "0 in this process, 1 worker process (auto: a second core); 16 concurrent jobs each"
        )
    else:
        assert line == "1 in this process; 16 concurrent jobs each"
