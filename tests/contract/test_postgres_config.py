"""Choosing the PostgreSQL store by URL: sendoff's own parameters, errors, the extra."""

from __future__ import annotations

import sys

import pytest
from psycopg.conninfo import conninfo_to_dict

from sendoff.errors import ConfigError, StoreError
from sendoff.store import open_store
from sendoff.store.postgres import PostgresStore
from sendoff.store.postgres.db import PostgresUrl


def test_schema_and_pool_size_are_ours_the_rest_goes_to_libpq() -> None:
    url = PostgresUrl.parse(
        "postgresql://u:pw@db.example:6543/app?schema=sendoff&pool_max=20&sslmode=require"
    )
    info = conninfo_to_dict(url.conninfo)
    assert (url.schema, url.pool_max) == ("sendoff", 20)
    assert info["options"] == "-csearch_path=sendoff" and info["sslmode"] == "require"
    assert info["application_name"] == "sendoff" and "schema" not in info
    assert url.display == "db.example:6543/app schema sendoff"  # no credentials


def test_existing_options_and_application_name_are_kept() -> None:
    url = PostgresUrl.parse(
        "postgres:///app?host=/run/postgresql&options=-cstatement_timeout%3D5000"
        "&application_name=api&schema=s1"
    )
    info = conninfo_to_dict(url.conninfo)
    assert info["options"] == "-cstatement_timeout=5000 -csearch_path=s1"
    assert info["application_name"] == "api" and info["host"] == "/run/postgresql"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://h/db?schema=Bad-Name",
        "postgresql://h/db?schema=",
        "postgresql://h/db?pool_max=1",
        "postgresql://h/db?pool_max=many",
        "postgresql://h/db?no_such_libpq_option=1",
    ],
)
def test_bad_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        open_store(url)


def test_both_schemes_open_the_postgres_store() -> None:
    assert isinstance(open_store("postgresql://h/db"), PostgresStore)
    assert isinstance(open_store("postgres://h/db"), PostgresStore)


async def test_unreachable_server_fails_fast_without_credentials() -> None:
    store = open_store("postgresql://nobody:secret@127.0.0.1:1/db")
    with pytest.raises(StoreError) as caught:
        await store.open()
    assert "secret" not in str(caught.value) and "127.0.0.1:1/db" in str(caught.value)


def test_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(sys.modules):
        if name.startswith("sendoff.store.postgres"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ConfigError, match=r"pip install 'sendoff\[postgres\]'"):
        open_store("postgresql://h/db")
