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


# A value for every DATAOPS_* name the dbt project and the platform's profile read.
_DOTENV_VALUES = {
    "DATAOPS_DBT_THREADS": "3",
    "DATAOPS_DUCKDB_PATH": "/srv/wh/warehouse.duckdb",
    "DATAOPS_MATERIALIZATION": "view",
    "DATAOPS_MODELS_SCHEMA": "marts_x",
    "DATAOPS_TICKIT_SCHEMA": "raw_x",
    "DATAOPS_PG_HOST": "pg.example.internal",
    "DATAOPS_PG_PORT": "6543",
    "DATAOPS_PG_USER": "pg_user",
    "DATAOPS_PG_PASSWORD": "pg_secret",
    "DATAOPS_PG_DATABASE": "pg_db",
    "DATAOPS_REDSHIFT_HOST": "rs.example.internal",
    "DATAOPS_REDSHIFT_PORT": "5440",
    "DATAOPS_REDSHIFT_USER": "rs_user",
    "DATAOPS_REDSHIFT_PASSWORD": "rs_secret",
    "DATAOPS_REDSHIFT_DATABASE": "rs_db",
    "DATAOPS_REDSHIFT_METHOD": "database",
    "DATAOPS_REDSHIFT_CLUSTER_ID": "rs-cluster",
    "DATAOPS_REDSHIFT_WORKGROUP": "",
    "DATAOPS_REDSHIFT_REGION": "eu-north-1",
    "DATAOPS_REDSHIFT_SSLMODE": "verify-ca",
}
_TARGET_PREFIXES = {"duckdb": "DATAOPS_DUCKDB_", "postgres": "DATAOPS_PG_", "redshift": "DATAOPS_REDSHIFT_"}


def _dbt_read_names() -> set[str]:
    import re

    from dataops import paths
    from dataops.dbt.profile import PLATFORM_PROFILES_DIR

    call = re.compile(r"""env_var\(\s*['"](DATAOPS_[A-Z0-9_]+)['"]""")
    project = paths.dbt_project_dir()
    files = [project / "dbt_project.yml", project / "profiles.yml", *(project / "models").rglob("*.yml")]
    files += list(PLATFORM_PROFILES_DIR.glob("*.yml"))
    return {name for f in files for name in call.findall(f.read_text())}


def test_every_name_dbt_reads_is_known_here():
    assert _dbt_read_names() - {"DATAOPS_TARGET"} == set(_DOTENV_VALUES)


@pytest.mark.parametrize("target", ["duckdb", "postgres", "redshift"])
def test_every_setting_dbt_reads_works_from_dotenv(target, monkeypatch, tmp_path):
    """What dbt reads with env_var() reaches dbt from .env, not only from the process environment."""
    for name in [*_DOTENV_VALUES, "DATAOPS_TARGET"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    lines = [f"DATAOPS_TARGET={target}", *(f"{name}={value}" for name, value in _DOTENV_VALUES.items())]
    (tmp_path / ".env").write_text("\n".join(lines) + "\n")
    env = load_settings().dbt_env()
    own = [
        name for name in _DOTENV_VALUES
        if not any(name.startswith(p) for p in _TARGET_PREFIXES.values()) or name.startswith(_TARGET_PREFIXES[target])
    ]
    assert env["DATAOPS_TARGET"] == target
    assert {name: env.get(name) for name in own} == {name: _DOTENV_VALUES[name] for name in own}


def test_materialized_view_on_duckdb_is_refused_by_name(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("DATAOPS_MATERIALIZATION=materialized_view\n")
    with pytest.raises(ConfigError, match="DATAOPS_MATERIALIZATION") as caught:
        load_settings(target="duckdb", state_dir=tmp_path).dbt_env()
    assert len(str(caught.value).splitlines()) == 1


def test_an_unknown_materialization_is_refused_by_name(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATAOPS_MATERIALIZATION", "incremental_view")
    with pytest.raises(ConfigError, match="DATAOPS_MATERIALIZATION"):
        load_settings(state_dir=tmp_path)
