"""The end-to-end stack: one local Airflow per warehouse, shared by the session.

``e2e_stack`` is parametrized by target (``duckdb``; ``postgres``, marked
``services``); pytest runs all the tests of one target before it starts the
next stack, so at most one Airflow runs at a time.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from e2e_support import SCALE, E2EStack, copy_project, prepare_dags_folder  # noqa: E402


@pytest.fixture(scope="session", params=["duckdb", pytest.param("postgres", marks=pytest.mark.services)])
def e2e_stack(request, tmp_path_factory) -> Iterator[E2EStack]:
    from dataops import paths
    from dataops.local.harness import LocalAirflow, pycache_env
    from dataops.config import load_settings
    from dataops.dbt.manifest import ensure_compiled
    from dataops.dbt.project import DbtProject
    from dataops.local.processes import free_port
    from dataops.tickit.generator import generate
    from dataops.tickit.loaders import get_loader
    from dataops.warehouses.postgres import PostgresSettings

    target = request.param
    root = tmp_path_factory.mktemp(f"e2e-{target}")
    project_dir = root / "dbt"
    copy_project(paths.dbt_project_dir(), project_dir)
    state = root / "state"
    overrides = dict(target=target, state_dir=state, dbt_project_dir=project_dir, scale=SCALE, dbt_threads=4)

    with pytest.MonkeyPatch.context() as mp:
        database = None
        if target == "postgres":
            server = request.getfixturevalue("postgres_server")
            database = server.create_database("dataops_test_e2e_")
            for name, value in database.env.items():
                mp.setenv(name, value)
        settings = load_settings(**overrides)
        if target == "postgres":
            settings.section(PostgresSettings)  # read now, while the variables name the test database

    try:
        generate(settings.data_dir, scale=SCALE, seed=settings.seed)
        get_loader(settings).load(settings.data_dir)
        ensure_compiled(DbtProject.from_settings(settings))
        airflow = LocalAirflow(
            home_dir=root / "airflow",
            dags_folder=prepare_dags_folder(root / "dags"),
            settings=settings,
            api_port=free_port(),
            extra_env=pycache_env(state),
        )
        airflow.start()
        try:
            api = airflow.api()
            api.wait_for_dag("redshift_transformations")
            query, execute = _warehouse(settings)
            yield E2EStack(target, settings, airflow, api, query, execute)
        finally:
            airflow.stop()
    finally:
        if database is not None:
            database.drop()


def _warehouse(settings):
    if settings.target == "postgres":
        import psycopg

        from dataops.warehouses.postgres import PostgresSettings

        conninfo = settings.section(PostgresSettings).conninfo()

        def query(sql: str) -> list[tuple]:
            with psycopg.connect(conninfo) as conn:
                return conn.execute(sql).fetchall()

        def execute(sql: str) -> None:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(sql)

        return query, execute

    import duckdb

    def query(sql: str) -> list[tuple]:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            return con.execute(sql).fetchall()

    def execute(sql: str) -> None:
        with duckdb.connect(str(settings.warehouse_path)) as con:
            con.execute(sql)

    return query, execute
