"""The services stack's settings: validated by pydantic, read from the
DATAOPS_SERVICES_* variables, every refusal naming the option of `dataops up`.
No servers needed."""

from __future__ import annotations

import pytest

from dataops.errors import ConfigError
from dataops.local.services.config import PostgresServer, ServicesConfig


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env
    for name in ("PG_URL", "REDIS_URL", "REDIS_PREFIX", "METADATA_DB", "WORKERS", "STACK_ID"):
        monkeypatch.delenv(f"DATAOPS_SERVICES_{name}", raising=False)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"metadata_db": "my-airflow"}, "--metadata-db 'my-airflow': must be a plain identifier"),
        ({"metadata_db": "dataops"}, "both 'dataops'; choose another name with --metadata-db"),
        ({"api_port": 0}, "--port 0: input should be greater than or equal to 1"),
        ({"workers": 17}, "--workers 17: input should be less than or equal to 16"),
        ({"worker_concurrency": 0}, "--concurrency 0: input should be greater than or equal to 1"),
        ({"pg": "mysql://me:s3cret@db/wh"}, "--pg-url 'mysql://me:***@db/wh': not a postgresql:// URL"),
        ({"pg": "postgresql://me@db:99999/wh"}, "--pg-url 'postgresql://me@db:99999/wh': the port is not a number"),
        ({"redis": "http://cache:6379"}, "--redis-url 'http://cache:6379': not a redis:// URL"),
    ],
)
def test_refusals_name_the_option(tmp_path, given, message):
    with pytest.raises(ConfigError) as err:
        ServicesConfig(folder=tmp_path, **given)
    assert message in str(err.value)
    assert "s3cret" not in str(err.value) and "\n" not in str(err.value)


def test_a_database_in_the_pg_url_is_the_warehouse(tmp_path):
    config = ServicesConfig(folder=tmp_path, pg="postgresql://me:pw@db:6000/sales", warehouse_db="dataops")
    assert config.pg == PostgresServer(host="db", port=6000, user="me", password="pw")
    assert config.warehouse_db == "sales"
    assert ServicesConfig(folder=tmp_path, pg="postgresql://me@db", warehouse_db="dataops").warehouse_db == "dataops"


def test_the_variables_dataops_up_reads_are_read(monkeypatch, tmp_path):
    monkeypatch.setenv("DATAOPS_SERVICES_PG_URL", "postgresql://me@db:6000/sales")
    monkeypatch.setenv("DATAOPS_SERVICES_REDIS_URL", "redis://cache:6380/1")
    monkeypatch.setenv("DATAOPS_SERVICES_REDIS_PREFIX", "team:")
    monkeypatch.setenv("DATAOPS_SERVICES_METADATA_DB", "team_airflow")
    config = ServicesConfig(folder=tmp_path)
    assert (config.pg.address, config.warehouse_db) == ("db:6000", "sales")
    assert (config.redis.address, config.redis_prefix, config.metadata_db) == ("cache:6380", "team:", "team_airflow")
    monkeypatch.setenv("DATAOPS_SERVICES_WORKERS", "lots")
    with pytest.raises(ConfigError, match="--workers 'lots': input should be a valid integer"):
        ServicesConfig(folder=tmp_path)


def test_what_up_saved_is_loaded_as_saved(monkeypatch, tmp_path):
    saved = ServicesConfig(folder=tmp_path, pg="postgresql://me:pw@db/sales", metadata_db="meta", workers=3,
                           dags_folders=(tmp_path / "dags",)).with_stack_id("abc")
    saved.save()
    assert (tmp_path / "config.json").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("DATAOPS_SERVICES_METADATA_DB", "other")
    assert ServicesConfig.load(tmp_path) == saved
    assert saved.warehouse().conninfo() == PostgresServer(host="db", user="me", password="pw").conninfo("sales")


def test_a_damaged_saved_configuration_is_named(tmp_path):
    (tmp_path / "config.json").write_text('{"folder": "x", "workers": 99}')
    with pytest.raises(ConfigError, match=r"config.json is not a stack's configuration: --workers 99"):
        ServicesConfig.load(tmp_path)
