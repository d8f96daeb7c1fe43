"""Finding, reading and validating the TICKIT text files.

One reader serves every loader: DuckDB parses a file with the table's exact
column types, and the rows that parse are checked against what the warehouse
will demand (NOT NULL, char/varchar lengths). Anything wrong becomes a
``DataFileError`` naming the file and the line.

The files have no header row; an empty field is NULL. Generated files write
timestamps as ``2008-02-18 02:36:48``; the real ``sales_tab.txt`` writes them
as ``2/18/2008 02:36:48``, so the format is read from the file's first line.
"""

from __future__ import annotations

import re
import shlex
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from dataops.errors import DataFileError
from dataops.tickit.schema import TABLES, Table, quote_identifier



def next_step(path: Path) -> str:
    """What to do about a damaged file: fix it, or generate its folder again
    with the scale and seed that folder was generated with."""
    from dataops.tickit.manifest import read_manifest

    folder = shlex.quote(str(Path(path).parent))
    manifest = read_manifest(Path(path).parent)
    if manifest is None:
        return f"fix or replace the file (generated data: run `dataops data generate --force --out {folder}`)"
    return (
        "fix or replace the file, or generate the folder again: "
        f"`dataops data generate --force --scale {manifest.scale:g} --seed {manifest.seed} --out {folder}`"
    )


@dataclass(frozen=True)
class TimeFormat:
    """How a file writes its dates and timestamps."""

    duckdb_date: str
    duckdb_timestamp: str
    # The TIMEFORMAT of Redshift's COPY for the same text.
    redshift_timestamp: str


