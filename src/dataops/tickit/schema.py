"""The TICKIT tables, described once and rendered as DDL for each warehouse.

The column definitions, distribution keys and sort keys are those of the
Amazon Redshift getting-started guide ("Load data from Amazon S3"), which
also fixes the file names and delimiters of the sample data. How each
warehouse spells them is its ``SqlDialect`` (``dataops.warehouses``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dataops.warehouses.base import SqlDialect


@dataclass(frozen=True)
class Column:
    name: str
    # The type exactly as the guide spells it, e.g. "char(8)" or "character(5)".
    type: str
    not_null: bool = False
    default: str | None = None
    distkey: bool = False
    sortkey: bool = False

    @property
    def max_length(self) -> int | None:
        """The declared length of a char/varchar column, else None."""
        match = re.fullmatch(r"(?:char|character|varchar)\((\d+)\)", self.type)
        return int(match.group(1)) if match else None

    @property
    def unbounded_type(self) -> str:
        """The type without a char/varchar length (files.py checks lengths instead)."""
        return "varchar" if self.max_length is not None else self.type

    @property
    def duckdb_type(self) -> str:
        """The type the shared reader (DuckDB) parses the column's text as."""
        return self.unbounded_type.upper()


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    file_name: str
    delimiter: str

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)


def _c(name: str, type_: str, *flags: str, default: str | None = None) -> Column:
    return Column(
        name,
        type_,
        not_null="not null" in flags,
        default=default,
        distkey="distkey" in flags,
        sortkey="sortkey" in flags,
    )


_LIKES = ("sports", "theatre", "concerts", "jazz", "classical", "opera", "rock", "vegas", "broadway", "musicals")

USERS = Table(
    "users",
    (
        _c("userid", "integer", "not null", "distkey", "sortkey"),
        _c("username", "char(8)"),
        _c("firstname", "varchar(30)"),
        _c("lastname", "varchar(30)"),
        _c("city", "varchar(30)"),
        _c("state", "char(2)"),
        _c("email", "varchar(100)"),
        _c("phone", "char(14)"),
        *(_c(f"like{what}", "boolean") for what in _LIKES),
    ),
    "allusers_pipe.txt",
    "|",
)

VENUE = Table(
    "venue",
    (
        _c("venueid", "smallint", "not null", "distkey", "sortkey"),
        _c("venuename", "varchar(100)"),
        _c("venuecity", "varchar(30)"),
        _c("venuestate", "char(2)"),
        _c("venueseats", "integer"),
    ),
    "venue_pipe.txt",
    "|",
)

CATEGORY = Table(
    "category",
    (
        _c("catid", "smallint", "not null", "distkey", "sortkey"),
        _c("catgroup", "varchar(10)"),
        _c("catname", "varchar(10)"),
        _c("catdesc", "varchar(50)"),
    ),
    "category_pipe.txt",
    "|",
)

DATE = Table(
    "date",
    (
        _c("dateid", "smallint", "not null", "distkey", "sortkey"),
        _c("caldate", "date", "not null"),
        _c("day", "character(3)", "not null"),
        _c("week", "smallint", "not null"),
        _c("month", "character(5)", "not null"),
        _c("qtr", "character(5)", "not null"),
        _c("year", "smallint", "not null"),
        _c("holiday", "boolean", default="('N')"),
    ),
    "date2008_pipe.txt",
    "|",
)

EVENT = Table(
    "event",
    (
        _c("eventid", "integer", "not null", "distkey"),
        _c("venueid", "smallint", "not null"),
        _c("catid", "smallint", "not null"),
        _c("dateid", "smallint", "not null", "sortkey"),
        _c("eventname", "varchar(200)"),
        _c("starttime", "timestamp"),
    ),
    "allevents_pipe.txt",
    "|",
)

LISTING = Table(
    "listing",
    (
        _c("listid", "integer", "not null", "distkey"),
        _c("sellerid", "integer", "not null"),
        _c("eventid", "integer", "not null"),
        _c("dateid", "smallint", "not null", "sortkey"),
        _c("numtickets", "smallint", "not null"),
        _c("priceperticket", "decimal(8,2)"),
        _c("totalprice", "decimal(8,2)"),
        _c("listtime", "timestamp"),
    ),
    "listings_pipe.txt",
    "|",
)

SALES = Table(
    "sales",
    (
        _c("salesid", "integer", "not null"),
        _c("listid", "integer", "not null", "distkey"),
        _c("sellerid", "integer", "not null"),
        _c("buyerid", "integer", "not null"),
        _c("eventid", "integer", "not null"),
        _c("dateid", "smallint", "not null", "sortkey"),
        _c("qtysold", "smallint", "not null"),
        _c("pricepaid", "decimal(8,2)"),
        _c("commission", "decimal(8,2)"),
        _c("saletime", "timestamp"),
    ),
    "sales_tab.txt",
    "\t",
)

# In load order: referenced tables before the tables that reference them.
TABLES: tuple[Table, ...] = (USERS, VENUE, CATEGORY, DATE, EVENT, LISTING, SALES)
TABLES_BY_NAME: dict[str, Table] = {table.name: table for table in TABLES}
TABLE_NAMES: tuple[str, ...] = tuple(TABLES_BY_NAME)

# Row counts of the real sample files: the generator's scale factor 1.
SF1_ROWS: dict[str, int] = {
    "users": 49_990,
    "venue": 202,
    "category": 11,
    "date": 365,
    "event": 8_798,
    "listing": 192_497,
    "sales": 172_456,
}


def quote_identifier(name: str) -> str:
    """A double-quoted SQL identifier (``date`` and ``day`` are keywords)."""
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str | None, table: str, target: str) -> str:
    """``schema.table`` as warehouse ``target`` spells it."""
    if not _dialect(target).quote_identifiers:
        return f"{schema}.{table}" if schema else table
    name = quote_identifier(table)
    return f"{quote_identifier(schema)}.{name}" if schema else name


def render_ddl(table: Table, target: str, schema: str | None = None, name: str | None = None) -> str:
    """``create table`` for ``table`` in warehouse ``target``'s dialect, optionally under another name."""
    dialect = _dialect(target)
    lines = [_render_column(column, dialect) for column in table.columns]
    body = ",\n".join(f"    {line}" for line in lines)
    return f"create table {qualified(schema, name or table.name, target)}(\n{body})"


def _dialect(target: str) -> SqlDialect:
    from dataops.warehouses import registry

    return registry.get(target).dialect


def _render_column(column: Column, dialect: SqlDialect) -> str:
    name = quote_identifier(column.name) if dialect.quote_identifiers else column.name
    parts = [name, column.type if dialect.string_lengths else column.unbounded_type]
    if column.not_null:
        parts.append("not null")
    if column.default is not None:
        parts.append(f"default{column.default}" if dialect.text_booleans else f"default {_boolean(column.default)}")
    if dialect.distribution_keys:
        parts += [flag for flag, on in (("distkey", column.distkey), ("sortkey", column.sortkey)) if on]
    return " ".join(parts)


def _boolean(text_default: str) -> str:
    """The guide's ``('N')`` or ``('Y')`` as a boolean literal."""
    return "true" if text_default.strip("()' ").upper() in ("Y", "YES", "T", "TRUE", "1") else "false"
