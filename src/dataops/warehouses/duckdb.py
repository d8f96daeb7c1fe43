"""DuckDB: the embedded warehouse, one file (``DATAOPS_DUCKDB_PATH``, by default
``warehouse.duckdb`` in the state dir, which is why that setting stays on ``Settings``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataops.warehouses.base import Rows, SqlDialect, Warehouse

if TYPE_CHECKING:
    from dataops.config import Settings


def dbt_env(settings: Settings) -> dict[str, str]:
    return {"DATAOPS_DUCKDB_PATH": str(settings.warehouse_path)}


def query(settings: Settings, sql: str) -> Rows:
    import duckdb

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        cursor = con.execute(sql)
        return [column[0] for column in cursor.description], cursor.fetchall()


def execute(settings: Settings, sql: str) -> None:
    import duckdb

    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(sql)


def location(settings: Settings) -> str:
    return f"DuckDB file {settings.warehouse_path}"


WAREHOUSE = Warehouse(
    name="duckdb",
    title="DuckDB",
    # DuckDB ignores string lengths and does not read 'N' as a boolean.
    dialect=SqlDialect(string_lengths=False, text_booleans=False),
    dbt_env=dbt_env,
    loader="dataops.tickit.loaders.duckdb:DuckDBLoader",
    query=query,
    location=location,
    execute=execute,
    publish_dialect="dataops.wap.dialects.duckdb:DIALECT",
)
