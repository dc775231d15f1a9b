"""``sendoff server --worker-processes`` and ``--workers`` (both default auto):
numbers, or ``auto``: on a machine with a second core, ``--worker-processes auto`` starts
one worker process, which runs the async events, and the server process none."""

from __future__ import annotations

from pathlib import Path

import pytest

from sendoff.config.settings import Settings, load_settings, settings_env, usable_cpus
from sendoff.errors import ConfigError

DATA = {"data_dir": "/tmp/sendoff-settings-test"}


def count(flags: dict[str, object], environ: dict[str, str] | None = None) -> int:
    return load_settings({**DATA, **flags}, environ or {}).worker_process_count


def in_process(flags: dict[str, object], environ: dict[str, str] | None = None) -> int:
    return load_settings({**DATA, **flags}, environ or {}).worker_count


TWO_CORES = usable_cpus() >= 2


AUTO = {"worker_processes": "auto"}


def test_the_default_is_auto() -> None:
    assert (count({}), in_process({})) == (count(AUTO), in_process(AUTO))
    assert (count({}), in_process({})) == ((1, 0) if TWO_CORES else (0, 1))


def test_auto_is_one_child_instead_of_the_server_when_there_is_a_second_core() -> None:
    assert count(AUTO) == (1 if TWO_CORES else 0)
    assert in_process(AUTO) == (0 if TWO_CORES else 1)
    assert count({}, {"SENDOFF_WORKER_PROCESSES": "AUTO"}) == count(AUTO)
    assert in_process({**AUTO, "workers": "auto"}) == in_process(AUTO)


def test_auto_starts_none_where_a_child_could_not_help() -> None:
    assert count({**AUTO, "workers": 0}) == 0  # --no-workers: the user runs the workers
    assert in_process({**AUTO, "workers": 0}) == 0
    for memory in ("memory://", "sqlite:///:memory:"):  # nothing to share with a child
        assert count({**AUTO, "store_url": memory}) == 0
        assert in_process({**AUTO, "store_url": memory}) == 1


def test_numbers_given_keep_their_old_meaning() -> None:
    # no children: the server runs the events, as before auto
    assert (count({"worker_processes": "0"}), in_process({"worker_processes": "0"})) == (0, 1)
    # children asked for by number: the server runs events beside them, as before
    assert (count({"worker_processes": "2"}), in_process({"worker_processes": "2"})) == (2, 1)
    # an in-process worker asked for beside the automatic child
    assert in_process({**AUTO, "workers": "1"}) == 1
    assert count({**AUTO, "workers": "1"}) == (1 if TWO_CORES else 0)


def test_a_number_is_taken_as_given() -> None:
    assert count({"worker_processes": "3"}) == 3
    assert count({"worker_processes": "0"}) == 0
    assert count({"worker_processes": "2", "workers": 0}) == 2
    assert count({}, {"SENDOFF_WORKER_PROCESSES": "0"}) == 0


@pytest.mark.parametrize("raw", ["-1", "two", ""])
@pytest.mark.parametrize("name", ["worker_processes", "workers"])
def test_anything_else_is_refused(raw: str, name: str) -> None:
    with pytest.raises(ConfigError, match="worker"):
        count({name: raw})


def test_auto_reaches_the_children_as_auto() -> None:
    """A server hands its settings to its children as SENDOFF_* variables."""
    settings = Settings(data_dir=Path("/d"), worker_processes=None)
    env = settings_env(settings)
    assert env["SENDOFF_WORKER_PROCESSES"] == env["SENDOFF_WORKERS"] == "auto"
    assert load_settings({}, env) == settings
