"""The TICKIT dbt project on DuckDB and PostgreSQL: it builds, its tests pass,
and its answers match an independent computation from the raw files."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dataops.config import Settings, load_settings
from dataops.dbt import DbtInvocation, DbtProject, DbtRunner
from dataops.tickit.generator import generate
from dataops.tickit.loaders import get_loader

from .expected import Expected, compute

SCALE = 0.1
MODELS = (
    "all_gross_sales_model",
    "percentile_sales_model",
    "top_sales_99.9_percentile_model",
    "top_buyers_by_quantity_model",
    "top_buyer_data_model",
)


@dataclass
class Warehouse:
    settings: Settings
    query: Callable[[str], list[tuple]]

    def relation(self, model: str) -> str:
        return f'"{self.settings.models_schema}"."{model}"'

    def build(self, tmp: Path, **invocation) -> object:
        run = DbtRunner(DbtProject.from_settings(self.settings)).invoke(
            DbtInvocation(target_path=tmp / f"dbt-{uuid.uuid4().hex[:8]}", **invocation)
        )
        run.raise_for_status()
        return run


@pytest.fixture(scope="module")
def tickit_files(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tickit") / f"sf{SCALE:g}"
    generate(out, scale=SCALE, seed=7)
    return out


@pytest.fixture(scope="module")
def expected(tickit_files) -> Expected:
    return compute(tickit_files)


def _duckdb_warehouse(tmp: Path) -> Iterator[Warehouse]:
    import duckdb

    settings = load_settings(target="duckdb", state_dir=tmp, duckdb_path=tmp / "warehouse.duckdb", scale=SCALE)

    def query(sql: str) -> list[tuple]:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            return con.execute(sql).fetchall()

    yield Warehouse(settings, query)


def _postgres_warehouse(tmp: Path, server) -> Iterator[Warehouse]:
    import psycopg
    from psycopg import sql as pgsql

    name = f"dataops_test_models_{uuid.uuid4().hex[:10]}"
    admin = server.conninfo("postgres")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {
            "DATAOPS_PG_HOST": server.host,
            "DATAOPS_PG_PORT": str(server.port),
            "DATAOPS_PG_USER": server.user,
            "DATAOPS_PG_PASSWORD": server.password,
            "DATAOPS_PG_DATABASE": name,
        }.items():
            mp.setenv(key, value)
        settings = load_settings(target="postgres", state_dir=tmp, scale=SCALE)

        def query(sql: str) -> list[tuple]:
            with psycopg.connect(server.conninfo(name)) as conn:
                return conn.execute(sql).fetchall()

        try:
            yield Warehouse(settings, query)
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(pgsql.SQL("drop database if exists {} with (force)").format(pgsql.Identifier(name)))


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.services)])
def warehouse(request, tmp_path_factory, tickit_files) -> Iterator[Warehouse]:
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "duckdb":
        factory = _duckdb_warehouse(tmp)
    else:
        factory = _postgres_warehouse(tmp, request.getfixturevalue("postgres_server"))
    wh = next(factory)
    get_loader(wh.settings).load(tickit_files)
    wh.first_build = wh.build(tmp)
    wh.tmp = tmp
    yield wh
    factory.close()


def test_build_runs_every_model_and_test(warehouse):
    statuses = {n.unique_id: n.status for n in warehouse.first_build.results.nodes}
    models = {uid for uid in statuses if uid.startswith("model.")}
    assert {uid.split(".", 2)[2] for uid in models} == set(MODELS)
    assert sum(uid.startswith("test.") for uid in statuses) >= 20
    assert set(statuses.values()) <= {"success", "pass"}


def test_gross_sales_per_event(warehouse, expected):
    rows = warehouse.query(f"select eventid, total_price from {warehouse.relation('all_gross_sales_model')}")
    assert dict(rows) == expected.gross_by_event


def test_percentiles(warehouse, expected):
    rows = warehouse.query(f"select eventid, percentile from {warehouse.relation('percentile_sales_model')}")
    assert dict(rows) == expected.percentile_by_event


def test_top_percentile_events_highest_first(warehouse, expected):
    rows = warehouse.query(
        f"select eventname, total_price from {warehouse.relation('top_sales_99.9_percentile_model')}"
        " order by total_price desc"
    )
    assert rows == expected.top_events
    assert len(rows) >= 1


def test_top_buyers(warehouse, expected):
    buyers = warehouse.query(
        f"select buyerid, total_quantity from {warehouse.relation('top_buyers_by_quantity_model')}"
        " order by total_quantity desc, buyerid"
    )
    assert buyers == expected.top_buyers
    names = warehouse.query(
        f"select firstname, lastname, total_quantity from {warehouse.relation('top_buyer_data_model')}"
        " order by total_quantity desc"
    )
    assert sorted(names, key=lambda r: -r[2]) == sorted(expected.top_buyer_names, key=lambda r: -r[2])
    assert len(buyers) == 10


def test_reload_and_rebuild_leave_the_same_tables(warehouse, tickit_files):
    def counts() -> dict[str, int]:
        return {m: warehouse.query(f"select count(*) from {warehouse.relation(m)}")[0][0] for m in MODELS}

    before = counts()
    get_loader(warehouse.settings).load(tickit_files)
    warehouse.build(warehouse.tmp)
    assert counts() == before
    sales = warehouse.query(f'select count(*), count(distinct salesid) from "{warehouse.settings.tickit_schema}"."sales"')
    assert sales[0][0] == sales[0][1]
