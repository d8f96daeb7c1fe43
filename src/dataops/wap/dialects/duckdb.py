"""DuckDB: transactional DDL, one writer process at a time (dbt must not be running)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from dataops.errors import WarehouseError
from dataops.wap.sql import DbApiSession, PublishDialect, Session, in_list, literal

if TYPE_CHECKING:
    from dataops.config import Settings


class DuckDBDialect(PublishDialect):
    text_type = "varchar"

    def connect(self, settings: Settings) -> Session:
        import duckdb

        try:
            return DbApiSession(duckdb.connect(str(settings.warehouse_path)))
        except duckdb.Error as exc:
            raise WarehouseError(
                f"cannot open the DuckDB warehouse {settings.warehouse_path}: {exc}. If another process "
                "(dbt, Airflow) has it open, wait for it to finish and try again."
            ) from exc

    def lock_catalog(self) -> str | None:
        return None  # one writer process at a time, and DuckDB aborts a conflicting commit

    def savepoint(self, name: str) -> tuple[str, str, str] | None:
        return None  # none needed: DuckDB's "create or replace view" accepts any columns

    def schemas_sql(self, prefix: str) -> str:
        return (
            "select schema_name from duckdb_schemas() where database_name = current_database() "
            f"and starts_with(schema_name, {literal(prefix)}) order by 1"
        )

    def relations_sql(self, schemas: Iterable[str]) -> str:
        names = in_list(schemas)
        return (
            "select schema_name, table_name, 'table' from duckdb_tables() "
            f"where database_name = current_database() and schema_name in ({names}) "
            "union all select schema_name, view_name, 'view' from duckdb_views() "
            f"where database_name = current_database() and not internal and schema_name in ({names})"
        )


DIALECT = DuckDBDialect()
