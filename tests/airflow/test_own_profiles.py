"""dbt projects brought as they are: compiled by ``dataops dbt manifest`` and run
by ``DbtDag``'s tasks with their own profile's default target, another target
when one is named, or the platform's profile when they bring none.

The tasks run without a scheduler: the ``dbt_build`` task (and one model task)
is executed directly, with the local executor and real dbt.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from click.testing import CliRunner

from dataops.airflow.factory import DbtDag
from dataops.airflow.run_report import RunReport
from dataops.cli import main

pytestmark = pytest.mark.slow


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def duckdb_shop(root: Path) -> Path:
    """Seeds, staging views over them, a mart table; its own profile, default target ``dev``."""
    return _write(root, {
        "dbt_project.yml": (
            'name: shop\nversion: "1.0.0"\nconfig-version: 2\nprofile: shop\n'
            "models:\n  shop:\n    staging:\n      +materialized: view\n    marts:\n      +materialized: table\n"
        ),
        "profiles.yml": (
            "shop:\n  target: dev\n  outputs:\n"
            f"    dev:\n      type: duckdb\n      path: {root / 'dev.duckdb'}\n      threads: 2\n"
            f"    ci:\n      type: duckdb\n      path: {root / 'ci.duckdb'}\n      threads: 2\n"
        ),
        "seeds/raw_customers.csv": "id,name\n1,ada\n2,grace\n",
        "seeds/raw_orders.csv": "id,customer_id,amount\n1,1,10\n2,1,5\n3,2,7\n",
        "models/staging/stg_customers.sql": "select id as customer_id, name from {{ ref('raw_customers') }}\n",
        "models/staging/stg_orders.sql": "select id as order_id, customer_id, amount from {{ ref('raw_orders') }}\n",
        "models/staging/_staging.yml": (
            "version: 2\nmodels:\n  - name: stg_customers\n    columns:\n"
            "      - name: customer_id\n        data_tests: [unique, not_null]\n"
        ),
        "models/marts/customer_totals.sql": (
            "select c.name, sum(o.amount) as total\nfrom {{ ref('stg_customers') }} c\n"
            "join {{ ref('stg_orders') }} o using (customer_id)\ngroup by c.name\n"
        ),
    })


def search_path_warehouse(root: Path, database) -> Path:
    """Models selecting from bare table names, found through the profile's search_path."""
    server = database.server
    return _write(root, {
        "dbt_project.yml": 'name: warehouse\nversion: "1.0.0"\nconfig-version: 2\nprofile: warehouse\n',
        "profiles.yml": (
            "warehouse:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n"
            f"      host: {server.host}\n      port: {server.port}\n      user: {server.user}\n"
            f"      password: '{server.password}'\n      dbname: {database.name}\n"
            "      schema: marts\n      search_path: raw\n      threads: 2\n"
        ),
        "models/order_totals.sql": "select customer_id, sum(amount) as total from orders group by customer_id\n",
        "models/customer_totals.sql": (
            "select c.name, t.total\nfrom customers c\njoin {{ ref('order_totals') }} t on t.customer_id = c.id\n"
        ),
    })


def compile_with_cli(project: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["dbt", "manifest", "--project-dir", str(project), *args])
    assert result.exit_code == 0, result.output
    return result.output


class FakeTI:
    """What the operators use of Airflow's task instance."""

    def __init__(self, dag_id: str, task_id: str):
        self.dag_id, self.run_id, self.task_id, self.try_number = dag_id, "manual__1", task_id, 1
        self.pushed: list[tuple[str, object]] = []

    def xcom_push(self, key, value):
        self.pushed.append((key, value))

    def get_task_states(self, **_):
        return {}


def run_task(dag, task_id: str):
    ti = FakeTI(dag.dag_id, task_id)
    returned = dag.get_task(task_id).execute({"ti": ti, "dag_run": SimpleNamespace(start_date=None)})
    return ti, returned


def build_dag(dag) -> RunReport:
    ti, returned = run_task(dag, "dbt_build")
    report = RunReport.from_json(ti.pushed[-1][1])
    assert report.final and report.error is None and returned["failed"] == []
    assert {node["state"] for node in report.nodes.values()} == {"success"}
    return report


@pytest.fixture(autouse=True)
def _state(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(tmp_path / "state"))
    for name in ("DATAOPS_DBT_PROFILES_DIR", "DATAOPS_DBT_PROFILE", "DATAOPS_DBT_TARGET"):
        monkeypatch.delenv(name, raising=False)


def _relations(path: Path) -> dict[str, str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return dict(con.execute("select table_name, table_type from information_schema.tables").fetchall())


def test_a_duckdb_project_runs_with_its_own_profile_and_default_target(tmp_path):
    project = duckdb_shop(tmp_path / "shop")
    output = compile_with_cli(project)
    assert f"its default target, from {project / 'profiles.yml'}" in output

    dag = DbtDag(dag_id="shop", project_dir=project, schedule=None)
    assert {t.task_id for t in dag.tasks} >= {"raw_customers", "stg_customers", "customer_totals", "dbt_build"}
    report = build_dag(dag)
    assert "model.shop.customer_totals" in report.nodes
    relations = _relations(project / "dev.duckdb")
    assert relations["stg_orders"] == "VIEW" and relations["customer_totals"] == "BASE TABLE"
    assert not (project / "ci.duckdb").exists()

    # A target named by the DAG reaches the model tasks' own builds too.
    ci = DbtDag(dag_id="shop_ci", project_dir=project, target="ci", schedule=None)
    ti, _ = run_task(ci, "raw_orders")
    assert dict(ti.pushed)["dbt_outcome"]["state"] == "success"
    assert set(_relations(project / "ci.duckdb")) == {"raw_orders"}


def test_a_project_without_profiles_runs_with_the_platforms(tmp_path, monkeypatch):
    project = duckdb_shop(tmp_path / "shop")
    (project / "profiles.yml").unlink()
    monkeypatch.setenv("DATAOPS_TARGET", "duckdb")
    monkeypatch.setenv("DATAOPS_DUCKDB_PATH", str(tmp_path / "platform.duckdb"))
    assert "profile dataops, its default target, from the platform's profiles" in compile_with_cli(project)
    build_dag(DbtDag(dag_id="shop", project_dir=project, schedule=None))
    # The platform's profile builds under DATAOPS_MODELS_SCHEMA: the run is test-gated, and production
    # is a view of the run's table, published once the tests passed.
    assert _relations(tmp_path / "platform.duckdb")["customer_totals"] == "VIEW"


@pytest.mark.services
def test_a_postgres_project_reading_bare_tables_through_its_search_path(tmp_path, postgres_db):
    import psycopg

    with psycopg.connect(postgres_db.conninfo, autocommit=True) as conn:
        conn.execute("create schema raw")
        conn.execute("create table raw.customers (id int primary key, name text)")
        conn.execute("create table raw.orders (id int primary key, customer_id int, amount int)")
        conn.execute("insert into raw.customers values (1, 'ada'), (2, 'grace')")
        conn.execute("insert into raw.orders values (1, 1, 10), (2, 1, 5), (3, 2, 7)")
    project = search_path_warehouse(tmp_path / "warehouse", postgres_db)
    compile_with_cli(project)

    build_dag(DbtDag(dag_id="warehouse", project_dir=project, schedule=None))
    with psycopg.connect(postgres_db.conninfo) as conn:
        rows = conn.execute("select name, total from marts.customer_totals order by name").fetchall()
    assert rows == [("ada", 15), ("grace", 7)]
