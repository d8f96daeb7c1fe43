"""The warehouse registry: one module makes a warehouse, and everything that
lists targets reads the registry."""

from __future__ import annotations

import importlib
import textwrap
import uuid

import duckdb
import pytest
from click.testing import CliRunner

from dataops.cli.main import main
from dataops.config import load_settings
from dataops.errors import ConfigError
from dataops.tickit.loaders import get_loader
from dataops.tickit.schema import TABLES_BY_NAME, render_ddl
from dataops.warehouses import registry
from dataops.warehouses.base import SqlDialect, Warehouse
from dataops.warehouses.postgres import PostgresSettings

# A whole warehouse in one module, as a new one would be written: its settings
# section, the variables its dbt profile output reads, its dialect and loader.
FAKE_MODULE = '''
from pydantic_settings import BaseSettings, SettingsConfigDict

from dataops.warehouses.base import SqlDialect, Warehouse, section_env


class FakeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DATAOPS_FAKE_", extra="ignore")

    account: str = "nobody"


class FakeLoader:
    target = "{name}"
    loads = []

    def __init__(self, settings):
        self.settings = settings

    def load(self, data_dir, progress=None):
        self.loads.append(data_dir)
        return {{"users": 3}}


def dbt_env(settings):
    return section_env(settings.section(FakeSettings), "account")


def query(settings, sql):
    return ["sql"], [(sql,)]


WAREHOUSE = Warehouse(
    name="{name}",
    title="Fake",
    dialect=SqlDialect(quote_identifiers=False, string_lengths=False, text_booleans=False),
    dbt_env=dbt_env,
    loader=__name__ + ":FakeLoader",
    query=query,
)
'''


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A throwaway warehouse module, registered for one test."""
    name = f"fake{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}_warehouse.py").write_text(textwrap.dedent(FAKE_MODULE.format(name=name)))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(f"{name}_warehouse")
    registry.register(module.WAREHOUSE)
    try:
        yield module
    finally:
        registry.unregister(name)


def test_the_built_in_warehouses_are_found():
    assert registry.names()[:3] == ("duckdb", "postgres", "redshift")
    assert registry.get("postgres").title == "PostgreSQL"


def test_a_new_warehouse_module_is_a_target_everywhere(fake, monkeypatch, tmp_path):
    name = fake.WAREHOUSE.name
    monkeypatch.setenv("DATAOPS_TARGET", name)
    monkeypatch.setenv("DATAOPS_FAKE_ACCOUNT", "acme")
    settings = load_settings(state_dir=tmp_path)
    assert settings.target == name
    assert settings.dbt_env()["DATAOPS_FAKE_ACCOUNT"] == "acme"
    assert settings.dbt_env()["DATAOPS_TARGET"] == name
    assert isinstance(get_loader(settings), fake.FakeLoader)
    assert settings.warehouse().query(settings, "select 1") == (["sql"], [("select 1",)])
    ddl = render_ddl(TABLES_BY_NAME["date"], name, "tickit")
    assert "create table tickit.date(" in ddl and "day varchar not null" in ddl and "default false" in ddl


def test_the_cli_offers_and_loads_a_new_warehouse(fake, monkeypatch, tmp_path):
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DATAOPS_SCALE", "0.01")
    name = fake.WAREHOUSE.name
    runner = CliRunner()
    assert name in runner.invoke(main, ["data", "load", "--help"]).output
    result = runner.invoke(main, ["data", "load", "--target", name], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"Loaded 3 rows into {name}" in result.output
    assert fake.FakeLoader.loads == [tmp_path / "state" / "data" / "tickit-sf0.01"]


def test_an_unknown_target_lists_the_registered_ones(fake, monkeypatch, tmp_path):
    monkeypatch.setenv("DATAOPS_TARGET", "oracle")
    with pytest.raises(ConfigError) as err:
        load_settings(state_dir=tmp_path)
    assert "DATAOPS_TARGET" in str(err.value) and f"'{fake.WAREHOUSE.name}'" in str(err.value)
    with pytest.raises(ConfigError, match=f"unknown target 'oracle': use duckdb, .* or {fake.WAREHOUSE.name}"):
        get_loader(load_settings(state_dir=tmp_path, target="duckdb"), "oracle")
    result = CliRunner().invoke(main, ["data", "load", "--target", "oracle"])
    assert result.exit_code == 2 and "'oracle' is not one of" in result.output


def test_a_name_is_registered_once():
    twin = Warehouse("duckdb", "Another DuckDB", SqlDialect(), dict, "x:Y", lambda settings, sql: ([], []))
    with pytest.raises(ValueError, match="already registered"):
        registry.register(twin)
    assert registry.get("duckdb").title == "DuckDB"


def test_a_section_is_read_once_and_a_copy_can_use_another(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATAOPS_PG_DATABASE", "first")
    settings = load_settings(state_dir=tmp_path)
    assert settings.section(PostgresSettings).database == "first"
    monkeypatch.setenv("DATAOPS_PG_DATABASE", "second")
    assert settings.section(PostgresSettings).database == "first"
    aimed = settings.with_section(PostgresSettings(database="stack"), target="postgres")
    assert aimed.dbt_env()["DATAOPS_PG_DATABASE"] == "stack" and aimed.target == "postgres"
    assert settings.section(PostgresSettings).database == "first" and settings.target == "duckdb"


def test_duckdb_answers_queries_read_only(tmp_path):
    settings = load_settings(state_dir=tmp_path, target="duckdb")
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create table t as select 1 as a, 'x' as b")
    assert settings.warehouse().query(settings, "select a, b from t") == (["a", "b"], [(1, "x")])
    with pytest.raises(duckdb.Error):
        settings.warehouse().query(settings, "insert into t values (2, 'y')")


@pytest.mark.services
def test_postgres_answers_queries(postgres_db, monkeypatch, tmp_path):
    for variable, value in postgres_db.env.items():
        monkeypatch.setenv(variable, value)
    settings = load_settings(state_dir=tmp_path, target="postgres")
    assert settings.warehouse().query(settings, "select 1 as a, 'x' as b") == (["a", "b"], [(1, "x")])
