"""PostgreSQL: transactional DDL; a view's swap waits for readers holding it and is seen whole at commit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataops.errors import WarehouseError
from dataops.wap.sql import DbApiSession, PublishDialect, Session

if TYPE_CHECKING:
    from dataops.config import Settings


class PostgresDialect(PublishDialect):
    def connect(self, settings: Settings) -> Session:
        import psycopg

        from dataops.warehouses.postgres import PostgresSettings

        pg = settings.section(PostgresSettings)
        try:
            return DbApiSession(psycopg.connect(pg.conninfo(), connect_timeout=10, autocommit=True))
        except psycopg.Error as exc:
            raise WarehouseError(f"cannot connect to PostgreSQL at {pg.host}:{pg.port}/{pg.database}: {exc}") from exc


DIALECT = PostgresDialect()
