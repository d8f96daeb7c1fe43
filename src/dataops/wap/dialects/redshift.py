"""Amazon Redshift: DDL is transactional (BEGIN ... COMMIT), except the few statements documented as
not allowed in a transaction block, none of which is used; production views are late-binding
(``WITH NO SCHEMA BINDING``), so the tables under them can be dropped and they bind at query time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataops.errors import WarehouseError
from dataops.wap.place import Relation
from dataops.wap.sql import DbApiSession, PublishDialect, Session, qualified

if TYPE_CHECKING:
    from dataops.config import Settings


class RedshiftDialect(PublishDialect):
    text_type = "varchar(1024)"

    def connect(self, settings: Settings) -> Session:
        from dataops.warehouses.redshift import RedshiftSettings

        try:
            conn = settings.section(RedshiftSettings).connect()
        except Exception as exc:  # noqa: BLE001  (redshift_connector has no common base error)
            raise WarehouseError(f"cannot connect to Redshift: {exc}") from exc
        conn.autocommit = True
        return DbApiSession(conn)

    def lock_catalog(self) -> str | None:
        return f"lock {qualified(Relation('dataops_wap', 'versions'))}"

    def create_view(self, view: Relation, over: Relation) -> str:
        return f"{super().create_view(view, over)} with no schema binding"

    def replace_view(self, view: Relation, over: Relation) -> list[str] | None:
        # Late-binding views have no dependents to keep, and CREATE OR REPLACE VIEW only accepts the
        # same columns: drop and create, always.
        return None

    def savepoint(self, name: str) -> tuple[str, str, str] | None:
        return None  # Redshift has no savepoints

    def copy_table(self, source: Relation, target: Relation) -> list[str]:
        # LIKE keeps the distribution and sort keys; ALTER TABLE APPEND would move the rows out of the
        # published version (and cannot run in a transaction block), so the rows are copied.
        return [
            f"create table {qualified(target)} (like {qualified(source)})",
            f"insert into {qualified(target)} select * from {qualified(source)}",
        ]


DIALECT = RedshiftDialect()
