"""One Airflow process environment for both local stacks: the same layers
(tuning defaults < the caller's environment < what the stack controls) and
the same shared part; each stack adds only its executor, databases, broker
and secrets."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dataops.config import load_settings
from dataops.local.airflow_home import AirflowHome
from dataops.local.services.config import ServicesConfig
from dataops.local.services.credentials import StackSecrets
from dataops.local.services.environment import component_env

CALLER = {
    "PATH": "/usr/bin",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "DEBUG",
    "AIRFLOW__CORE__EXECUTOR": "SequentialExecutor",
    "AIRFLOW__API__PORT": "1",
}


@pytest.fixture
def envs(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name, value in CALLER.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(state_dir=tmp_path / "state", target="duckdb")
    embedded = AirflowHome.for_settings(settings, api_port=8123).env()
    config = ServicesConfig(folder=tmp_path / "state" / "services", pg="postgresql://me:pw@db:5433/wh", api_port=8124)
    services = component_env(config, StackSecrets("admin-pw", "jwt", "api", "fernet"), base=dict(CALLER))
    return settings, embedded, services


def test_both_stacks_share_the_layers(envs):
    _, embedded, services = envs
    for env in (embedded, services):
        # The caller tunes; the stack keeps what it controls.
        assert env["AIRFLOW__LOGGING__LOGGING_LEVEL"] == "DEBUG"
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
        assert env["AIRFLOW__CORE__EXECUTOR"] != "SequentialExecutor"
        assert env["PATH"] == f"{Path(sys.executable).parent}:/usr/bin"
    assert embedded["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    # Airflow's CeleryExecutor, patient with its broker for the stack's window (5 minutes by default).
    assert services["AIRFLOW__CORE__EXECUTOR"] == "dataops.airflow.celery_executor.BrokerPatientCeleryExecutor"
    assert services["AIRFLOW__CELERY__BROKER_OUTAGE_S"] == "300"
    assert int(services["AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT"]) > 300


def test_both_stacks_serve_the_api_and_its_users_alike(envs, tmp_path):
    _, embedded, services = envs
    for env, port in ((embedded, 8123), (services, 8124)):
        assert env["AIRFLOW__API__PORT"] == str(port)
        assert env["AIRFLOW__API__BASE_URL"] == f"http://127.0.0.1:{port}"
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == f"http://127.0.0.1:{port}/execution/"
        assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "admin:admin"
        assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("SimpleAuthManager")
        assert env["DATAOPS_STATE_DIR"] == str(tmp_path / "state")
    assert embedded["AIRFLOW_HOME"] == str(tmp_path / "state" / "airflow")
    assert services["AIRFLOW_HOME"] == str(tmp_path / "state" / "services" / "airflow")


def test_each_stack_gives_dbt_its_warehouse(envs):
    settings, embedded, services = envs
    assert {k: embedded[k] for k in settings.dbt_env()} == settings.dbt_env()
    assert embedded["DATAOPS_DUCKDB_PATH"] == str(settings.warehouse_path)
    assert services["DATAOPS_TARGET"] == "postgres"
    assert (services["DATAOPS_PG_HOST"], services["DATAOPS_PG_PORT"], services["DATAOPS_PG_DATABASE"]) == (
        "db", "5433", "wh")
    assert services["DATAOPS_PG_PASSWORD"] == "pw"
