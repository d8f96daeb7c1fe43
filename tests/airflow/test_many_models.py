"""One DAG of a few hundred models, end to end on an embedded Airflow of its own.

Its stack holds only this DAG (no TICKIT data, no bundle store), so the file
runs beside the other end-to-end files instead of after them. Each model task
starts in the triggerer, whose work per task no longer grows with the DAG
(dataops.airflow.triggerer_workloads, loaded through the stack's
airflow_local_settings.py); test_triggerer_workloads.py shows the bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dataops.airflow.naming import PRODUCER_TASK_ID, SUMMARY_TASK_ID, task_ids_for
from dataops.dbt.graph import DbtGraph
from dataops.dbt.manifest import default_graph_path
from dataops.local.api import AirflowApi
from dataops.local.harness import LocalAirflow

pytestmark = pytest.mark.slow

DAG_ID = "many_models"
MODELS = 200


@dataclass
class ManyModelsStack:
    airflow: LocalAirflow
    api: AirflowApi
    project: Path


def _many_models_project(root: Path, settings) -> Path:
    """A synthetic project of MODELS models, compiled: cheap models (views over 200 rows, no
    data tests but the sources'), built straight into a DuckDB file of the project's own."""
    from dataops.dbt import synthetic
    from dataops.dbt.manifest import ensure_compiled
    from dataops.dbt.project import DbtProject

    project = synthetic.generate(root, MODELS, name="many").path
    for tests in (project / "models").glob("*/_*.yml"):
        if tests.name != "_sources.yml":
            tests.unlink()
    dbt_project = project / "dbt_project.yml"
    dbt_project.write_text(dbt_project.read_text().replace("+materialized: table", "+materialized: view"))
    profiles = project / "profiles.yml"
    own_file = json.dumps(str(root / "many.duckdb"))
    profiles.write_text(profiles.read_text().replace("\"{{ env_var('DATAOPS_DUCKDB_PATH') }}\"", own_file))
    ensure_compiled(DbtProject.from_settings(settings, project))
    return project


@pytest.fixture(scope="module")
def many_models_stack(tmp_path_factory) -> Iterator[ManyModelsStack]:
    from dataops.config import load_settings
    from dataops.local.harness import pycache_env, write_dbt_dag
    from dataops.local.processes import free_port

    root = tmp_path_factory.mktemp("many-models")
    settings = load_settings(target="duckdb", state_dir=root / "state")
    project = _many_models_project(root / "project", settings)
    write_dbt_dag(root / "dags", DAG_ID, project, publish="direct")
    airflow = LocalAirflow(
        home_dir=root / "airflow", dags_folder=root / "dags", settings=settings, api_port=free_port(),
        extra_env=pycache_env(settings.state_dir),
    )
    airflow.start()
    try:
        api = airflow.api()
        api.wait_for_dag(DAG_ID, timeout_s=180)
        yield ManyModelsStack(airflow, api, project)
    finally:
        airflow.stop()


def test_a_dag_of_hundreds_of_models_runs_whole_with_each_model_task_its_own_state(
    many_models_stack: ManyModelsStack,
):
    api = many_models_stack.api
    run_id = api.trigger(DAG_ID)
    info = api.wait_for_run(DAG_ID, run_id, timeout_s=600)
    tasks = api.tasks(DAG_ID, run_id)
    graph = DbtGraph.read(default_graph_path(many_models_stack.project))
    task_ids = task_ids_for(graph.nodes.values())

    models = [uid for uid, node in graph.nodes.items() if node.resource_type == "model"]
    assert len(models) == MODELS
    assert set(tasks) == set(task_ids.values()) | {PRODUCER_TASK_ID, SUMMARY_TASK_ID}
    assert {t: tasks[t].state for t in tasks if tasks[t].state != "success"} == {}, info.state
    assert info.state == "success"
    # Each ended with its own node's outcome, recorded by its trigger.
    for uid in models[:: MODELS // 6]:
        outcome = api.xcom(DAG_ID, run_id, task_ids[uid], "dbt_outcome")
        assert outcome["state"] == "success" and outcome["finished_at"], (uid, outcome)
    triggerer_log = many_models_stack.airflow.log_file.read_text(errors="replace")
    assert "dataops: the triggerer's workloads of start_from_trigger tasks carry their own task" in triggerer_log
