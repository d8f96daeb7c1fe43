"""Every statement the Redshift loader sends, checked against the documented
rules that matter, not against a copy of itself.

The rules, from Amazon Redshift's SQL reference:
- some statements cannot run inside a transaction block, and TRUNCATE commits
  the transaction it runs in (the loader's staging and swap are transactions);
- COPY: the options used are documented ones, each at most once; FROM is a
  manifest when MANIFEST is given (the S3 path is a key prefix otherwise);
  REGION only when the bucket's region is known; IGNOREBLANKLINES, because the
  local check skips blank lines;
- identifiers written bare are standard identifiers (letters, digits,
  underscores, at most 127 bytes, not starting with a digit) and not reserved
  words; quoted ones have their double quotes doubled.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dataops.tickit.files import ISO_TIME, US_TIME
from dataops.tickit.loaders.redshift import (
    CopySource,
    cleanup_statements,
    copy_manifest,
    copy_sql,
    count_sql,
    load_error_sql,
    schema_statements,
    stage_statements,
    swap_statements,
)
from dataops.tickit.schema import TABLES

ROLE = "arn:aws:iam::123456789012:role/TickitCopy"

# Not allowed inside a transaction block (BEGIN ... END).
NOT_IN_TRANSACTION = re.compile(
    r"^\s*(vacuum|create\s+database|drop\s+database|alter\s+database|create\s+external\s+(table|schema)|"
    r"drop\s+external|alter\s+table\s+\S+\s+append|create\s+library|drop\s+library)\b",
    re.I,
)
# Commits the current transaction on Redshift: never mid-swap.
COMMITS_IMPLICITLY = re.compile(r"^\s*truncate\b", re.I)
# A part of Redshift's reserved words, the ones a table or column name could plausibly be.
RESERVED = {
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "authorization", "between", "binary", "both",
    "case", "cast", "check", "collate", "column", "constraint", "create", "cross", "current_date", "current_time",
    "current_timestamp", "current_user", "default", "desc", "distinct", "do", "else", "end", "except", "false",
    "for", "foreign", "from", "full", "grant", "group", "having", "in", "inner", "intersect", "into", "is", "join",
    "leading", "left", "like", "limit", "localtime", "natural", "new", "not", "null", "off", "offset", "old", "on",
    "only", "open", "or", "order", "outer", "primary", "references", "right", "select", "session_user", "similar",
    "some", "table", "then", "to", "top", "trailing", "true", "union", "unique", "user", "using", "verbose", "when",
    "where", "with",
}
# The COPY options this loader may use, as documented (data source, authorization, format, conversion).
COPY_OPTIONS = {
    "IAM_ROLE", "MANIFEST", "REGION", "DELIMITER", "TIMEFORMAT", "DATEFORMAT", "EMPTYASNULL", "IGNOREBLANKLINES",
}
_COPY = re.compile(r"^COPY (?P<table>[\w.]+) FROM '(?P<source>(?:[^']|'')*)' (?P<options>.*)$", re.S)
_OPTION = re.compile(r"(?P<name>[A-Z_]+)(?: '(?P<value>(?:[^']|'')*)')?(?: |$)")


def parse_copy(statement: str) -> tuple[str, str, dict[str, str | None]]:
    """COPY's table, FROM and options (each at most once); fails on anything else."""
    match = _COPY.match(statement)
    assert match, f"not a COPY this check reads: {statement}"
    options: dict[str, str | None] = {}
    rest = match["options"]
    while rest:
        option = _OPTION.match(rest)
        assert option, f"cannot read the COPY options at {rest!r}"
        name = option["name"]
        assert name in COPY_OPTIONS, f"COPY option {name} is not one this loader uses"
        assert name not in options, f"COPY option {name} given twice"
        options[name] = option["value"]
        rest = rest[option.end():]
    return match["table"], match["source"], options


def check_identifier(name: str) -> None:
    for part in name.split("."):
        if part.startswith('"'):
            assert part.endswith('"') and '"' not in part[1:-1].replace('""', ""), part
            continue
        assert re.fullmatch(r"[a-z_][a-z0-9_$]*", part), f"{part!r} must be quoted"
        assert len(part.encode()) <= 127, f"{part!r} is longer than 127 bytes"
        assert part not in RESERVED, f"{part!r} is a reserved word"


