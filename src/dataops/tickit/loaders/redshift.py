"""Loads TICKIT into Amazon Redshift: files to S3, then ``COPY`` as in the guide.

1. Each file is validated locally by the shared reader, so a bad line is
   reported with its file and line before anything is uploaded (lengths in
   bytes, as Redshift counts them).
2. The files go to ``s3://<DATAOPS_S3_BUCKET>/<DATAOPS_S3_PREFIX><file>``, each
   with a COPY manifest naming only it (``<prefix>manifests/<table>.manifest``):
   COPY's S3 path is a key prefix, so a stray ``sales_tab.txt.bak`` beside the
   file would be loaded too.
3. ``COPY ... MANIFEST`` loads them into staging tables (schema
   ``<tickit_schema>_staging``, created with the guide's DDL, distkey and
   sortkey included) and the row counts are checked against the files. A
   rejected COPY is explained from ``SYS_LOAD_ERROR_DETAIL`` for this session
   (provisioned and Serverless alike).
4. One transaction replaces the rows of the target tables from staging
   (``delete`` + ``insert``: Redshift's ``truncate`` would commit early, and
   replacing rows keeps the views that depend on the tables valid).

The SQL is built by the pure functions below, so it can be checked without a
cluster; ``RedshiftLoader`` accepts a DB-API ``connect`` and an S3 client.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from dataops.errors import ConfigError, DataFileError, WarehouseError
from dataops.tickit.files import TimeFormat, drop_parsed, parse_file, table_files, time_format
from dataops.tickit.progress import Progress, no_progress
from dataops.tickit.schema import TABLES, Table, render_ddl
from dataops.warehouses.redshift import RedshiftSettings, S3Settings

if TYPE_CHECKING:
    from dataops.config import Settings

STAGING_SUFFIX = "_staging"


@dataclass(frozen=True)
class CopySource:
    """One uploaded file and how COPY must read it."""

    table: Table
    s3_uri: str
    time_format: TimeFormat
    # The COPY manifest that names s3_uri, and only it.
    manifest_uri: str


@dataclass(frozen=True)
class StagingPlan:
    """What the staging transaction COPYs, and the rows each table must then hold."""

    schema: str
    sources: list[CopySource]
    role_arn: str
    # The bucket's region, for COPY's REGION; None: the cluster's own.
    region: str | None
    local_paths: dict[str, Path]
    expected_rows: dict[str, int]


# --- SQL (pure functions) ----------------------------------------------------------------


def staging_schema(schema: str) -> str:
    return schema + STAGING_SUFFIX


def copy_sql(schema: str, source: CopySource, role_arn: str, region: str | None) -> str:
    """``COPY`` of one file through its manifest, with the guide's options.

    EMPTYASNULL makes an empty text field NULL, as the other warehouses load it;
    IGNOREBLANKLINES skips blank lines, as the local check does. REGION is sent
    only when the bucket's region is set (DATAOPS_S3_REGION): without it
    Redshift reads from its own region.
    """
    table = source.table
    delimiter = "\\t" if table.delimiter == "\t" else table.delimiter
    options = [f"IAM_ROLE {_literal(role_arn)}", "MANIFEST", f"DELIMITER {_literal(delimiter)}"]
    if any(column.type == "timestamp" for column in table.columns):
        options.append(f"TIMEFORMAT {_literal(source.time_format.redshift_timestamp)}")
    if any(column.type == "date" for column in table.columns) and source.time_format.duckdb_date != "%Y-%m-%d":
        options.append("DATEFORMAT 'MM/DD/YYYY'")
    options += ["EMPTYASNULL", "IGNOREBLANKLINES"]
    if region:
        options.append(f"REGION {_literal(region)}")
    return f"COPY {schema}.{table.name} FROM {_literal(source.manifest_uri)} " + " ".join(options)


def copy_manifest(uris: list[str]) -> str:
    """A COPY manifest naming exactly ``uris``; COPY fails if one is missing."""
    return json.dumps({"entries": [{"url": uri, "mandatory": True} for uri in uris]})


def schema_statements(schema: str) -> list[str]:
    return [f"create schema if not exists {schema}", f"create schema if not exists {staging_schema(schema)}"]


def stage_table_statements(schema: str, source: CopySource, role_arn: str, region: str | None) -> list[str]:
    """Creates one staging table afresh and COPYs its file into it (COPY last)."""
    staging = staging_schema(schema)
    return [
        f"drop table if exists {staging}.{source.table.name}",
        render_ddl(source.table, "redshift", staging),
        copy_sql(staging, source, role_arn, region),
    ]


def stage_statements(schema: str, sources: list[CopySource], role_arn: str, region: str | None) -> list[str]:
    """Everything the staging transaction runs before checking the counts."""
    statements = schema_statements(schema)
    for source in sources:
        statements += stage_table_statements(schema, source, role_arn, region)
    return statements


def count_sql(schema: str, table: Table) -> str:
    return f"select count(*) from {staging_schema(schema)}.{table.name}"


def swap_statements(schema: str, tables: tuple[Table, ...] = TABLES) -> list[str]:
    """Replaces every target table's rows from staging (run as one transaction)."""
    staging = staging_schema(schema)
    statements = []
    for table in tables:
        statements += [
            render_ddl(table, "redshift", schema).replace("create table ", "create table if not exists ", 1),
            f"delete from {schema}.{table.name}",
            f"insert into {schema}.{table.name} select * from {staging}.{table.name}",
        ]
    return statements


