"""PostgreSQL migrations: numbered, applied once under a lock, and an old schema migrated
step by step ends up the same as a fresh install."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg

from sendoff.store.postgres import PostgresStore
from sendoff.store.postgres.db import PostgresDatabase, migrations
from tests.contract.conftest import unavailable
from tests.support.backend_postgres import admin, fresh_schema, schema_url


def test_migrations_are_numbered_without_gaps() -> None:
    numbers = [n for n, _, _ in migrations()]
    assert numbers == list(range(1, len(numbers) + 1))


async def snapshot(conn: psycopg.AsyncConnection[Any], schema: str) -> dict[str, list[Any]]:
    """Everything information_schema and pg_indexes say about a schema's tables."""
    queries = {
        "columns": "SELECT table_name, column_name, ordinal_position, data_type, is_nullable,"
        " column_default, collation_name, is_identity FROM information_schema.columns"
        " WHERE table_schema = %(s)s ORDER BY 1, 3",
        "constraints": "SELECT tc.table_name, tc.constraint_type, kcu.column_name,"
        " kcu.ordinal_position FROM information_schema.table_constraints tc"
        " JOIN information_schema.key_column_usage kcu"
        " ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema"
        " WHERE tc.table_schema = %(s)s ORDER BY 1, 2, 4",
        "indexes": "SELECT tablename, indexname, replace(indexdef, %(s)s || '.', '')"
        " FROM pg_indexes WHERE schemaname = %(s)s ORDER BY 1, 2",
    }
    out = {}
    for name, query in queries.items():
        cur = await conn.execute(query, {"s": schema})
        out[name] = await cur.fetchall()
    return out


async def test_step_by_step_upgrade_matches_a_fresh_install() -> None:
    numbers = [n for n, _, _ in migrations()]
    async with fresh_schema(unavailable) as old, fresh_schema(unavailable) as new:
        for number in numbers:  # one release at a time, with data in between
            db = PostgresDatabase(schema_url(old))
            await db.open(migrate_upto=number)
            assert [name[:4] for name in db.applied] == [f"{number:04d}"]
            if number == 1:
                await db.execute(
                    "INSERT INTO docs (kind, key, value, revision)"
                    " VALUES ('fn', 'k', '{\"v\": 1}', 1)",
                    {},
                )
            await db.close()
        fresh = PostgresDatabase(schema_url(new))
        await fresh.open()
        assert fresh.applied == [name for _, name, _ in migrations()]
        await fresh.close()
        conn = await admin(unavailable)
        async with conn:
            upgraded = await snapshot(conn, old)
            assert upgraded["columns"] and upgraded["constraints"] and upgraded["indexes"]
            assert upgraded == await snapshot(conn, new)
            cur = await conn.execute(f"SELECT value FROM {old}.docs WHERE key = 'k'")
            assert await cur.fetchone() == ({"v": 1},)


async def test_processes_starting_together_migrate_once() -> None:
    async with fresh_schema(unavailable) as schema:
        stores = [PostgresStore(schema_url(schema)) for _ in range(4)]
        await asyncio.gather(*(s.open() for s in stores))
        applied = sorted((s.db.applied for s in stores), key=len)
        assert applied[:-1] == [[], [], []]
        assert applied[-1] == [name for _, name, _ in migrations()]
        await asyncio.gather(*(s.close() for s in stores))
        again = PostgresStore(schema_url(schema))
        await again.open()
        assert again.db.applied == []
        await again.close()
