"""``dataops demo`` honours DATAOPS_TARGET: the sample goes into the
configured warehouse and the top rows are read from it (PostgreSQL here);
Redshift without its host stops before anything starts.

The Airflow run itself is stood in for by a function that builds the five
model tables, as the DAG would: the run's own wiring (and the message of a
failed one) is covered by the services stack's tests.
"""

from __future__ import annotations

import re

import psycopg
import pytest
from click.testing import CliRunner

from dataops.cli.main import main
from dataops.local import demo
from dataops.warehouses.postgres import PostgresSettings


@pytest.mark.services
def test_demo_loads_into_and_reads_from_the_configured_postgres(postgres_db, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name, value in {**postgres_db.env, "DATAOPS_TARGET": "postgres", "DATAOPS_SCALE": "0.01",
                        "DATAOPS_STATE_DIR": str(tmp_path / "state")}.items():
        monkeypatch.setenv(name, value)
    ran_on = []

    def run_dag(settings, **_):
        ran_on.append((settings.target, settings.section(PostgresSettings).database))
        with psycopg.connect(postgres_db.conninfo, autocommit=True) as conn:
            conn.execute("create schema if not exists analytics")
            for n, (model, order) in enumerate(demo.MODELS.items()):
                # The columns the demo orders each model by, and the count of the sales loaded.
                ordered = ", ".join(f"0 as {c}" for c in re.findall(r"\w+", order) if c != "desc")
                conn.execute(f'create table analytics."{model}" as select {n} as model_number, '
                             f"count(*) as sales, {ordered} from tickit.sales")
        return demo.DagRunSummary("manual__1", 1.0, {"dbt_build": "success"})

    monkeypatch.setattr(demo, "compile_project", lambda settings: None)
    monkeypatch.setattr(demo, "run_dag", run_dag)
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    assert ran_on == [("postgres", postgres_db.name)]
    assert "TICKIT sample data into postgres" in result.output
    with psycopg.connect(postgres_db.conninfo) as conn:
        (sales,) = conn.execute("select count(*) from tickit.sales").fetchone()
    assert sales > 0
    # The top rows are PostgreSQL's: the count of the sales loaded there.
    assert "analytics.percentile_sales_model" in result.output and f"{sales}" in result.output
    assert f"Warehouse: PostgreSQL database {postgres_db.name}" in result.output
    assert not (tmp_path / "state" / "warehouse.duckdb").exists()


def test_demo_on_redshift_without_its_host_stops_at_once_naming_the_setting(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DATAOPS_TARGET", "redshift")
    monkeypatch.delenv("DATAOPS_REDSHIFT_HOST", raising=False)
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 1
    assert "DATAOPS_REDSHIFT_HOST" in result.output
    assert not (tmp_path / "state").exists(), "the demo started loading before checking the warehouse"
