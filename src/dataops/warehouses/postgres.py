"""PostgreSQL: the local stand-in for Redshift (``DATAOPS_PG_*``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from dataops.warehouses.base import Rows, SqlDialect, Warehouse, section_env

if TYPE_CHECKING:
    from dataops.config import Settings


class PostgresSettings(BaseSettings):
    """The PostgreSQL warehouse (the local stand-in for Redshift)."""

    model_config = SettingsConfigDict(env_prefix="DATAOPS_PG_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(5432, ge=1, le=65535)
    user: str = "postgres"
    password: SecretStr = SecretStr("")
    database: str = "dataops"

    def conninfo(self, database: str | None = None) -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password.get_secret_value() or None,
            dbname=database or self.database,
        )

    def dbt_env(self) -> dict[str, str]:
        """What the ``postgres`` output of profiles.yml reads."""
        return section_env(self, "host", "port", "user", "password", "database")


def dbt_env(settings: Settings) -> dict[str, str]:
    return settings.section(PostgresSettings).dbt_env()


def query(settings: Settings, sql: str) -> Rows:
    import psycopg

    with psycopg.connect(settings.section(PostgresSettings).conninfo(), connect_timeout=10) as conn:
        cursor = conn.execute(sql)
        return [column.name for column in cursor.description], cursor.fetchall()


def execute(settings: Settings, sql: str) -> None:
    import psycopg

    with psycopg.connect(settings.section(PostgresSettings).conninfo(), connect_timeout=10, autocommit=True) as conn:
        conn.execute(sql)


def location(settings: Settings) -> str:
    pg = settings.section(PostgresSettings)
    return f"PostgreSQL database {pg.database} at {pg.host}:{pg.port}"


WAREHOUSE = Warehouse(
    name="postgres",
    title="PostgreSQL",
    dialect=SqlDialect(),
    dbt_env=dbt_env,
    loader="dataops.tickit.loaders.postgres:PostgresLoader",
    query=query,
    location=location,
    execute=execute,
    publish_dialect="dataops.wap.dialects.postgres:DIALECT",
    materializations=frozenset({"table", "view", "materialized_view"}),
)
