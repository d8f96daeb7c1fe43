"""Settings: defaults, overrides from the environment, clear errors."""

from __future__ import annotations

import pytest

from dataops.config import load_settings
from dataops.errors import ConfigError


def test_defaults_are_the_embedded_platform(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env here
    settings = load_settings(state_dir=tmp_path)
    assert settings.target == "duckdb"
    assert settings.warehouse_path == tmp_path / "warehouse.duckdb"
    assert settings.dbt_env()["DATAOPS_DUCKDB_PATH"] == str(tmp_path / "warehouse.duckdb")


def test_environment_and_dotenv_are_read(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("DATAOPS_TARGET=postgres\nDATAOPS_PG_PORT=6543\n")
    monkeypatch.setenv("DATAOPS_MODELS_SCHEMA", "Marts")
    settings = load_settings()
    assert settings.target == "postgres"
    assert settings.models_schema == "marts"
    env = settings.dbt_env()
    assert env["DATAOPS_PG_PORT"] == "6543"
    assert env["DATAOPS_MODELS_SCHEMA"] == "marts"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DATAOPS_TARGET", "snowflake", "DATAOPS_TARGET"),
        ("DATAOPS_DBT_THREADS", "many", "DATAOPS_DBT_THREADS"),
        ("DATAOPS_TICKIT_SCHEMA", "drop table;", "DATAOPS_TICKIT_SCHEMA"),
        ("DATAOPS_SCALE", "-1", "DATAOPS_SCALE"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch, tmp_path, name, value, expected):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert expected in str(err.value)


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("DATAOPS_TARGET", "snowflake", "it must be 'duckdb', 'postgres' or 'redshift'."),
        ("DATAOPS_SCALE", "-1", "it must be greater than 0 and at most 1000."),
        ("DATAOPS_DBT_THREADS", "0", "it must be at least 1 and at most 64."),
        ("DATAOPS_TICKIT_SCHEMA", "drop table;", "must be a plain SQL identifier (letters, digits, underscores)."),
    ],
)
def test_a_bad_value_says_the_setting_where_it_was_set_and_what_it_accepts(monkeypatch, tmp_path, name, value, accepted):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value) == f"Invalid setting {name}={value!r} (set in the environment): {accepted}"


def test_a_bad_value_from_dotenv_names_the_file_and_line(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATAOPS_PG_PORT", raising=False)
    (tmp_path / ".env").write_text("DATAOPS_TARGET=postgres\nDATAOPS_PG_PORT=99999\n")
    with pytest.raises(ConfigError) as err:
        load_settings().dbt_env()
    assert str(err.value) == (
        f"Invalid setting DATAOPS_PG_PORT='99999' (set in {tmp_path / '.env'}, line 2): "
        "it must be at least 1 and at most 65535."
    )


def test_bad_nested_value_names_the_variable(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATAOPS_TARGET", "postgres")
    monkeypatch.setenv("DATAOPS_PG_PORT", "99999")
    with pytest.raises(ConfigError, match="DATAOPS_PG_PORT"):
        load_settings().dbt_env()


def test_redshift_without_host_says_what_to_set(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATAOPS_REDSHIFT_HOST", raising=False)
    with pytest.raises(ConfigError, match="DATAOPS_REDSHIFT_HOST"):
        load_settings(target="redshift").dbt_env()


def test_password_is_never_echoed(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATAOPS_PG_PASSWORD", "s3cret")
    monkeypatch.setenv("DATAOPS_PG_PORT", "x")
    with pytest.raises(ConfigError) as err:
        load_settings(target="postgres").dbt_env()
    assert "s3cret" not in str(err.value)