ISO_TIME = TimeFormat("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "YYYY-MM-DD HH:MI:SS")
US_TIME = TimeFormat("%m/%d/%Y", "%m/%d/%Y %H:%M:%S", "MM/DD/YYYY HH:MI:SS")
_US_DATE = re.compile(r"\d{1,2}/\d{1,2}/\d{4}")


def table_files(data_dir: Path) -> dict[str, Path]:
    """The path of each table's file in ``data_dir``; all of them must exist."""
    data_dir = Path(data_dir)
    paths = {table.name: data_dir / table.file_name for table in TABLES}
    missing = [path for path in paths.values() if not path.is_file()]
    if missing:
        names = ", ".join(path.name for path in missing)
        raise DataFileError(
            missing[0],
            None,
            f"missing TICKIT file(s) in {data_dir}: {names}; "
            f"run `dataops data generate --out {shlex.quote(str(data_dir))}` or copy the sample files there",
        )
    return paths


def time_format(table: Table, path: Path) -> TimeFormat:
    """The date/timestamp format ``path`` uses, judged from its first row."""
    temporal = [i for i, column in enumerate(table.columns) if column.type in ("date", "timestamp")]
    if not temporal:
        return ISO_TIME
    first = _first_row(path)
    fields = first.split(table.delimiter) if first is not None else []
    value = fields[temporal[0]] if len(fields) > temporal[0] else ""
    return US_TIME if _US_DATE.match(value) else ISO_TIME


@dataclass(frozen=True)
class ParsedFile:
    """A file parsed and validated into a DuckDB table."""

    table: Table
    path: Path
    relation: str  # the table's (quoted) name
    rows: int
    temporary: bool = True


def parse_file(
    con: duckdb.DuckDBPyConnection, table: Table, path: Path, into: str | None = None, *, byte_lengths: bool = False
) -> ParsedFile:
    """Parses ``path`` as ``table`` into a table of ``con`` and validates it.

    By default the rows go to a new temporary table, which the caller drops
    (``drop_parsed``) when done. ``into`` names an existing, empty table made
    from the table's DuckDB DDL instead: the rows are inserted there directly.
    ``byte_lengths`` checks char/varchar lengths in bytes of UTF-8 and refuses
    multibyte characters in char columns, as Redshift does (PostgreSQL counts
    characters).
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, None, f"file not found (table {table.name}); {next_step(path)}")
    relation = into or quote_identifier(f"tickit_parsed_{table.name}_{uuid.uuid4().hex[:8]}")
    rows_of_file = f"select * from {read_csv_sql(table, path)}"
    try:
        if into:
            con.execute(f"insert into {into} {rows_of_file}")
        else:
            con.execute(f"create temporary table {relation} as {rows_of_file}")
    except duckdb.ConstraintException:
        # The target's NOT NULL says nothing of the line: parse again without
        # constraints to find it, on a connection of its own (this one's
        # transaction is now aborted).
        with duckdb.connect() as spare:
            drop_parsed(spare, parse_file(spare, table, path, byte_lengths=byte_lengths))
        raise DataFileError(path, None, f"a value breaks a constraint of table {table.name}; {next_step(path)}") from None
    except duckdb.Error as exc:
        raise _file_error(exc, table, path) from None
    parsed = ParsedFile(table, path, relation, 0, temporary=into is None)
    try:
        rows = con.execute(f"select count(*) from {relation}").fetchone()[0]
        if rows == 0:
            raise DataFileError(path, None, f"the file is empty (table {table.name}); {next_step(path)}")
        _check_constraints(con, table, path, relation, byte_lengths)
    except BaseException:
        drop_parsed(con, parsed)
        raise
    return ParsedFile(table, path, relation, rows, temporary=into is None)


def drop_parsed(con: duckdb.DuckDBPyConnection, parsed: ParsedFile) -> None:
    """Drops the temporary table of ``parsed`` (a table given as ``into`` stays)."""
    if parsed.temporary:
        con.execute(f"drop table if exists {parsed.relation}")


def read_csv_sql(table: Table, path: Path) -> str:
    """DuckDB's ``read_csv(...)`` for ``path`` with the table's exact types."""
    fmt = time_format(table, path)
    columns = ", ".join(f"{_literal(c.name)}: {_literal(c.duckdb_type)}" for c in table.columns)
    return (
        f"read_csv({_literal(str(path))}, columns = {{{columns}}}, delim = {_literal(table.delimiter)}, "
        "header = false, auto_detect = false, nullstr = '', quote = '', escape = '', "
        f"dateformat = {_literal(fmt.duckdb_date)}, timestampformat = {_literal(fmt.duckdb_timestamp)})"
    )


def _check_constraints(
    con: duckdb.DuckDBPyConnection, table: Table, path: Path, relation: str, byte_lengths: bool = False
) -> None:
    tests = []
    for column in table.columns:
        name = quote_identifier(column.name)
        if column.not_null:
            tests.append((f"{name} is null", f"column {column.name} is empty but must have a value"))
        if column.max_length is None:
            continue
        if not byte_lengths:
            tests.append((f"length({name}) > {column.max_length}", f"column {column.name} is longer than {column.type}"))
            continue
        if column.type.startswith("char"):
            problem = f"column {column.name} has a multibyte character, which Redshift's {column.type} does not accept"
            tests.append((f"strlen({name}) <> length({name})", problem))
        too_long = f"column {column.name} is longer than {column.type}, whose limit Redshift counts in bytes"
        tests.append((f"strlen({name}) > {column.max_length}", too_long))
    if not tests:
        return
    cases = " ".join(f"when {test} then {_literal(problem)}" for test, problem in tests)
    where = " or ".join(test for test, _ in tests)
    # rowids follow the file's row order, but rows written inside an open
    # transaction start at a large offset: count from the table's first rowid.
    found = con.execute(
        f"select rowid - (select min(rowid) from {relation}), case {cases} end "
        f"from {relation} where {where} order by rowid limit 1"
    ).fetchone()
    if found:
        row_index, problem = found
        raise DataFileError(path, _line_of_row(path, row_index), f"{problem} (table {table.name}); {next_step(path)}")


def _file_error(exc: duckdb.Error, table: Table, path: Path) -> DataFileError:
    """DuckDB's CSV error as a DataFileError with the file's line number."""
    message = str(exc)
    line = re.search(r"CSV Error on Line: (\d+)", message)
    details = [part.strip() for part in message.splitlines()[1:] if part.strip()]
    original = next((d for d in details if d.startswith("Original Line:")), None)
    reason = next((d for d in details if not d.startswith("Original Line:")), message.splitlines()[0])
    fields = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", reason)
    conversion = re.search(r'converting column "(.+?)"\. Could not convert string "(.*)" to \'(.+?)\'', reason)
    if fields:
        reason = f"expected {fields.group(1)} fields, found {fields.group(2)}: the line is truncated or corrupt"
    elif conversion:
        column, value, type_ = conversion.groups()
        reason = f"column {column}: {value!r} is not a valid {type_.lower()}"
    if original:
        text = original.removeprefix("Original Line:").strip()
        reason += f" in {text[:80]!r}"
    return DataFileError(path, int(line.group(1)) if line else None, f"{reason} (table {table.name}); {next_step(path)}")


def _line_of_row(path: Path, row_index: int) -> int:
    """The 1-based line of the ``row_index``-th row (DuckDB skips empty lines)."""
    with path.open("rb") as lines:
        rows = -1
        for number, line in enumerate(lines, start=1):
            if line.strip(b"\r\n"):
                rows += 1
                if rows == row_index:
                    return number
    return row_index + 1


def _first_row(path: Path) -> str | None:
    with path.open("r", encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if line.strip("\r\n"):
                return line.rstrip("\r\n")
    return None


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
