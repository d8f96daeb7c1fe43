"""The factory on a project that is not TICKIT: seeds, views and tables in
several folders, tested sources, tags, compiled by real dbt."""

from __future__ import annotations

import pytest

from dataops import paths
from dataops.airflow.factory import DbtDag
from dataops.dbt.manifest import compile_project
from dataops.dbt.profile import DbtProfile
from dataops.dbt.project import DbtProject
from dataops.dbt.synthetic import generate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    root = tmp_path_factory.mktemp("other")
    project = generate(root / "project", 20)
    dbt = DbtProject(
        root / "project",
        paths.repo_root() / ".venv-dbt" / "bin" / "dbt",
        DbtProfile(root / "project"),
        env={"DATAOPS_DUCKDB_PATH": str(root / "warehouse.duckdb")},
    )
    return project, compile_project(dbt)


def test_every_kind_of_node_becomes_a_task_with_its_tests(compiled):
    project, result = compiled
    graph = result.graph
    kinds = {node.resource_type for node in graph.nodes.values()}
    assert kinds == {"seed", "model", "source"}
    materialized = {graph.nodes[uid].materialized for uid in graph.nodes if uid.startswith("model.")}
    assert {"view", "table"} <= materialized
    folders = {graph.nodes[uid].path.split("/")[1] for uid in graph.nodes if uid.startswith("model.")}
    assert folders == {"staging", "intermediate", "marts"}
    tested_sources = [uid for uid, node in graph.nodes.items() if node.resource_type == "source"]
    assert tested_sources and all(graph.nodes[uid].tests for uid in tested_sources)

    dag = DbtDag(dag_id="other", project_dir=project.path, schedule=None)
    node_tasks = [t for t in dag.tasks if t.task_id not in ("dbt_build", "dbt_done")]
    assert len(node_tasks) == len(graph.nodes)
    assert sum(1 for uid in graph.nodes if uid.startswith("model.")) == 20
    # Dependencies come from the manifest: every model's task waits on its parents' tasks.
    by_uid = {t.unique_id: t for t in node_tasks}
    for uid, node in graph.nodes.items():
        parents = {by_uid[d].task_id for d in node.depends_on if d in by_uid}
        assert parents <= by_uid[uid].upstream_task_ids


def test_a_dag_per_folder_or_tag(compiled):
    project, result = compiled
    marts = DbtDag(dag_id="marts", project_dir=project.path, select=["path:models/marts"], schedule=None)
    mart_ids = {uid for uid, node in result.graph.nodes.items() if node.path.startswith("models/marts/")}
    assert {t.unique_id for t in marts.tasks if hasattr(t, "unique_id")} == mart_ids
    daily = DbtDag(dag_id="daily", project_dir=project.path, select=["tag:daily"], schedule="@daily")
    tagged = {uid for uid, node in result.graph.nodes.items() if "daily" in node.tags}
    assert tagged and {t.unique_id for t in daily.tasks if hasattr(t, "unique_id")} == tagged
