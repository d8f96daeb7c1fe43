"""A PostgreSQL database of a benchmark's own, on the server the DATAOPS_PG_* settings name."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from dataops.warehouses.postgres import PostgresSettings


@contextmanager
def bench_database(purpose: str) -> Iterator[PostgresSettings | None]:
    """A new database, as the settings that point at it (``dbt_env()`` gives its DATAOPS_PG_*
    variables), dropped afterwards; None, with a printed reason, when the server cannot be reached."""
    import psycopg

    pg = PostgresSettings()
    name = f"dataops_bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(pg.conninfo("postgres"), autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'create database "{name}"')
    except psycopg.Error as exc:
        print(f"PostgreSQL unavailable, {purpose} not measured: {exc}")
        yield None
        return
    try:
        yield pg.model_copy(update={"database": name})
    finally:
        with psycopg.connect(pg.conninfo("postgres"), autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')
