"""The PostgreSQL loader against the real server (a fresh database per test)."""

from __future__ import annotations

import threading

import psycopg
import pytest
from psycopg import sql

from dataops.config import load_settings
from dataops.errors import DataFileError, WarehouseError
from dataops.tickit.generator import generate
from dataops.tickit.loaders import get_loader
from dataops.tickit.manifest import read_manifest
from dataops.tickit.schema import SF1_ROWS, TABLES

pytestmark = pytest.mark.services

COUNTS_SQL = " union all ".join(f"select '{t.name}', count(*) from tickit.\"{t.name}\"" for t in TABLES)


@pytest.fixture
def pg_settings(postgres_db, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name, value in postgres_db.env.items():
        monkeypatch.setenv(name, value)
    return load_settings(state_dir=tmp_path / "state", target="postgres")


def _counts(conninfo: str) -> dict[str, int]:
    with psycopg.connect(conninfo) as conn:
        return dict(conn.execute(COUNTS_SQL).fetchall())


def test_sf1_loads_with_exact_counts_and_types(sf1_dir, pg_settings, postgres_db):
    rows = get_loader(pg_settings).load(sf1_dir)
    assert rows == SF1_ROWS
    assert _counts(postgres_db.conninfo) == SF1_ROWS
    with psycopg.connect(postgres_db.conninfo) as conn:
        columns = conn.execute(
            "select table_name, column_name, data_type, character_maximum_length, numeric_precision, "
            "numeric_scale, is_nullable from information_schema.columns where table_schema = 'tickit'"
        ).fetchall()
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace where nspname like 'tickit%'")}
        sample = conn.execute(
            "select s.pricepaid, s.saletime, u.likesports, d.caldate, d.day "
            "from tickit.sales s join tickit.users u on u.userid = s.buyerid "
            "join tickit.date d on d.dateid = s.dateid where s.salesid = 1"
        ).fetchone()
    by_name = {(t, c): rest for t, c, *rest in columns}
    assert len(by_name) == sum(len(t.columns) for t in TABLES)
    assert by_name["sales", "pricepaid"] == ["numeric", None, 8, 2, "YES"]
    assert by_name["sales", "salesid"] == ["integer", None, 32, 0, "NO"]
    assert by_name["users", "username"] == ["character", 8, None, None, "YES"]
    assert by_name["users", "email"] == ["character varying", 100, None, None, "YES"]
    assert by_name["date", "caldate"][0] == "date" and by_name["date", "holiday"][0] == "boolean"
    assert by_name["event", "starttime"][0] == "timestamp without time zone"
    assert schemas == {"tickit"}  # the staging schema is gone
    assert sample[1].year == 2008 and sample[3].year == 2008 and len(sample[4]) == 3


def test_rerun_gives_the_same_counts(small_dir, pg_settings, postgres_db, tmp_path):
    loader = get_loader(pg_settings)
    first = loader.load(small_dir)
    assert loader.load(small_dir) == first
    assert _counts(postgres_db.conninfo) == first
    other = generate(tmp_path / "other", scale=0.01, seed=3).out_dir
    loader.load(other)
    assert _counts(postgres_db.conninfo) == read_manifest(other).rows


def test_corrupt_file_fails_with_file_and_line_and_keeps_the_tables(
    small_dir, pg_settings, postgres_db, tmp_path, corrupt_line
):
    loader = get_loader(pg_settings)
    before = loader.load(small_dir)
    damaged = generate(tmp_path / "damaged", scale=0.03, seed=11).out_dir
    corrupt_line(damaged / "listings_pipe.txt", 77, lambda l: l[: len(l) // 3])  # truncated line
    with pytest.raises(DataFileError) as caught:
        loader.load(damaged)
    assert caught.value.path == damaged / "listings_pipe.txt" and caught.value.line == 77
    assert _counts(postgres_db.conninfo) == before

    damaged2 = generate(tmp_path / "damaged2", scale=0.03, seed=12).out_dir
    corrupt_line(damaged2 / "sales_tab.txt", 1000, lambda l: l.replace("\t", "\t1O4", 1))  # garbage number
    with pytest.raises(DataFileError) as caught:
        loader.load(damaged2)
    assert "sales_tab.txt:1000:" in str(caught.value)
    assert _counts(postgres_db.conninfo) == before


def test_dependent_views_survive_a_reload(small_dir, pg_settings, postgres_db, tmp_path):
    loader = get_loader(pg_settings)
    loader.load(small_dir)
    with psycopg.connect(postgres_db.conninfo, autocommit=True) as conn:
        conn.execute("create schema analytics")
        conn.execute("create view analytics.gross as select eventid, sum(pricepaid) total from tickit.sales group by eventid")
    other = generate(tmp_path / "other", scale=0.01, seed=3).out_dir
    loader.load(other)
    with psycopg.connect(postgres_db.conninfo) as conn:
        events = conn.execute("select count(*) from analytics.gross").fetchone()[0]
        expected = conn.execute("select count(distinct eventid) from tickit.sales").fetchone()[0]
    assert events == expected > 0
    assert _counts(postgres_db.conninfo) == read_manifest(other).rows


def test_concurrent_reader_never_sees_a_half_loaded_schema(small_dir, pg_settings, postgres_db, tmp_path):
    loader = get_loader(pg_settings)
    old = loader.load(small_dir)
    new_dir = generate(tmp_path / "new", scale=0.03, seed=21).out_dir
    new = read_manifest(new_dir).rows
    snapshots: list[dict[str, int]] = []
    problems: list[BaseException] = []
    loading = threading.Event()

    def read_while_loading() -> None:
        try:
            with psycopg.connect(postgres_db.conninfo, autocommit=True) as conn:
                while loading.is_set():
                    snapshots.append(dict(conn.execute(COUNTS_SQL).fetchall()))
        except BaseException as exc:  # noqa: BLE001  (reported below)
            problems.append(exc)

    loading.set()
    reader = threading.Thread(target=read_while_loading)
    reader.start()
    try:
        loader.load(new_dir)
    finally:
        loading.clear()
        reader.join(timeout=30)
    assert not problems
    assert len(snapshots) > 3
    assert all(snapshot in (old, new) for snapshot in snapshots)
    assert snapshots[0] == old


def test_creates_the_database_if_missing(small_dir, postgres_db, postgres_server, monkeypatch, tmp_path):
    missing = postgres_db.name + "_new"
    monkeypatch.chdir(tmp_path)
    for name, value in postgres_db.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATAOPS_PG_DATABASE", missing)
    try:
        rows = get_loader(load_settings(state_dir=tmp_path, target="postgres")).load(small_dir)
        assert _counts(postgres_server.conninfo(missing)) == rows
    finally:
        with psycopg.connect(postgres_server.conninfo("postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(missing)))


def test_unreachable_server_is_a_warehouse_error(small_dir, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATAOPS_PG_PORT", "1")  # nothing listens there
    with pytest.raises(WarehouseError, match="DATAOPS_PG_HOST"):
        get_loader(load_settings(state_dir=tmp_path, target="postgres")).load(small_dir)