def cleanup_statements(schema: str, tables: tuple[Table, ...] = TABLES) -> list[str]:
    staging = staging_schema(schema)
    return [f"drop table if exists {staging}.{table.name}" for table in tables] + [
        f"drop schema if exists {staging}"
    ]


def load_error_sql() -> str:
    """The first line the last COPY of this session rejected, with its column and reason.

    SYS_LOAD_ERROR_DETAIL covers provisioned clusters and Serverless (STL_LOAD_ERRORS
    is empty on Serverless), and a rolled-back COPY does not update
    ``pg_last_copy_id()``: the session (``pg_backend_pid()``) finds it either way.
    """
    return (
        "select trim(file_name), line_number, trim(column_name), trim(error_message) "
        "from sys_load_error_detail where session_id = pg_backend_pid() "
        "order by start_time desc, line_number limit 1"
    )


# --- the loader ------------------------------------------------------------------------------


def s3_key(prefix: str, file_name: str) -> str:
    prefix = prefix.strip("/")
    return f"{prefix}/{file_name}" if prefix else file_name


def make_s3_client(s3: S3Settings) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=s3.endpoint_url or None, region_name=s3.region)


def manifest_key(prefix: str, table: str) -> str:
    return s3_key(prefix, f"manifests/{table}.manifest")


def upload_files(client: Any, bucket: str, prefix: str, paths: dict[str, Path]) -> dict[str, tuple[str, str]]:
    """Uploads each table's file and its COPY manifest; returns table -> (file URI, manifest URI)."""
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    uris = {}
    for name, path in paths.items():
        key = s3_key(prefix, path.name)
        file_uri = f"s3://{bucket}/{key}"
        manifest = manifest_key(prefix, name)
        try:
            client.upload_file(str(path), bucket, key)
            client.put_object(Bucket=bucket, Key=manifest, Body=copy_manifest([file_uri]).encode())
        except (Boto3Error, BotoCoreError, ClientError) as exc:
            raise WarehouseError(
                f"uploading {path} to s3://{bucket}/{key} failed: {exc}. Check DATAOPS_S3_BUCKET, "
                "DATAOPS_S3_ENDPOINT_URL and the AWS credentials."
            ) from exc
        uris[name] = (file_uri, f"s3://{bucket}/{manifest}")
    return uris


