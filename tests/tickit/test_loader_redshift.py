"""The Redshift loader: files uploaded to a real S3 API (moto's server on
loopback), and the exact SQL it sends, recorded by a fake DB-API connection
(no Redshift can run here)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import boto3
import pytest

from dataops.config import load_settings
from dataops.errors import ConfigError, DataFileError, WarehouseError
from dataops.tickit.loaders import get_loader
from dataops.tickit.loaders.redshift import RedshiftLoader, load_error_sql
from dataops.warehouses.redshift import RedshiftSettings
from dataops.tickit.manifest import read_manifest
from dataops.tickit.schema import TABLES

ROLE = "arn:aws:iam::123456789012:role/TickitCopy"


class FakeRedshift:
    """Records what the loader sends; answers counts and load errors."""

    def __init__(self, counts: dict[str, int], fail_copy_of: str | None = None, load_error=None, fail_on: str | None = None,
                 aborts: bool = True):
        self.counts, self.fail_copy_of, self.load_error, self.fail_on = counts, fail_copy_of, load_error, fail_on
        # As PostgreSQL does (and Redshift, its fork): after an error, the transaction
        # refuses every statement until ROLLBACK.
        self.aborts, self.aborted = aborts, False
        self.log: list[str] = []
        self.closed = False

    def cursor(self):
        return FakeCursor(self)

    def commit(self):
        self.log.append("COMMIT")

    def rollback(self):
        self.log.append("ROLLBACK")
        self.aborted = False

    def close(self):
        self.closed = True


class FakeCursor:
    def __init__(self, conn: FakeRedshift):
        self.conn, self.result = conn, None

    def execute(self, statement: str):
        conn = self.conn
        conn.log.append(statement)
        if conn.aborted:
            raise RuntimeError("current transaction is aborted, commands ignored until end of transaction block")
        if conn.fail_copy_of and statement.startswith(f"COPY tickit_staging.{conn.fail_copy_of} "):
            conn.aborted = conn.aborts
            raise RuntimeError("Load into table 'x' failed. Check 'stl_load_errors' system table for details.")
        if conn.fail_on and statement.startswith(conn.fail_on):
            conn.aborted = conn.aborts
            raise RuntimeError("permission denied")
        counted = re.fullmatch(r"select count\(\*\) from tickit_staging\.(\w+)", statement)
        self.result = (conn.counts[counted.group(1)],) if counted else None
        if statement == load_error_sql():
            self.result = conn.load_error

    def fetchone(self):
        return self.result

    def close(self):
        pass


@pytest.fixture
def rs_settings(s3_env, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    return load_settings(state_dir=tmp_path, target="redshift")


def _loader(settings, fake: FakeRedshift) -> RedshiftLoader:
    return RedshiftLoader(settings, connect=lambda: fake)


def _s3_objects(s3_env) -> dict[str, bytes]:
    client = boto3.client("s3", endpoint_url=s3_env["DATAOPS_S3_ENDPOINT_URL"], region_name="us-east-1")
    listing = client.list_objects_v2(Bucket=s3_env["DATAOPS_S3_BUCKET"]).get("Contents", [])
    return {
        o["Key"]: client.get_object(Bucket=s3_env["DATAOPS_S3_BUCKET"], Key=o["Key"])["Body"].read() for o in listing
    }


def test_uploads_the_files_and_runs_the_guides_copy(small_dir, rs_settings, s3_env):
    rows = read_manifest(small_dir).rows
    fake = FakeRedshift(rows)
    assert _loader(rs_settings, fake).load(small_dir) == rows
    bucket = s3_env["DATAOPS_S3_BUCKET"]

    objects = _s3_objects(s3_env)
    files = {f"samples/tickit/{t.file_name}": (small_dir / t.file_name).read_bytes() for t in TABLES}
    manifests = {f"samples/tickit/manifests/{t.name}.manifest": t for t in TABLES}
    assert objects.keys() == files.keys() | manifests.keys()
    assert {key: objects[key] for key in files} == files
    # COPY's FROM is a key prefix: each COPY reads a manifest that names its one file.
    for key, table in manifests.items():
        assert json.loads(objects[key]) == {
            "entries": [{"url": f"s3://{bucket}/samples/tickit/{table.file_name}", "mandatory": True}]
        }

    log = fake.log
    assert log.count("COMMIT") == 3 and "ROLLBACK" not in log and fake.closed
    stage, swap, cleanup = _split(log, "COMMIT")
    assert stage[:2] == ["create schema if not exists tickit", "create schema if not exists tickit_staging"]
    copies = [s for s in stage if s.startswith("COPY ")]
    assert copies == [
        f"COPY tickit_staging.users FROM 's3://{bucket}/samples/tickit/manifests/users.manifest' IAM_ROLE '{ROLE}' MANIFEST "
        "DELIMITER '|' EMPTYASNULL IGNOREBLANKLINES REGION 'us-east-1'",
        f"COPY tickit_staging.venue FROM 's3://{bucket}/samples/tickit/manifests/venue.manifest' IAM_ROLE '{ROLE}' MANIFEST "
        "DELIMITER '|' EMPTYASNULL IGNOREBLANKLINES REGION 'us-east-1'",
        f"COPY tickit_staging.category FROM 's3://{bucket}/samples/tickit/manifests/category.manifest' IAM_ROLE '{ROLE}' MANIFEST "
        "DELIMITER '|' EMPTYASNULL IGNOREBLANKLINES REGION 'us-east-1'",
        f"COPY tickit_staging.date FROM 's3://{bucket}/samples/tickit/manifests/date.manifest' IAM_ROLE '{ROLE}' MANIFEST "
        "DELIMITER '|' EMPTYASNULL IGNOREBLANKLINES REGION 'us-east-1'",
        f"COPY tickit_staging.event FROM 's3://{bucket}/samples/tickit/manifests/event.manifest' IAM_ROLE '{ROLE}' MANIFEST "
        "DELIMITER '|' TIMEFORMAT 'YYYY-MM-DD HH:MI:SS' EMPTYASNULL IGNOREBLANKLINES REGION 'us-east-1'",
        f"COPY tickit_staging.listing FROM 's3://{bucket}/samples/tickit/manifests/listing.manifest' IAM_ROLE '{ROLE}' MANIFEST "
        "DELIMITER '|' TIMEFORMAT 'YYYY-MM-DD HH:MI:SS' EMPTYASNULL IGNOREBLANKLINES REGION 'us-east-1'",
        f"COPY tickit_staging.sales FROM 's3://{bucket}/samples/tickit/manifests/sales.manifest' IAM_ROLE '{ROLE}' MANIFEST "
        "DELIMITER '\\t' TIMEFORMAT 'YYYY-MM-DD HH:MI:SS' EMPTYASNULL IGNOREBLANKLINES REGION 'us-east-1'",
    ]
    # Each staging table is created with the guide's DDL right before its COPY.
    sales_copy = stage.index(copies[-1])
    assert stage[sales_copy - 2] == "drop table if exists tickit_staging.sales"
    assert re.sub(r"\s+", " ", stage[sales_copy - 1]) == (
        "create table tickit_staging.sales( salesid integer not null, listid integer not null distkey, "
        "sellerid integer not null, buyerid integer not null, eventid integer not null, "
        "dateid smallint not null sortkey, qtysold smallint not null, pricepaid decimal(8,2), "
        "commission decimal(8,2), saletime timestamp)"
    )
    assert stage[-7:] == [f"select count(*) from tickit_staging.{t.name}" for t in TABLES]

    # The swap: one transaction that replaces every table's rows.
    assert len(swap) == 3 * len(TABLES)
    for table in TABLES:
        i = swap.index(f"delete from tickit.{table.name}")
        assert swap[i - 1].startswith(f"create table if not exists tickit.{table.name}(")
        assert swap[i + 1] == f"insert into tickit.{table.name} select * from tickit_staging.{table.name}"
    assert not any("truncate" in s.lower() for s in log)  # truncate would commit mid-swap on Redshift
    assert cleanup[-1] == "drop schema if exists tickit_staging"


def _split(log: list[str], marker: str) -> list[list[str]]:
    parts, current = [], []
    for entry in log:
        if entry == marker:
            parts.append(current)
            current = []
        else:
            current.append(entry)
    return parts


def test_the_real_sales_time_format_gets_its_timeformat(small_dir, rs_settings):
    sales = small_dir / "sales_tab.txt"
    us = re.sub(r"2008-(\d\d)-(\d\d) ", lambda m: f"{int(m[1])}/{int(m[2])}/2008 ", sales.read_text())
    sales.write_text(us)
    fake = FakeRedshift(read_manifest(small_dir).rows)
    _loader(rs_settings, fake).load(small_dir)
    copy = next(s for s in fake.log if s.startswith("COPY tickit_staging.sales "))
    assert "TIMEFORMAT 'MM/DD/YYYY HH:MI:SS'" in copy


def test_a_rejected_copy_names_the_file_and_line_and_does_not_swap(small_dir, rs_settings):
    fake = FakeRedshift(
        read_manifest(small_dir).rows,
        fail_copy_of="listing",
        load_error=("samples/tickit/listings_pipe.txt", 42, "priceperticket", "Overflow for NUMERIC(8,2)"),
    )
    with pytest.raises(DataFileError) as caught:
        _loader(rs_settings, fake).load(small_dir)
    assert caught.value.path == small_dir / "listings_pipe.txt" and caught.value.line == 42
    assert "priceperticket" in str(caught.value)
    assert "ROLLBACK" in fake.log and "COMMIT" not in fake.log
    assert not any(s.startswith("delete from tickit.") for s in fake.log)
    assert not any(s.startswith("COPY tickit_staging.sales") for s in fake.log)
    assert fake.closed


@pytest.mark.parametrize("aborts", [True, False], ids=["aborted-transaction", "readable-transaction"])
def test_the_load_error_is_read_for_the_session_before_and_if_need_be_after_the_rollback(small_dir, rs_settings, aborts):
    fake = FakeRedshift(
        read_manifest(small_dir).rows,
        fail_copy_of="sales",
        load_error=("s3://b/samples/tickit/sales_tab.txt", 7, "pricepaid", "Invalid digit, Value 'x'"),
        aborts=aborts,
    )
    with pytest.raises(DataFileError) as caught:
        _loader(rs_settings, fake).load(small_dir)
    assert caught.value.path == small_dir / "sales_tab.txt" and caught.value.line == 7
    assert "stl_load_errors" not in str(caught.value).lower()
    copy = max(i for i, s in enumerate(fake.log) if s.startswith("COPY tickit_staging.sales "))
    after = fake.log[copy + 1:]
    # First read in the failed transaction, before anything is rolled back...
    assert after[0] == load_error_sql() and "ROLLBACK" in after
    # ...and, where the aborted transaction refused it, once more in the same session after the rollback.
    assert after == ([load_error_sql(), "ROLLBACK", load_error_sql()] if aborts else [load_error_sql(), "ROLLBACK"])


def test_a_failed_copy_without_a_load_error_row_does_not_point_at_stl_load_errors(small_dir, rs_settings):
    fake = FakeRedshift(read_manifest(small_dir).rows, fail_copy_of="venue", load_error=None)
    with pytest.raises(WarehouseError, match="COPY into venue failed") as caught:
        _loader(rs_settings, fake).load(small_dir)
    assert "see stl_load_errors" not in str(caught.value) and "SYS_LOAD_ERROR_DETAIL" in str(caught.value)


def test_region_is_sent_only_when_set(small_dir, rs_settings, monkeypatch, tmp_path):
    monkeypatch.delenv("DATAOPS_S3_REGION")  # AWS_REGION stays set: it is the client's, not the bucket's
    fake = FakeRedshift(read_manifest(small_dir).rows)
    _loader(load_settings(state_dir=tmp_path, target="redshift"), fake).load(small_dir)
    copies = [s for s in fake.log if s.startswith("COPY ")]
    assert len(copies) == len(TABLES) and not any("REGION" in s for s in copies)
    monkeypatch.setenv("DATAOPS_S3_REGION", "eu-central-1")
    fake = FakeRedshift(read_manifest(small_dir).rows)
    _loader(load_settings(state_dir=tmp_path, target="redshift"), fake).load(small_dir)
    assert all(s.endswith(" REGION 'eu-central-1'") for s in fake.log if s.startswith("COPY "))


def test_a_stray_file_beside_the_sample_is_not_named_by_any_copy(small_dir, rs_settings, s3_env):
    client = boto3.client("s3", endpoint_url=s3_env["DATAOPS_S3_ENDPOINT_URL"], region_name="us-east-1")
    client.put_object(Bucket=s3_env["DATAOPS_S3_BUCKET"], Key="samples/tickit/sales_tab.txt.bak", Body=b"junk")
    fake = FakeRedshift(read_manifest(small_dir).rows)
    _loader(rs_settings, fake).load(small_dir)
    copy = next(s for s in fake.log if s.startswith("COPY tickit_staging.sales "))
    source = re.search(r"FROM '([^']+)'", copy).group(1)
    manifest = json.loads(_s3_objects(s3_env)[source.split("/", 3)[3]])
    assert [e["url"] for e in manifest["entries"]] == [f"s3://{s3_env['DATAOPS_S3_BUCKET']}/samples/tickit/sales_tab.txt"]
    assert " MANIFEST " in copy


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        # 15 characters, 30 bytes: fits varchar(30) on PostgreSQL, not on Redshift (limits are bytes).
        (lambda fields: fields[:2] + ["é" * 16] + fields[3:], ("firstname", "bytes")),
        # CHAR takes single-byte characters only on Redshift.
        (lambda fields: fields[:5] + ["É"] + fields[6:], ("state", "multibyte")),
    ],
    ids=["varchar-bytes", "char-multibyte"],
)
def test_lengths_are_checked_in_bytes_before_upload(small_dir, rs_settings, s3_env, corrupt_line, edit, words):
    corrupt_line(small_dir / "allusers_pipe.txt", 3, lambda line: "|".join(edit(line.rstrip("\n").split("|"))) + "\n")
    connected = []
    with pytest.raises(DataFileError) as caught:
        RedshiftLoader(rs_settings, connect=lambda: connected.append(1)).load(small_dir)
    assert caught.value.line == 3 and all(w in str(caught.value) for w in words)
    assert _s3_objects(s3_env) == {} and connected == []


def test_a_count_mismatch_stops_before_the_swap(small_dir, rs_settings):
    rows = dict(read_manifest(small_dir).rows)
    rows["sales"] -= 1
    fake = FakeRedshift(rows)
    with pytest.raises(WarehouseError, match="tickit_staging.sales"):
        _loader(rs_settings, fake).load(small_dir)
    assert "COMMIT" not in fake.log and not any(s.startswith("delete from") for s in fake.log)


def test_a_failed_swap_is_rolled_back(small_dir, rs_settings):
    fake = FakeRedshift(read_manifest(small_dir).rows, fail_on="insert into tickit.listing")
    with pytest.raises(WarehouseError, match="rolled back"):
        _loader(rs_settings, fake).load(small_dir)
    assert fake.log.count("COMMIT") == 1  # staging only
    assert fake.log[-1] == "ROLLBACK"


def test_a_bad_file_fails_before_anything_is_uploaded(small_dir, rs_settings, s3_env, corrupt_line):
    corrupt_line(small_dir / "allevents_pipe.txt", 9, lambda l: l.replace("|", "|x", 2))
    connected = []
    loader = RedshiftLoader(rs_settings, connect=lambda: connected.append(1))
    with pytest.raises(DataFileError) as caught:
        loader.load(small_dir)
    assert caught.value.line == 9
    assert _s3_objects(s3_env) == {} and connected == []


def test_missing_s3_settings_are_config_errors(small_dir, rs_settings, monkeypatch, tmp_path):
    monkeypatch.setenv("DATAOPS_S3_BUCKET", "")
    with pytest.raises(ConfigError, match="DATAOPS_S3_BUCKET"):
        get_loader(load_settings(state_dir=tmp_path, target="redshift")).load(small_dir)
    monkeypatch.setenv("DATAOPS_S3_BUCKET", "b")
    monkeypatch.setenv("DATAOPS_REDSHIFT_COPY_ROLE_ARN", "")
    with pytest.raises(ConfigError, match="DATAOPS_REDSHIFT_COPY_ROLE_ARN"):
        get_loader(load_settings(state_dir=tmp_path, target="redshift")).load(small_dir)


def test_missing_bucket_is_a_warehouse_error(small_dir, rs_settings, monkeypatch, tmp_path):
    monkeypatch.setenv("DATAOPS_S3_BUCKET", "no-such-bucket-here")
    settings = load_settings(state_dir=tmp_path, target="redshift")
    with pytest.raises(WarehouseError, match="no-such-bucket-here"):
        RedshiftLoader(settings, connect=lambda: FakeRedshift({})).load(small_dir)


@pytest.mark.parametrize("method", ["database", "iam"])
def test_connection_arguments(method, monkeypatch, tmp_path):
    import redshift_connector

    seen = {}
    monkeypatch.setattr(redshift_connector, "connect", lambda **kwargs: seen.update(kwargs) or "conn")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATAOPS_REDSHIFT_HOST", "cluster.example.internal")
    monkeypatch.setenv("DATAOPS_REDSHIFT_PASSWORD", "s3cret")
    monkeypatch.setenv("DATAOPS_REDSHIFT_METHOD", method)
    monkeypatch.setenv("DATAOPS_REDSHIFT_CLUSTER_ID", "analytics")
    monkeypatch.setenv("DATAOPS_REDSHIFT_REGION", "eu-west-1")
    settings = load_settings(state_dir=tmp_path)
    assert settings.section(RedshiftSettings).connect() == "conn"
    if method == "iam":
        assert seen == {
            "iam": True, "host": "cluster.example.internal", "port": 5439, "database": "dev",
            "db_user": "awsuser", "cluster_identifier": "analytics", "region": "eu-west-1", "sslmode": "verify-full",
        }
    else:
        assert seen == {
            "host": "cluster.example.internal", "port": 5439, "database": "dev", "user": "awsuser", "password": "s3cret",
            "sslmode": "verify-full",
        }


def test_unreachable_cluster_is_a_warehouse_error(small_dir, rs_settings):
    def refuse():
        raise OSError("connection refused")

    with pytest.raises(WarehouseError, match="cannot connect to Redshift"):
        RedshiftLoader(rs_settings, connect=refuse).load(small_dir)



SERVERLESS_HOST = "analytics.123456789012.eu-west-1.redshift-serverless.amazonaws.com"
# The Redshift settings of each IAM deployment, and what redshift_connector must be given.
IAM_CASES = {
    "provisioned-by-cluster-id": (
        {"DATAOPS_REDSHIFT_CLUSTER_ID": "analytics", "DATAOPS_REDSHIFT_REGION": "eu-west-1"},
        {"iam": True, "host": None, "cluster_identifier": "analytics", "region": "eu-west-1"},
    ),
    "serverless-default-endpoint": (
        {"DATAOPS_REDSHIFT_HOST": SERVERLESS_HOST},
        {"iam": True, "host": SERVERLESS_HOST, "is_serverless": True, "serverless_work_group": None, "region": None},
    ),
    "serverless-named-workgroup": (
        {"DATAOPS_REDSHIFT_HOST": "dw.example.internal", "DATAOPS_REDSHIFT_WORKGROUP": "analytics"},
        {"iam": True, "host": "dw.example.internal", "is_serverless": True, "serverless_work_group": "analytics",
         "region": None},
    ),
}


def _redshift_env(monkeypatch, tmp_path, env: dict[str, str]):
    monkeypatch.chdir(tmp_path)
    for name in ("HOST", "CLUSTER_ID", "WORKGROUP", "REGION", "PASSWORD"):
        monkeypatch.delenv(f"DATAOPS_REDSHIFT_{name}", raising=False)
    monkeypatch.setenv("DATAOPS_REDSHIFT_METHOD", "iam")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings(state_dir=tmp_path, target="redshift")


@pytest.mark.parametrize("case", IAM_CASES)
def test_iam_connects_to_provisioned_and_serverless(case, monkeypatch, tmp_path):
    import redshift_connector

    env, expected = IAM_CASES[case]
    seen = {}
    monkeypatch.setattr(redshift_connector, "connect", lambda **kwargs: seen.update(kwargs) or "conn")
    settings = _redshift_env(monkeypatch, tmp_path, env)
    assert settings.section(RedshiftSettings).connect() == "conn"
    assert {k: seen.get(k) for k in expected} == expected
    assert seen["db_user"] == "awsuser" and "password" not in seen
    assert ("cluster_identifier" in seen) == ("cluster_identifier" in expected)
    settings.dbt_env()  # dbt's environment demands nothing more


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({}, ["DATAOPS_REDSHIFT_CLUSTER_ID", "DATAOPS_REDSHIFT_WORKGROUP"]),
        ({"DATAOPS_REDSHIFT_WORKGROUP": "analytics"}, ["DATAOPS_REDSHIFT_HOST"]),
        ({"DATAOPS_REDSHIFT_WORKGROUP": "w", "DATAOPS_REDSHIFT_CLUSTER_ID": "c", "DATAOPS_REDSHIFT_HOST": "h"},
         ["DATAOPS_REDSHIFT_CLUSTER_ID", "DATAOPS_REDSHIFT_WORKGROUP"]),
    ],
    ids=["nothing", "workgroup-without-host", "both"],
)
def test_incomplete_iam_settings_are_named_in_one_line(env, names, monkeypatch, tmp_path):
    settings = _redshift_env(monkeypatch, tmp_path, env)
    for attempt in (settings.dbt_env, settings.section(RedshiftSettings).connect):
        with pytest.raises(ConfigError) as caught:
            attempt()
        message = str(caught.value)
        assert len(message.splitlines()) == 1 and all(name in message for name in names)


def test_dbt_redshift_reads_both_profiles_as_the_platform_connects(monkeypatch, tmp_path):
    """dbt-redshift 1.11's own reading of each profiles.yml, in dbt's environment (one process per profile)."""
    import json
    import os
    import subprocess

    from dataops import paths
    from dataops.dbt.profile import PLATFORM_PROFILES_DIR

    probe = Path(__file__).resolve().parents[1] / "analytics" / "redshift_connect_probe.py"
    python = paths.repo_root() / ".venv-dbt" / "bin" / "python"
    if not python.exists():
        pytest.skip("no dbt environment (.venv-dbt)")
    cases = {}
    for name, (env, _) in IAM_CASES.items():
        dbt_env = _redshift_env(monkeypatch, tmp_path, env).dbt_env()
        for profiles in (PLATFORM_PROFILES_DIR / "profiles.yml", paths.dbt_project_dir() / "profiles.yml"):
            cases[f"{profiles} ({name})"] = {"profiles": str(profiles), "env": dbt_env, "case": name}
    run = subprocess.run([str(python), str(probe), json.dumps(cases)], capture_output=True, text=True, timeout=120,
                         env={k: v for k, v in os.environ.items() if not k.startswith("DATAOPS_")})
    assert run.returncode == 0, run.stderr[-2000:]
    answers = json.loads(run.stdout.strip().splitlines()[-1])
    for label, case in cases.items():
        seen, expected = answers[label], dict(IAM_CASES[case["case"]][1])
        assert "error" not in seen, f"{label}: {seen}"
        expected["host"] = expected["host"] or ""  # dbt gives an unset host as ""
        expected.setdefault("is_serverless", False)
        expected.setdefault("cluster_identifier", None)
        expected.setdefault("serverless_work_group", None)
        assert {k: seen.get(k) for k in expected} == expected, label
