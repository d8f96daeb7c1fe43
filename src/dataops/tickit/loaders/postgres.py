"""Loads TICKIT into PostgreSQL with ``COPY ... FROM STDIN``.

Each file is parsed and validated by DuckDB (the shared reader), streamed to
PostgreSQL as CSV into a staging schema, and the seven tables are swapped into
``settings.tickit_schema`` at the end of the same transaction. Until that
commit, readers see the old tables; a failure rolls everything back.

The swap renames a staging table into place, which is instant, unless views
(dbt's models) depend on the old table: PostgreSQL binds views to the table
itself, so there the rows are replaced instead and the views keep working.
Like any table replacement in PostgreSQL, the rename is invisible to READ
COMMITTED readers (dbt's, psql's) but not MVCC-safe for a REPEATABLE READ
transaction that began before the swap: such a transaction would find the
renamed-in tables empty.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import psycopg
import pyarrow.csv as pacsv
from psycopg import sql

from dataops.errors import WarehouseError
from dataops.tickit.files import ParsedFile, drop_parsed, parse_file, table_files
from dataops.tickit.progress import Progress, no_progress
from dataops.tickit.schema import TABLES, Table, render_ddl
from dataops.warehouses.postgres import PostgresSettings

if TYPE_CHECKING:
    from dataops.config import Settings

STAGING_SUFFIX = "_staging"
COPY_BATCH_ROWS = 65_536
# How long the swap waits for readers holding the old tables before giving up.
SWAP_LOCK_TIMEOUT = "60s"


class PostgresLoader:
    target = "postgres"

    def __init__(self, settings: Settings):
        self.pg = settings.section(PostgresSettings)
        self.schema = settings.tickit_schema

    def load(self, data_dir: Path, progress: Progress = no_progress) -> dict[str, int]:
        paths = table_files(data_dir)
        ensure_database(self.pg)
        with duckdb.connect() as parser, _connect(self.pg) as conn:
            try:
                with conn.transaction():
                    return self._load(conn, parser, paths, progress)
            except psycopg.errors.LockNotAvailable as exc:
                raise WarehouseError(
                    f"the tables in schema {self.schema} stayed locked by another session for "
                    f"{SWAP_LOCK_TIMEOUT}; the load was rolled back. Let long queries finish and retry."
                ) from exc
            except psycopg.Error as exc:
                raise WarehouseError(f"loading TICKIT into PostgreSQL failed and was rolled back: {exc}") from exc

    def _load(
        self, conn: psycopg.Connection, parser: duckdb.DuckDBPyConnection, paths: dict[str, Path], progress: Progress
    ) -> dict[str, int]:
        schema, staging = self.schema, self.schema + STAGING_SUFFIX
        steps = len(TABLES) + 1
        # One load per schema at a time: a second one waits here.
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", [f"dataops.tickit.load.{schema}"])
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(staging)))
        conn.execute(sql.SQL("create schema {}").format(sql.Identifier(staging)))
        rows: dict[str, int] = {}
        for done, table in enumerate(TABLES):
            parsed = parse_file(parser, table, paths[table.name])
            try:
                conn.execute(render_ddl(table, "postgres", staging))
                copied = _copy(parser, parsed, conn, sql.Identifier(staging, table.name))
            finally:
                drop_parsed(parser, parsed)
            if copied != parsed.rows:
                raise WarehouseError(f"COPY of {table.name} stored {copied} rows, the file has {parsed.rows}")
            rows[table.name] = copied
            progress(table.name, done + 1, steps)
        conn.execute(sql.SQL("set local lock_timeout = {}").format(sql.Literal(SWAP_LOCK_TIMEOUT)))
        for table in TABLES:
            _swap(conn, schema, staging, table)
        conn.execute(sql.SQL("drop schema {}").format(sql.Identifier(staging)))
        for table in TABLES:
            conn.execute(sql.SQL("analyze {}").format(sql.Identifier(schema, table.name)))
        progress("swap", steps, steps)
        return rows


def ensure_database(pg: PostgresSettings) -> None:
    """Creates the database named in the settings if it does not exist yet."""
    try:
        psycopg.connect(pg.conninfo(), connect_timeout=10).close()
        return
    except psycopg.OperationalError as exc:
        problem = exc
    try:
        with psycopg.connect(pg.conninfo("postgres"), autocommit=True, connect_timeout=10) as admin:
            if admin.execute("select 1 from pg_database where datname = %s", [pg.database]).fetchone():
                raise _unreachable(pg, problem)
            try:
                admin.execute(sql.SQL("create database {}").format(sql.Identifier(pg.database)))
            except psycopg.errors.DuplicateDatabase:
                pass  # created by someone else meanwhile
    except psycopg.Error as exc:
        raise _unreachable(pg, exc) from exc


def _connect(pg: PostgresSettings) -> psycopg.Connection:
    try:
        return psycopg.connect(pg.conninfo(), connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise _unreachable(pg, exc) from exc


def _unreachable(pg: PostgresSettings, exc: Exception) -> WarehouseError:
    return WarehouseError(
        f"cannot use PostgreSQL database {pg.database!r} at {pg.host}:{pg.port} as {pg.user}: "
        f"{str(exc).strip()}. Start PostgreSQL or check DATAOPS_PG_HOST, DATAOPS_PG_PORT, "
        "DATAOPS_PG_USER and DATAOPS_PG_PASSWORD."
    )


def _copy(
    parser: duckdb.DuckDBPyConnection, parsed: ParsedFile, conn: psycopg.Connection, target: sql.Composable
) -> int:
    """Streams the parsed rows to ``target`` as CSV; returns the rows stored."""
    # CSV marks NULL as an empty unquoted field and quotes every string, so an
    # empty string survives; dates and timestamps are written in ISO format.
    options = pacsv.WriteOptions(include_header=False)
    batches = parser.sql(f"select * from {parsed.relation}").to_arrow_reader(COPY_BATCH_ROWS)
    with conn.cursor() as cursor:
        with cursor.copy(sql.SQL("copy {} from stdin (format csv, freeze)").format(target)) as copy:
            for batch in batches:
                buffer = io.BytesIO()
                pacsv.write_csv(batch, buffer, options)
                copy.write(buffer.getbuffer())
        return cursor.rowcount


def _swap(conn: psycopg.Connection, schema: str, staging: str, table: Table) -> None:
    old = sql.Identifier(schema, table.name)
    new = sql.Identifier(staging, table.name)
    oid = conn.execute("select to_regclass(format('%%I.%%I', %s::text, %s::text))", [schema, table.name]).fetchone()[0]
    if oid is not None and _has_dependent_views(conn, schema, table.name):
        conn.execute(sql.SQL("delete from {}").format(old))
        conn.execute(sql.SQL("insert into {} select * from {}").format(old, new))
        conn.execute(sql.SQL("drop table {}").format(new))
        return
    if oid is not None:
        conn.execute(sql.SQL("drop table {}").format(old))
    conn.execute(sql.SQL("alter table {} set schema {}").format(new, sql.Identifier(schema)))


def _has_dependent_views(conn: psycopg.Connection, schema: str, table: str) -> bool:
    row = conn.execute(
        """
        select exists (
            select 1
            from pg_depend d
            join pg_rewrite r on r.oid = d.objid
            where d.classid = 'pg_rewrite'::regclass
              and d.refclassid = 'pg_class'::regclass
              and d.refobjid = format('%%I.%%I', %s::text, %s::text)::regclass
              and r.ev_class <> d.refobjid
        )
        """,
        [schema, table],
    ).fetchone()
    return bool(row[0])