class RedshiftLoader:
    target = "redshift"

    def __init__(
        self,
        settings: Settings,
        *,
        connect: Callable[[], Any] | None = None,
        s3_client: Any | None = None,
    ):
        self.settings = settings
        self.schema = settings.tickit_schema
        self._connect = connect or (lambda: self.redshift.connect())
        self._s3_client = s3_client

    @property
    def redshift(self) -> RedshiftSettings:
        return self.settings.section(RedshiftSettings)

    @property
    def s3(self) -> S3Settings:
        return self.settings.section(S3Settings)

    def load(self, data_dir: Path, progress: Progress = no_progress) -> dict[str, int]:
        s3, role_arn = self.s3, self.redshift.copy_role_arn
        if not s3.bucket:
            raise ConfigError("DATAOPS_S3_BUCKET is not set: Redshift loads the sample data from S3.")
        if not role_arn:
            raise ConfigError(
                "DATAOPS_REDSHIFT_COPY_ROLE_ARN is not set: COPY needs an IAM role that can read the bucket."
            )
        paths = table_files(data_dir)
        steps = 2 * len(TABLES) + 2
        rows = {}
        with duckdb.connect() as parser:
            for done, table in enumerate(TABLES):
                parsed = parse_file(parser, table, paths[table.name], byte_lengths=True)
                rows[table.name] = parsed.rows
                drop_parsed(parser, parsed)
                progress(f"check {table.name}", done + 1, steps)
        uris = upload_files(self._s3_client or make_s3_client(s3), s3.bucket, s3.prefix, paths)
        progress("upload", len(TABLES) + 1, steps)
        plan = StagingPlan(
            schema=self.schema,
            sources=[CopySource(t, uris[t.name][0], time_format(t, paths[t.name]), uris[t.name][1]) for t in TABLES],
            role_arn=role_arn,
            region=s3.region,
            local_paths=paths,
            expected_rows=rows,
        )
        conn = self._open_connection()
        try:
            for done, table in enumerate(self._stage(conn, plan)):
                progress(table.name, len(TABLES) + 2 + done, steps)
            self._run(conn, swap_statements(self.schema))
            try:
                self._run(conn, cleanup_statements(self.schema))
            except WarehouseError:
                pass  # the data is in place; the next load recreates the staging tables anyway
        finally:
            conn.close()
        progress("swap", steps, steps)
        return rows

    def _open_connection(self) -> Any:
        try:
            return self._connect()
        except ConfigError:
            raise
        except Exception as exc:
            rs = self.redshift
            raise WarehouseError(
                f"cannot connect to Redshift ({rs.host or rs.cluster_id or rs.workgroup}:{rs.port}, database {rs.database}): {exc}. "
                "Check DATAOPS_REDSHIFT_HOST, DATAOPS_REDSHIFT_METHOD and the credentials."
            ) from exc

    @classmethod
    def _stage(cls, conn: Any, plan: StagingPlan) -> Iterator[Table]:
        """COPYs every file into staging, yielding each table once it is loaded,
        then checks the counts and commits (one transaction)."""
        cursor = conn.cursor()
        try:
            for statement in schema_statements(plan.schema):
                _execute(conn, cursor, statement)
            for source in plan.sources:
                *prepare, copy = stage_table_statements(plan.schema, source, plan.role_arn, plan.region)
                for statement in prepare:
                    _execute(conn, cursor, statement)
                try:
                    cursor.execute(copy)
                except Exception as exc:
                    # Read before the rollback; a transaction the error aborted refuses
                    # even a select, so read again in the same session after it.
                    found = _load_error(conn)
                    conn.rollback()
                    found = found or _load_error(conn)
                    raise _copy_error(found, source.table, plan.local_paths[source.table.name], exc) from exc
                yield source.table
            for table in TABLES:
                _execute(conn, cursor, count_sql(plan.schema, table))
                loaded, expected = cursor.fetchone()[0], plan.expected_rows[table.name]
                if loaded != expected:
                    conn.rollback()
                    raise WarehouseError(
                        f"COPY loaded {loaded} rows into {staging_schema(plan.schema)}.{table.name} but "
                        f"{plan.local_paths[table.name]} has {expected}; see SYS_LOAD_ERROR_DETAIL for the load."
                    )
            conn.commit()
        finally:
            cursor.close()

    def _run(self, conn: Any, statements: list[str]) -> None:
        """Runs ``statements`` as one transaction."""
        cursor = conn.cursor()
        try:
            for statement in statements:
                cursor.execute(statement)
            conn.commit()
        except Exception as exc:
            conn.rollback()
            raise WarehouseError(
                f"Redshift refused {statement.splitlines()[0]!r} and the transaction was rolled back "
                f"(the tables in {self.schema} are unchanged): {exc}"
            ) from exc
        finally:
            cursor.close()



def _load_error(conn: Any) -> tuple | None:
    """SYS_LOAD_ERROR_DETAIL's row for this session's last COPY, or None if it cannot be read."""
    try:
        cursor = conn.cursor()
        try:
            cursor.execute(load_error_sql())
            return cursor.fetchone()
        finally:
            cursor.close()
    except Exception:
        return None


def _copy_error(found: tuple | None, table: Table, path: Path, exc: Exception) -> Exception:
    """The COPY failure as a DataFileError when SYS_LOAD_ERROR_DETAIL names the line."""
    if found:
        _, line, column, reason = found
        return DataFileError(path, int(line), f"Redshift rejected column {column}: {reason} (table {table.name})")
    first = (str(exc).strip().splitlines() or [""])[0]
    return WarehouseError(
        f"COPY into {table.name} failed: {first} (SYS_LOAD_ERROR_DETAIL has no row for this session: "
        "check the IAM role, the bucket's region and the manifest)."
    )


def _execute(conn: Any, cursor: Any, statement: str) -> None:
    try:
        cursor.execute(statement)
    except Exception as exc:
        conn.rollback()
        raise WarehouseError(f"Redshift refused {statement.splitlines()[0]!r}: {exc}") from exc


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
