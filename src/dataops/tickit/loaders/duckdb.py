"""Loads TICKIT into the embedded DuckDB warehouse (``settings.warehouse_path``).

The whole load is one DuckDB transaction: each file is parsed and validated
straight into a staging table beside its target, and at the end the staging
tables are renamed over the old ones. Other connections keep reading the old
tables until the commit; an error rolls everything back.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from dataops.errors import WarehouseError
from dataops.tickit.files import parse_file, table_files
from dataops.tickit.progress import Progress, no_progress
from dataops.tickit.schema import TABLES, qualified, quote_identifier, render_ddl

if TYPE_CHECKING:
    from dataops.config import Settings

STAGING_SUFFIX = "__staging"


class DuckDBLoader:
    target = "duckdb"

    def __init__(self, settings: Settings):
        self.path = settings.warehouse_path
        self.schema = settings.tickit_schema

    def load(self, data_dir: Path, progress: Progress = no_progress) -> dict[str, int]:
        paths = table_files(data_dir)
        con = self._connect()
        try:
            return load_into(con, self.schema, paths, progress)
        finally:
            con.close()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return duckdb.connect(str(self.path))
        except (duckdb.Error, OSError) as exc:
            raise WarehouseError(
                f"cannot open the DuckDB warehouse {self.path}: {exc}. If another process "
                "(dbt, Airflow) has it open, wait for it to finish and run the load again."
            ) from exc


def load_into(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    paths: dict[str, Path],
    progress: Progress = no_progress,
) -> dict[str, int]:
    """Loads the files ``paths`` (table -> file) into ``schema`` of ``con`` atomically."""
    steps = len(TABLES) + 1
    rows: dict[str, int] = {}
    con.execute("begin transaction")
    try:
        con.execute(f"create schema if not exists {quote_identifier(schema)}")
        for done, table in enumerate(TABLES):
            staging = table.name + STAGING_SUFFIX
            con.execute(f"drop table if exists {qualified(schema, staging, 'duckdb')}")
            con.execute(render_ddl(table, "duckdb", schema, staging))
            parsed = parse_file(con, table, paths[table.name], into=qualified(schema, staging, "duckdb"))
            rows[table.name] = parsed.rows
            progress(table.name, done + 1, steps)
        for table in TABLES:
            con.execute(f"drop table if exists {qualified(schema, table.name, 'duckdb')}")
            con.execute(
                f"alter table {qualified(schema, table.name + STAGING_SUFFIX, 'duckdb')} "
                f"rename to {quote_identifier(table.name)}"
            )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    progress("swap", steps, steps)
    return rows
