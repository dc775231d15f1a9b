"""Faults on the scale-out backends, with real processes (issue: scale out).

* the PostgreSQL or Redis server is crashed and restarted under load;
* an API process and a worker are SIGKILLed under load, with two API servers and separate
  workers sharing PostgreSQL;

and afterwards every event that got a 202 has ended, exactly as on the embedded default.
The store servers killed here are private ones started by the test (tests/support/
own_services.py), never the machine's shared services.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import client_for
from tests.integration.test_crash_recovery import FAST, fire, wait_all_terminal
from tests.support.functions import create_python, unique
from tests.support.own_services import OwnPostgres, OwnRedis, own_postgres, own_redis
from tests.support.server import start_server, wait_until


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"needed under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(params=["postgres", "redis"])
def store_service(request: pytest.FixtureRequest) -> Iterator[OwnPostgres | OwnRedis]:
    starter = own_postgres if request.param == "postgres" else own_redis
    try:
        with starter() as service:
            yield service
    except RuntimeError as exc:
        unavailable(str(exc))


def crash_and_restart(service: OwnPostgres | OwnRedis) -> None:
    if isinstance(service, OwnPostgres):
        service.restart_immediately()
    else:
        service.kill()
        service.start()


def test_store_crash_mid_load_loses_no_accepted_event(
    store_service: OwnPostgres | OwnRedis, tmp_path: Path
) -> None:
    server = start_server(
        tmp_path / "data", "--time-scale", "0.01", env={"SENDOFF_STORE": store_service.url}
    )
    try:
        name = unique("storecrash")
        create_python(client_for(server.url, "lambda"), name, source=FAST)
        accepted: list[str] = []
        sender = threading.Thread(
            target=fire, args=(server.url, name, 1500, accepted, threading.Event())
        )
        sender.start()
        wait_until(lambda: len(accepted) >= 300, timeout=60, message="load accepted")
        crash_and_restart(store_service)
        sender.join(120)
        assert len(accepted) >= 300
        states = wait_all_terminal(server.url, accepted, timeout=240)
        assert all(states[i] == "succeeded" for i in accepted)
    finally:
        server.stop()


def test_api_and_worker_sigkill_on_postgres(tmp_path: Path) -> None:
    base = os.environ.get("SENDOFF_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        import psycopg

        psycopg.connect(base, connect_timeout=3).close()
    except Exception as exc:
        unavailable(f"PostgreSQL at {base}: {exc}")
    schema = f"fault_{uuid.uuid4().hex[:8]}"
    url = f"{base}{'&' if '?' in base else '?'}schema={schema}"
    env = {"SENDOFF_STORE": url}
    api_a = start_server(tmp_path / "a", "--no-workers", "--time-scale", "0.01", env=env)
    api_b = start_server(tmp_path / "b", "--no-workers", "--time-scale", "0.01", env=env)

    def worker(tag: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sendoff.cli.main",
                "worker",
                "--port",
                str(api_b.port),
                "--time-scale",
                "0.01",
                "--data-dir",
                str(tmp_path / tag),
            ],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    first = worker("w1")
    second: subprocess.Popen[bytes] | None = None
    try:
        name = unique("apicrash")
        create_python(client_for(api_b.url, "lambda"), name, source=FAST)
        accepted_a: list[str] = []
        accepted_b: list[str] = []
        senders = [
            threading.Thread(target=fire, args=(api.url, name, 800, acc, threading.Event()))
            for api, acc in ((api_a, accepted_a), (api_b, accepted_b))
        ]
        for sender in senders:
            sender.start()
        wait_until(lambda: len(accepted_a) >= 200, timeout=60, message="load on API a")
        api_a.process.send_signal(signal.SIGKILL)  # an API process dies mid-load
        api_a.process.wait(10)
        first.send_signal(signal.SIGKILL)  # and so does the only worker
        first.wait(10)
        second = worker("w2")
        for sender in senders:
            sender.join(120)
        accepted = accepted_a + accepted_b
        states = wait_all_terminal(api_b.url, accepted, timeout=240)
        assert all(states[i] == "succeeded" for i in accepted)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(30)
        api_b.stop()
        api_a.stop()
        import psycopg

        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
