"""The DuckDB loader: round trip, idempotence, atomicity, isolation."""

from __future__ import annotations

import re

import duckdb
import pytest

from dataops.errors import DataFileError
from dataops.tickit.files import table_files
from dataops.tickit.generator import generate
from dataops.tickit.loaders import get_loader
from dataops.tickit.loaders.duckdb import load_into
from dataops.tickit.manifest import read_manifest
from dataops.tickit.schema import SF1_ROWS, TABLES


def _counts(path, schema="tickit") -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t.name: con.execute(f'select count(*) from "{schema}"."{t.name}"').fetchone()[0] for t in TABLES}


def test_sf1_round_trip(sf1_dir, settings):
    rows = get_loader(settings, "duckdb").load(sf1_dir)
    assert rows == SF1_ROWS
    assert _counts(settings.warehouse_path) == SF1_ROWS
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        types = dict(con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'tickit' and table_name = 'listing'"
        ).fetchall())
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'tickit'").fetchall()}
    assert types == {
        "listid": "INTEGER", "sellerid": "INTEGER", "eventid": "INTEGER", "dateid": "SMALLINT",
        "numtickets": "SMALLINT", "priceperticket": "DECIMAL(8,2)", "totalprice": "DECIMAL(8,2)",
        "listtime": "TIMESTAMP",
    }
    assert tables == {t.name for t in TABLES}  # no staging leftovers


def test_rerun_replaces_instead_of_appending(small_dir, settings, tmp_path):
    loader = get_loader(settings, "duckdb")
    first = loader.load(small_dir)
    assert loader.load(small_dir) == first
    assert _counts(settings.warehouse_path) == first
    other = generate(tmp_path / "other", scale=0.01, seed=1).out_dir
    assert loader.load(other) == read_manifest(other).rows
    assert _counts(settings.warehouse_path) == read_manifest(other).rows


def test_custom_schema(small_dir, tmp_path, monkeypatch):
    from dataops.config import load_settings

    monkeypatch.chdir(tmp_path)
    settings = load_settings(state_dir=tmp_path, tickit_schema="Sample_Data")
    rows = get_loader(settings).load(small_dir)
    assert _counts(settings.warehouse_path, "sample_data") == rows


def test_a_corrupt_file_leaves_the_previous_tables(small_dir, settings, tmp_path, corrupt_line):
    loader = get_loader(settings, "duckdb")
    before = loader.load(small_dir)
    damaged = tmp_path / "damaged"
    generate(damaged, scale=0.03, seed=5)
    corrupt_line(damaged / "sales_tab.txt", 25, lambda l: l.replace("\t", "\tnot-a-number", 1))
    with pytest.raises(DataFileError) as caught:
        loader.load(damaged)
    assert caught.value.path == damaged / "sales_tab.txt" and caught.value.line == 25
    assert _counts(settings.warehouse_path) == before
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        names = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    assert names == {t.name for t in TABLES}


def test_readers_see_the_old_tables_until_the_swap(small_dir, tmp_path):
    old = generate(tmp_path / "old", scale=0.01, seed=1).out_dir
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    load_into(con, "tickit", table_files(old))
    old_rows = read_manifest(old).rows
    reader = con.cursor()  # another connection to the same database
    seen = []

    def look(task: str, completed: int, total: int) -> None:
        seen.append({t.name: reader.execute(f'select count(*) from tickit."{t.name}"').fetchone()[0] for t in TABLES})

    new_rows = load_into(con, "tickit", table_files(small_dir), progress=look)
    assert len(seen) == len(TABLES) + 1
    assert all(snapshot == old_rows for snapshot in seen[:-1])  # mid-load: still all old
    assert seen[-1] == new_rows != old_rows


def test_an_open_warehouse_gives_a_clear_error(small_dir, settings):
    import subprocess
    import sys

    settings.warehouse_path.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, sys, time; c = duckdb.connect({str(settings.warehouse_path)!r}); print('open', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        from dataops.errors import WarehouseError

        with pytest.raises(WarehouseError, match="another process"):
            get_loader(settings, "duckdb").load(small_dir)
    finally:
        holder.kill()
        holder.wait()


def test_views_over_the_tables_survive_a_reload(small_dir, settings, tmp_path):
    loader = get_loader(settings, "duckdb")
    loader.load(small_dir)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema analytics")
        con.execute("create view analytics.sold as select sum(qtysold) quantity from tickit.sales")
    other = generate(tmp_path / "other", scale=0.01, seed=1).out_dir
    loader.load(other)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        quantity = con.execute("select quantity from analytics.sold").fetchone()[0]
    expected = sum(int(line.split("\t")[6]) for line in (other / "sales_tab.txt").read_text().splitlines())
    assert quantity == expected


@pytest.mark.parametrize(
    ("file_name", "line", "edit", "words"),
    [
        ("venue_pipe.txt", 3, lambda l: "|" + l.split("|", 1)[1], "venueid is empty"),  # NOT NULL
        ("allusers_pipe.txt", 250, lambda l: l.replace("|", "|ABCDEFGHIJK", 1), "longer than char(8)"),
        ("allevents_pipe.txt", 17, lambda l: l.rsplit("|", 1)[0], "expected 6 fields, found 5"),
    ],
)
def test_errors_found_while_staging_name_the_line(small_dir, settings, corrupt_line, file_name, line, edit, words):
    loader = get_loader(settings, "duckdb")
    before = loader.load(small_dir)
    corrupt_line(small_dir / file_name, line, edit)
    with pytest.raises(DataFileError, match=re.escape(words)) as caught:
        loader.load(small_dir)
    assert caught.value.path == small_dir / file_name and caught.value.line == line
    assert _counts(settings.warehouse_path) == before