def _sources(bucket: str = "b", prefix: str = "samples/tickit") -> list[CopySource]:
    return [
        CopySource(t, f"s3://{bucket}/{prefix}/{t.file_name}", US_TIME if t.name == "sales" else ISO_TIME,
                   f"s3://{bucket}/{prefix}/manifests/{t.name}.manifest")
        for t in TABLES
    ]


def _every_statement(region: str | None) -> list[list[str]]:
    """The loader's transactions, as it runs them."""
    return [
        stage_statements("tickit", _sources(), ROLE, region) + [count_sql("tickit", t) for t in TABLES],
        swap_statements("tickit"),
        cleanup_statements("tickit"),
    ]


@pytest.mark.parametrize("region", [None, "eu-west-1"])
def test_every_transaction_holds_only_statements_allowed_there(region):
    for transaction in _every_statement(region):
        for statement in transaction:
            assert not NOT_IN_TRANSACTION.match(statement), statement
            assert not COMMITS_IMPLICITLY.match(statement), statement


@pytest.mark.parametrize("region", [None, "eu-west-1"])
def test_every_copy_reads_its_manifest_with_documented_options(region):
    copies = [s for s in _every_statement(region)[0] if s.startswith("COPY ")]
    assert len(copies) == len(TABLES)
    for statement, source in zip(copies, _sources(), strict=True):
        table, uri, options = parse_copy(statement)
        assert table == f"tickit_staging.{source.table.name}"
        assert uri == source.manifest_uri and "MANIFEST" in options and options["MANIFEST"] is None
        assert options["IAM_ROLE"] == ROLE
        assert "IGNOREBLANKLINES" in options and "EMPTYASNULL" in options
        assert options.get("REGION") == region and ("REGION" in options) == (region is not None)
        delimiter = options["DELIMITER"]
        assert delimiter == ("\\t" if source.table.delimiter == "\t" else source.table.delimiter)
        temporal = {c.type for c in source.table.columns} & {"date", "timestamp"}
        assert ("TIMEFORMAT" in options) == ("timestamp" in temporal)


def test_a_quote_in_a_value_is_doubled():
    source = _sources(prefix="it's")[0]
    _, uri, options = parse_copy(copy_sql("s", source, "arn:x'y", "eu-west-1"))
    assert uri == source.manifest_uri.replace("'", "''") and options["IAM_ROLE"] == "arn:x''y"


def test_the_manifest_names_only_the_file_and_demands_it():
    manifest = json.loads(copy_manifest(["s3://b/p/sales_tab.txt"]))
    assert manifest == {"entries": [{"url": "s3://b/p/sales_tab.txt", "mandatory": True}]}


def test_every_identifier_is_valid_bare_or_quoted():
    ddl_names = re.compile(r"^\s*(?:create table(?: if not exists)?|drop table if exists|delete from|insert into|"
                           r"select count\(\*\) from|create schema if not exists|drop schema if exists|COPY)"
                           r"\s+([\w.\"$]+)", re.I)
    seen = 0
    for transaction in _every_statement("eu-west-1"):
        for statement in transaction:
            for name in ddl_names.findall(statement):
                check_identifier(name)
                seen += 1
            if statement.lower().startswith("create table"):
                for column in re.findall(r"^\s*(\w+) ", statement.split("(", 1)[1], re.M):
                    check_identifier(column)
    assert seen > 3 * len(TABLES)


def test_load_errors_are_read_for_the_session_from_sys_load_error_detail():
    sql = load_error_sql().lower()
    assert "from sys_load_error_detail" in sql  # provisioned and Serverless alike
    assert "session_id = pg_backend_pid()" in sql  # the session: a rolled-back COPY leaves pg_last_copy_id() alone
    assert "stl_load_errors" not in sql and "pg_last_copy_id" not in sql
    assert re.search(r"select trim\(file_name\), line_number, trim\(column_name\), trim\(error_message\)", sql)


def test_schema_statements_create_before_use():
    assert schema_statements("tickit") == [
        "create schema if not exists tickit", "create schema if not exists tickit_staging",
    ]


def test_check_identifier_refuses_what_redshift_would():
    for bad in ("1abc", "order", "user", "a-b", "x" * 128):
        with pytest.raises(AssertionError):
            check_identifier(bad)
    check_identifier('"Order"')
    check_identifier("tickit_staging.sales")


def test_no_module_sends_sql_built_elsewhere():
    source = Path(__file__).resolve().parents[2] / "src/dataops/tickit/loaders/redshift.py"
    text = source.read_text()
    # Every execute() gets a statement from a builder above, never an f-string made on the spot.
    assert not re.search(r"\.execute\(f[\"']", text)
