"""The end-to-end stack: the embedded default (a local Airflow on SQLite, a
DuckDB warehouse), started once and shared by the tests that use it.

The same DAG end to end on PostgreSQL, with Celery workers, is the services
stack's (tests/services/test_stack.py), so no second Airflow starts here.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from e2e_support import SCALE, E2EStack, copy_project, prepare_dags_folder  # noqa: E402


@pytest.fixture(scope="session")
def e2e_stack(tmp_path_factory) -> Iterator[E2EStack]:
    from dataops import paths
    from dataops.config import load_settings
    from dataops.dbt.manifest import ensure_compiled
    from dataops.dbt.project import DbtProject
    from dataops.local.harness import LocalAirflow, pycache_env
    from dataops.local.processes import free_port
    from dataops.tickit.generator import generate
    from dataops.tickit.loaders import get_loader

    root = tmp_path_factory.mktemp("e2e-duckdb")
    project_dir = root / "dbt"
    copy_project(paths.dbt_project_dir(), project_dir)
    state = root / "state"
    settings = load_settings(target="duckdb", state_dir=state, dbt_project_dir=project_dir, scale=SCALE, dbt_threads=4)
    generate(settings.data_dir, scale=SCALE, seed=settings.seed)
    get_loader(settings).load(settings.data_dir)
    ensure_compiled(DbtProject.from_settings(settings))
    airflow = LocalAirflow(
        home_dir=root / "airflow",
        dags_folder=prepare_dags_folder(root / "dags"),
        settings=settings,
        api_port=free_port(),
        extra_env=pycache_env(state),
        # Published versions are served too, beside the folder (test_e2e.py's bundle tests).
        published_store=str(root / "bundles"),
    )
    airflow.start()
    try:
        api = airflow.api()
        api.wait_for_dag("redshift_transformations")
        yield E2EStack(settings.target, settings, airflow, api, *_duckdb(settings), bundle_store=root / "bundles")
    finally:
        airflow.stop()


def _duckdb(settings):
    """query and execute on the stack's DuckDB warehouse, one connection each."""
    import duckdb

    def query(sql: str) -> list[tuple]:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            return con.execute(sql).fetchall()

    def execute(sql: str) -> None:
        with duckdb.connect(str(settings.warehouse_path)) as con:
            con.execute(sql)

    return query, execute
