"""The end-to-end stack: the embedded default (a local Airflow on SQLite, a
DuckDB warehouse), started once and shared by the tests that use it, with
the TICKIT DAGs and a synthetic DAG of 200 models.

The same DAG end to end on PostgreSQL, with Celery workers, is the services
stack's (tests/services/test_stack.py), so no second Airflow starts here.
"""

from __future__ import annotations

import concurrent.futures
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from e2e_support import (  # noqa: E402
    MANY_MODELS_DAG, SCALE, E2EStack, copy_project, many_models_project, prepare_dags_folder,
)


# The embedded stack's scheduler loops every quarter second when idle (a run's steps follow
# each other sooner: the bench's figures); on SQLite that costs it about 5 CPU-s a minute,
# against 1.6 at Airflow's default of a second. This stack idles most of the file's minutes,
# beside the suite's other files.
IDLE_SCHEDULER = {"AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "1"}


@pytest.fixture(scope="session")
def e2e_stack(tmp_path_factory, aws_endpoint) -> Iterator[E2EStack]:
    from dataops import paths
    from dataops.config import load_settings
    from dataops.dbt.manifest import ensure_compiled
    from dataops.dbt.project import DbtProject
    from dataops.local.harness import LocalAirflow
    from dataops.local.processes import free_port
    from dataops.tickit.generator import generate
    from dataops.tickit.loaders import get_loader

    root = tmp_path_factory.mktemp("e2e-duckdb")
    project_dir = root / "dbt"
    copy_project(paths.dbt_project_dir(), project_dir)
    state = root / "state"
    settings = load_settings(target="duckdb", state_dir=state, dbt_project_dir=project_dir, scale=SCALE, dbt_threads=4)
    # The warehouse is loaded while Airflow starts: only the runs need it.
    def load_tickit() -> None:
        generate(settings.data_dir, scale=SCALE, seed=settings.seed)
        get_loader(settings).load(settings.data_dir)

    dags_folder = prepare_dags_folder(root / "dags")
    loading = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="tickit-load")
    loaded = loading.submit(load_tickit)
    loading.shutdown(wait=False)
    # With dbt's docs site (the plugin's "dbt docs"), as `dataops up` compiles it.
    ensure_compiled(DbtProject.from_settings(settings), docs=True)
    # The 200-model DAG (test_e2e.py's last test) on the same Airflow: compiled while Airflow
    # starts, its DAG file written once its graph is there.
    def many_models() -> Path:
        from dataops.local.harness import write_dbt_dag

        project = many_models_project(root / "many-models", settings)
        write_dbt_dag(dags_folder, MANY_MODELS_DAG, project, publish="direct")
        return project

    many = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="many-models")
    many_compiled = many.submit(many_models)
    many.shutdown(wait=False)
    bundles, s3_env = _bundle_bucket(aws_endpoint)
    airflow = LocalAirflow(
        home_dir=root / "airflow",
        dags_folder=dags_folder,
        settings=settings,
        api_port=free_port(),
        extra_env={**s3_env, **IDLE_SCHEDULER},
        # Published versions are served too, beside the folder, from S3 (test_e2e.py's bundle tests).
        published_store=bundles.location,
    )
    airflow.start()
    try:
        api = airflow.api()
        api.wait_for_dag("redshift_transformations")
        loaded.result()
        yield E2EStack(settings.target, settings, airflow, api, *_duckdb(settings), bundle_store=bundles,
                       many_models_project=many_compiled.result())
    finally:
        airflow.stop()


@pytest.fixture(scope="session")
def many_models_run(e2e_stack: E2EStack) -> str:
    """The run of the 200-model DAG, triggered by the first test that asks for it: it runs beside that
    test's run and the next ones, and test_e2e.py's last test checks it."""
    e2e_stack.api.wait_for_dag(MANY_MODELS_DAG, timeout_s=180)
    return e2e_stack.api.trigger(MANY_MODELS_DAG)


def _bundle_bucket(endpoint: str):
    """A bundle store in a new bucket of the loopback S3 server, and the environment that reaches it."""
    import uuid

    import boto3

    from dataops.delivery.store import S3BundleStore

    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "DATAOPS_S3_ENDPOINT_URL": endpoint,
    }
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    bucket = f"bundles-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=bucket)
    return S3BundleStore(bucket, "analytics", client), env


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
