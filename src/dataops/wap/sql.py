"""The statements write-audit-publish sends, one dialect per warehouse.

Every statement is built here as text (literals quoted here, no driver
parameters), so what a warehouse is sent can be checked without it: the
Redshift dialect is tested by its exact SQL. A warehouse declares its dialect
in the registry (``Warehouse.publish_dialect``).

Production relations are views over the run's tables: publishing creates
views, it never copies data. Only incremental models and snapshots are copied,
into the next run's place before it builds (see ``copy_table``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from dataops.wap.place import Relation

if TYPE_CHECKING:
    from dataops.config import Settings

CATALOG_SCHEMA = "dataops_wap"
VERSIONS = Relation(CATALOG_SCHEMA, "versions")
VERSION_RELATIONS = Relation(CATALOG_SCHEMA, "version_relations")
PLACES = Relation(CATALOG_SCHEMA, "places")
# A relation's kind, as relations_sql reports it.
TABLE, VIEW, MATERIALIZED_VIEW = "table", "view", "materialized_view"


class Session(Protocol):
    """A warehouse connection in autocommit mode; transactions are explicit ``begin``/``commit``."""

    def execute(self, sql: str) -> None: ...

    def rows(self, sql: str) -> list[tuple]: ...

    def close(self) -> None: ...


class DbApiSession:
    """A Session over a DB-API connection (psycopg, redshift_connector, duckdb)."""

    def __init__(self, conn: Any):
        self.conn = conn
        # One cursor for the session: a DuckDB cursor is a connection (and transaction) of its own.
        self.cursor = conn.cursor()

    def execute(self, sql: str) -> None:
        self.cursor.execute(sql)

    def rows(self, sql: str) -> list[tuple]:
        self.cursor.execute(sql)
        return [tuple(row) for row in self.cursor.fetchall()]

    def close(self) -> None:
        self.conn.close()


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def qualified(relation: Relation) -> str:
    return f"{ident(relation.schema)}.{ident(relation.name)}"


def in_list(values: Iterable[str]) -> str:
    return ", ".join(literal(v) for v in sorted(set(values))) or "''"


class PublishDialect:
    """PostgreSQL's spelling; the other warehouses change what differs."""

    # Text wide enough for a run id or a model's unique_id, on every warehouse.
    text_type = "varchar(1024)"

    def connect(self, settings: Settings) -> Session:
        raise NotImplementedError

    # Transactions
    def begin(self) -> str:
        return "begin"

    def commit(self) -> str:
        return "commit"

    def rollback(self) -> str:
        return "rollback"

    def lock_catalog(self) -> str | None:
        """Serializes publishes of all pipelines: taken first in each publish transaction."""
        return f"lock table {qualified(VERSIONS)} in exclusive mode"

    # Schemas and relations
    def create_schema(self, schema: str) -> str:
        return f"create schema if not exists {ident(schema)}"

    def drop_schema(self, schema: str) -> str:
        return f"drop schema if exists {ident(schema)} cascade"

    def schemas_sql(self, prefix: str) -> str:
        """The schemas whose names start with ``prefix``."""
        pattern = prefix.replace("!", "!!").replace("_", "!_").replace("%", "!%") + "%"
        return f"select nspname from pg_catalog.pg_namespace where nspname like {literal(pattern)} escape '!' order by 1"

    def relations_sql(self, schemas: Iterable[str]) -> str:
        """(schema, name, kind) of every table and view in ``schemas``."""
        return (
            "select n.nspname, c.relname, case c.relkind when 'v' then 'view' when 'm' then 'materialized_view' "
            "else 'table' end from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace "
            f"where c.relkind in ('r', 'p', 'v', 'm') and n.nspname in ({in_list(schemas)})"
        )

    def drop_relation(self, relation: Relation, kind: str) -> str:
        what = {TABLE: "table", VIEW: "view", MATERIALIZED_VIEW: "materialized view"}[kind]
        return f"drop {what} if exists {qualified(relation)}"

    def create_view(self, view: Relation, over: Relation) -> str:
        """The production relation: a view of the built one (no data is copied)."""
        return f"create view {qualified(view)} as select * from {qualified(over)}"

    def replace_view(self, view: Relation, over: Relation) -> list[str] | None:
        """Statements that repoint an existing production view in place, keeping the views others made
        over it; tried first, inside ``savepoint`` (the same columns are required: if they changed, the
        view is dropped and created instead). None: the warehouse always drops and creates."""
        return [f"create or replace view {qualified(view)} as select * from {qualified(over)}"]

    def savepoint(self, name: str) -> tuple[str, str, str] | None:
        """(set, release, roll back to) a savepoint; None when a failed statement cannot be undone alone."""
        return f"savepoint {name}", f"release savepoint {name}", f"rollback to savepoint {name}"

    def copy_table(self, source: Relation, target: Relation) -> list[str]:
        """An incremental model's or snapshot's current rows, carried into a run's place: a full copy."""
        return [f"create table {qualified(target)} as select * from {qualified(source)}"]

    # The catalog of published versions
    def catalog_ddl(self) -> list[str]:
        t = self.text_type
        return [
            self.create_schema(CATALOG_SCHEMA),
            f"create table if not exists {qualified(VERSIONS)} (pipeline {t} not null, version integer not null, "
            f"action varchar(16) not null, run_id {t} not null, run_after varchar(64) not null, "
            f"code_version {t} not null, published_at varchar(64) not null)",
            f"create table if not exists {qualified(VERSION_RELATIONS)} (pipeline {t} not null, "
            f"version integer not null, unique_id {t} not null, kind varchar(32) not null, "
            f"built_schema varchar(127) not null, built_name varchar(127) not null, "
            f"production_schema varchar(127) not null, production_name varchar(127) not null)",
            f"create table if not exists {qualified(PLACES)} (pipeline {t} not null, schema_name varchar(127) not null, "
            f"run_id {t} not null, run_after varchar(64) not null)",
        ]

    def insert_rows(self, table: Relation, rows: Sequence[Sequence[object]]) -> str:
        values = ", ".join("(" + ", ".join(_value(v) for v in row) + ")" for row in rows)
        return f"insert into {qualified(table)} values {values}"


def _value(value: object) -> str:
    return str(int(value)) if isinstance(value, int) else literal(str(value))
