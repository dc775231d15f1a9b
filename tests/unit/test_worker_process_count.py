"""``sendoff server --worker-processes``: a number, or ``auto`` (the default)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sendoff.config.settings import Settings, load_settings, settings_env, usable_cpus
from sendoff.errors import ConfigError

DATA = {"data_dir": "/tmp/sendoff-settings-test"}


def count(flags: dict[str, object], environ: dict[str, str] | None = None) -> int:
    return load_settings({**DATA, **flags}, environ or {}).worker_process_count


def test_auto_is_one_child_when_there_is_a_second_core() -> None:
    assert count({}) == (1 if usable_cpus() >= 2 else 0)
    assert count({"worker_processes": "auto"}) == count({})
    assert count({}, {"SENDOFF_WORKER_PROCESSES": "AUTO"}) == count({})


def test_auto_starts_none_where_a_child_could_not_help() -> None:
    assert count({"workers": 0}) == 0  # --no-workers: the user runs `sendoff worker`s
    assert count({"store_url": "memory://"}) == 0  # nothing to share with a child
    assert count({"store_url": "sqlite:///:memory:"}) == 0


def test_a_number_is_taken_as_given() -> None:
    assert count({"worker_processes": "3"}) == 3
    assert count({"worker_processes": "0"}) == 0
    assert count({"worker_processes": "2", "workers": 0}) == 2
    assert count({}, {"SENDOFF_WORKER_PROCESSES": "0"}) == 0


@pytest.mark.parametrize("raw", ["-1", "two", ""])
def test_anything_else_is_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match="worker"):
        count({"worker_processes": raw})


def test_auto_reaches_the_children_as_auto() -> None:
    """A server hands its settings to its children as SENDOFF_* variables."""
    settings = Settings(data_dir=Path("/d"))
    env = settings_env(settings)
    assert env["SENDOFF_WORKER_PROCESSES"] == "auto"
    assert load_settings({}, env) == settings
